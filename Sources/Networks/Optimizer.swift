import Foundation
import MatrixKernels

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
    /// Each tensor's `maskGeneration` when its masked state was last cleared.
    private var maskGenerations: [Int]

    public init(_ configuration: OptimizerConfiguration, network: Network) {
        self.configuration = configuration
        tensors = network.trainableParameters
        let slotCount: Int
        switch configuration.kind {
        case .sgd: slotCount = configuration.momentum == 0 ? 0 : 1
        case .adam: slotCount = 2
        }
        slots = tensors.map { tensor in (0..<slotCount).map { _ in FloatBuffer(count: tensor.count) } }
        maskGenerations = tensors.map(\.maskGeneration)
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
            let w = tensor.value.pointer, g = UnsafePointer(tensor.gradient.pointer)
            let slots = self.slots[index]
            if tensor.maskGeneration != maskGenerations[index] {
                // A new mask: clear the state of newly masked entries once,
                // which the sparse step below never visits (the dense step
                // would write +0 there anyway).
                maskGenerations[index] = tensor.maskGeneration
                tensor.withMask { mask in
                    guard let mask else { return }
                    for slot in slots { for i in 0..<tensor.count where mask[i] == 0 { slot.pointer[i] = 0 } }
                }
            }
            // Masked entries (weight and state) become +0 in the same pass
            // that updates the rest; an unmasked tensor skips the mask. With
            // a sparse weight gradient only the kept entries are visited (the
            // others are +0 already): one by one, which beats the vectorised
            // masked pass only when few are kept, as a sparse gradient's are.
            let sparse = tensor.usesSparseGradient
            let keep = sparse || tensor.maskIsFull ? nil : tensor.maskBuffer.map { UnsafePointer($0.pointer) }
            let update = TensorUpdate(configuration: c, w: w, g: g, keep: keep, kept: sparse ? tensor.keptRows : nil,
                                      first: slots.first?.pointer, second: slots.count > 1 ? slots[1].pointer : nil,
                                      count: tensor.count, learningRate: learningRate,
                                      stepSize: learningRate / correction1, root2: 1 / correction2.squareRoot())
            // Elementwise, so split over the matrix kernels' threads: the
            // step is bound by memory traffic (w, g and state), which two
            // cores move faster than one. Same bits for any thread count.
            let entries = sparse ? tensor.unmaskedCount : tensor.count
            WorkerPool.shared.perform(update, parts: WorkerPool.shared.chunkCount(of: entries, grain: 1 << 14))
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

// The update rules, explicitly vectorised: LLVM leaves the scalar loops
// scalar (it cannot prove the pointers distinct), and Adam's square root and
// division then cost as much as a third of the epoch. Each element gets the
// same IEEE operations in the vector body and the scalar tail, so results
// do not depend on where a tensor's length, or a thread's chunk, ends.
// `keep` is the mask, or nil when nothing is masked (no mask stream to read;
// the test of nil is loop-invariant and hoisted).
private typealias Lane = SIMD16<Float>

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lane {
    UnsafeRawPointer(p + i).loadUnaligned(as: Lane.self)
}

@inline(__always)
private func store(_ v: Lane, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lane.self)
}

/// One tensor's update rule over a chunk of its entries per part.
private struct TensorUpdate: ParallelWork {
    let configuration: OptimizerConfiguration
    let w: UnsafeMutablePointer<Float>
    let g: UnsafePointer<Float>
    let keep: UnsafePointer<Float>?
    /// On the sparse path, the entries to update (and no others).
    let kept: CompressedRows?
    /// SGD velocity, or Adam's first moment; Adam's second moment.
    let first: UnsafeMutablePointer<Float>?
    let second: UnsafeMutablePointer<Float>?
    let count: Int
    let learningRate: Float
    /// Adam: the bias-corrected step size and 1/√(1 − β₂ᵗ).
    let stepSize: Float
    let root2: Float

    func perform(part: Int, of parts: Int) {
        let c = configuration
        if let kept {
            let m1 = first, m2 = second
            switch c.kind {
            case .sgd where c.momentum == 0:
                forEachKept(kept, part: part, of: parts) { sgdElement($0, w: w, g: g, keep: nil, rate: learningRate,
                                                                     decay: c.weightDecay) }
            case .sgd:
                forEachKept(kept, part: part, of: parts) {
                    momentumElement($0, w: w, g: g, velocity: m1!, keep: nil, rate: learningRate, decay: c.weightDecay,
                                    momentum: c.momentum, nesterov: c.nesterov)
                }
            case .adam:
                forEachKept(kept, part: part, of: parts) {
                    adamElement($0, w: w, g: g, m1: m1!, m2: m2!, keep: nil, stepSize: stepSize, root2: root2,
                                decay: c.weightDecay, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon)
                }
            }
            return
        }
        let range = chunk(part, of: parts, count: count)
        switch c.kind {
        case .sgd where c.momentum == 0:
            sgdStep(w: w, g: g, keep: keep, range: range, rate: learningRate, decay: c.weightDecay)
        case .sgd:
            momentumStep(w: w, g: g, velocity: first!, keep: keep, range: range, rate: learningRate,
                         decay: c.weightDecay, momentum: c.momentum, nesterov: c.nesterov)
        case .adam:
            adamStep(w: w, g: g, m1: first!, m2: second!, keep: keep, range: range, stepSize: stepSize, root2: root2,
                     decay: c.weightDecay, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon)
        }
    }
}

/// Calls `body` with the flat index of each kept entry in part `part` of
/// `parts` (equal shares of the entries, in order).
@inline(__always)
private func forEachKept(_ kept: CompressedRows, part: Int, of parts: Int, _ body: (Int) -> Void) {
    let first = part * kept.keptCount / parts, last = (part + 1) * kept.keptCount / parts
    var r = 0
    while r < kept.rows && kept.rowStarts[r + 1] <= first { r += 1 }
    while r < kept.rows && kept.rowStarts[r] < last {
        let base = r * kept.columns
        for t in max(first, kept.rowStarts[r])..<min(last, kept.rowStarts[r + 1]) {
            body(base + Int(kept.columnIndices[t]))
        }
        r += 1
    }
}

/// `v` with the lanes whose mask entry is 0 set to +0.
@inline(__always)
private func masked(_ v: Lane, _ keep: UnsafePointer<Float>?, _ i: Int) -> Lane {
    guard let keep else { return v }
    return v.replacing(with: 0, where: load(keep, i) .== 0)
}

@inline(__always)
private func masked(_ v: Float, _ keep: UnsafePointer<Float>?, _ i: Int) -> Float {
    guard let keep else { return v }
    return keep[i] == 0 ? 0 : v
}

private func sgdStep(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, keep: UnsafePointer<Float>?,
                     range: Range<Int>, rate: Float, decay: Float) {
    var i = range.lowerBound
    while i + Lane.scalarCount <= range.upperBound {
        let wv = load(w, i)
        store(masked(wv - rate * (load(g, i) + decay * wv), keep, i), w, i)
        i += Lane.scalarCount
    }
    while i < range.upperBound {
        sgdElement(i, w: w, g: g, keep: keep, rate: rate, decay: decay)
        i += 1
    }
}

/// One entry of `sgdStep`: the vector body's arithmetic, on a scalar.
@inline(__always)
private func sgdElement(_ i: Int, w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, keep: UnsafePointer<Float>?,
                        rate: Float, decay: Float) {
    w[i] = masked(w[i] - rate * (g[i] + decay * w[i]), keep, i)
}

private func momentumStep(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, velocity: UnsafeMutablePointer<Float>,
                          keep: UnsafePointer<Float>?, range: Range<Int>, rate: Float, decay: Float, momentum mu: Float,
                          nesterov: Bool) {
    var i = range.lowerBound
    while i + Lane.scalarCount <= range.upperBound {
        let wv = load(w, i)
        let d = load(g, i) + decay * wv
        let v = mu * load(velocity, i) + d
        // Nesterov: d + μv; classical: v.
        let direction = nesterov ? d + mu * v : v
        store(masked(v, keep, i), velocity, i)
        store(masked(wv - rate * direction, keep, i), w, i)
        i += Lane.scalarCount
    }
    while i < range.upperBound {
        momentumElement(i, w: w, g: g, velocity: velocity, keep: keep, rate: rate, decay: decay, momentum: mu,
                        nesterov: nesterov)
        i += 1
    }
}

/// One entry of `momentumStep`.
@inline(__always)
private func momentumElement(_ i: Int, w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                             velocity: UnsafeMutablePointer<Float>, keep: UnsafePointer<Float>?, rate: Float,
                             decay: Float, momentum mu: Float, nesterov: Bool) {
    let d = g[i] + decay * w[i]
    let v = mu * velocity[i] + d
    let direction = nesterov ? d + mu * v : v
    let updated = w[i] - rate * direction
    velocity[i] = masked(v, keep, i)
    w[i] = masked(updated, keep, i)
}

private func adamStep(w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m1: UnsafeMutablePointer<Float>,
                      m2: UnsafeMutablePointer<Float>, keep: UnsafePointer<Float>?, range: Range<Int>, stepSize: Float,
                      root2: Float, decay: Float, beta1 b1: Float, beta2 b2: Float, epsilon eps: Float) {
    var i = range.lowerBound
    while i + Lane.scalarCount <= range.upperBound {
        let wv = load(w, i)
        let d = load(g, i) + decay * wv
        let m = b1 * load(m1, i) + (1 - b1) * d
        let v = b2 * load(m2, i) + (1 - b2) * d * d
        let updated = wv - stepSize * m / (v.squareRoot() * root2 + eps)
        store(masked(m, keep, i), m1, i)
        store(masked(v, keep, i), m2, i)
        store(masked(updated, keep, i), w, i)
        i += Lane.scalarCount
    }
    while i < range.upperBound {
        adamElement(i, w: w, g: g, m1: m1, m2: m2, keep: keep, stepSize: stepSize, root2: root2, decay: decay,
                    beta1: b1, beta2: b2, epsilon: eps)
        i += 1
    }
}

/// One entry of `adamStep`.
@inline(__always)
private func adamElement(_ i: Int, w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m1: UnsafeMutablePointer<Float>,
                         m2: UnsafeMutablePointer<Float>, keep: UnsafePointer<Float>?, stepSize: Float, root2: Float,
                         decay: Float, beta1 b1: Float, beta2 b2: Float, epsilon eps: Float) {
    let d = g[i] + decay * w[i]
    let m = b1 * m1[i] + (1 - b1) * d
    let v = b2 * m2[i] + (1 - b2) * d * d
    let updated = w[i] - stepSize * m / (v.squareRoot() * root2 + eps)
    m1[i] = masked(m, keep, i)
    m2[i] = masked(v, keep, i)
    w[i] = masked(updated, keep, i)
}
