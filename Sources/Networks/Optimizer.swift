import Foundation

/// Which update rule and its hyperparameters. Both rules follow PyTorch's
/// definitions (weight decay added to the gradient), so hyperparameters
/// from papers carry over unchanged.
public struct OptimizerConfiguration: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case sgd
        case adam
    }

    public var kind: Kind
    public var learningRate: Float
    /// SGD momentum μ (0: plain SGD).
    public var momentum: Float
    /// SGD: Nesterov momentum.
    public var nesterov: Bool
    /// L2 penalty coefficient added to every trainable tensor's gradient.
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    /// Stochastic gradient descent with optional (Nesterov) momentum.
    public static func sgd(learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                           weightDecay: Float = 0) -> OptimizerConfiguration {
        OptimizerConfiguration(kind: .sgd, learningRate: learningRate, momentum: momentum, nesterov: nesterov,
                               weightDecay: weightDecay, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    }

    /// Adam (Kingma & Ba 2015) with bias correction.
    public static func adam(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            weightDecay: Float = 0) -> OptimizerConfiguration {
        OptimizerConfiguration(kind: .adam, learningRate: learningRate, momentum: 0, nesterov: false,
                               weightDecay: weightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon)
    }
}

/// Applies update steps to a network's trainable tensors and owns their
/// per-tensor state (SGD velocity; Adam first and second moments).
///
/// After every step, masked weights and their state entries are set to
/// exactly 0, so a pruned weight cannot come back through momentum.
public final class Optimizer {
    public let configuration: OptimizerConfiguration
    /// Steps taken since creation or the last `reset()`.
    public private(set) var stepCount = 0
    private let tensors: [Parameter]
    /// State buffers per tensor: `[velocity]` for SGD with momentum,
    /// `[m, v]` for Adam, none for plain SGD.
    private var slots: [[FloatBuffer]]
    /// All ones, as long as the longest tensor: the mask of unprunable tensors.
    private let ones: FloatBuffer

    public init(_ configuration: OptimizerConfiguration, network: Network) {
        self.configuration = configuration
        tensors = network.trainableParameters
        let slotCount: Int
        switch configuration.kind {
        case .sgd: slotCount = configuration.momentum == 0 ? 0 : 1
        case .adam: slotCount = 2
        }
        slots = tensors.map { tensor in (0..<slotCount).map { _ in FloatBuffer(count: tensor.count) } }
        ones = FloatBuffer(count: tensors.map(\.count).max() ?? 0)
        ones.fill(1)
    }

    /// Names of the state slots, in storage order.
    var slotNames: [String] {
        switch configuration.kind {
        case .sgd: return configuration.momentum == 0 ? [] : ["velocity"]
        case .adam: return ["first-moment", "second-moment"]
        }
    }

    /// Zeroes all state (as a freshly created optimizer), e.g. between pruning rounds.
    public func reset() {
        stepCount = 0
        for tensorSlots in slots { for slot in tensorSlots { slot.fill(0) } }
    }

    /// One update of every trainable tensor from its current gradient.
    public func step(learningRate: Float) {
        stepCount += 1
        let c = configuration
        // Bias corrections in Double: β^t underflows gracefully and stays exact enough.
        let correction1 = Float(1 - pow(Double(c.beta1), Double(stepCount)))
        let correction2 = Float(1 - pow(Double(c.beta2), Double(stepCount)))
        for index in tensors.indices {
            let tensor = tensors[index]
            let w = tensor.value.pointer, g = tensor.gradient.pointer, n = tensor.count
            // Unprunable tensors use an all-ones mask, so there is one fused
            // loop per rule and masked entries (weight and state) become +0
            // in the same pass that updates the rest.
            let keep = UnsafePointer(tensor.maskBuffer?.pointer ?? ones.pointer)
            let decay = c.weightDecay
            switch c.kind {
            case .sgd where c.momentum == 0:
                for i in 0..<n {
                    let updated = w[i] - learningRate * (g[i] + decay * w[i])
                    w[i] = keep[i] == 0 ? 0 : updated
                }
            case .sgd:
                let velocity = slots[index][0].pointer, mu = c.momentum
                let nesterov = c.nesterov
                for i in 0..<n {
                    let d = g[i] + decay * w[i]
                    let v = mu * velocity[i] + d
                    // Nesterov: d + μv; classical: v. (LLVM unswitches the invariant test.)
                    let direction = nesterov ? d + mu * v : v
                    let updated = w[i] - learningRate * direction
                    velocity[i] = keep[i] == 0 ? 0 : v
                    w[i] = keep[i] == 0 ? 0 : updated
                }
            case .adam:
                let m1 = slots[index][0].pointer, m2 = slots[index][1].pointer
                let b1 = c.beta1, b2 = c.beta2, eps = c.epsilon
                let stepSize = learningRate / correction1, root2 = 1 / correction2.squareRoot()
                for i in 0..<n {
                    let d = g[i] + decay * w[i]
                    let m = b1 * m1[i] + (1 - b1) * d
                    let v = b2 * m2[i] + (1 - b2) * d * d
                    let updated = w[i] - stepSize * m / (v.squareRoot() * root2 + eps)
                    let kept = keep[i] != 0
                    m1[i] = kept ? m : 0
                    m2[i] = kept ? v : 0
                    w[i] = kept ? updated : 0
                }
            }
        }
    }

    /// The state as named tensors (`<slot>/<tensor name>`), for checkpoints.
    public func state() -> OptimizerState {
        var buffers: [String: [Float]] = [:]
        for (index, tensor) in tensors.enumerated() {
            for (slot, name) in zip(slots[index], slotNames) { buffers[name + "/" + tensor.name] = slot.array }
        }
        return OptimizerState(configuration: configuration, stepCount: stepCount, buffers: buffers)
    }

    /// Restores state saved by `state()` from an optimizer of the same configuration.
    public func restore(_ state: OptimizerState) throws {
        guard state.configuration == configuration else {
            throw NetworkError("optimizer state is for \(state.configuration.kind), not this \(configuration.kind) configuration")
        }
        for (index, tensor) in tensors.enumerated() {
            for (slot, name) in zip(slots[index], slotNames) {
                guard let values = state.buffers[name + "/" + tensor.name], values.count == slot.count else {
                    throw NetworkError("optimizer state lacks \(name) for \(tensor.name)")
                }
                slot.copy(from: values)
            }
        }
        stepCount = state.stepCount
    }
}

/// A detached copy of an optimizer's state.
public struct OptimizerState: Sendable, Codable, Equatable {
    public var configuration: OptimizerConfiguration
    public var stepCount: Int
    public var buffers: [String: [Float]]
}

/// Learning rate per step: a base rate, multiplied by `factor` at each
/// milestone epoch passed, with an optional linear warm-up over the first steps.
public struct LearningRateSchedule: Sendable, Codable, Hashable {
    public var milestones: [Int]
    public var factor: Float
    public var warmupSteps: Int

    public init(milestones: [Int] = [], factor: Float = 0.1, warmupSteps: Int = 0) {
        self.milestones = milestones
        self.factor = factor
        self.warmupSteps = warmupSteps
    }

    /// The rate for `globalStep` (0-based) in `epoch` (0-based), from `base`.
    public func rate(base: Float, epoch: Int, globalStep: Int) -> Float {
        var rate = base
        for milestone in milestones where epoch >= milestone { rate *= factor }
        if warmupSteps > 0, globalStep < warmupSteps {
            rate *= Float(globalStep + 1) / Float(warmupSteps)
        }
        return rate
    }
}
