import Datasets

/// A feed-forward classifier: a chain of layers (residual blocks count as
/// one) ending in logits, trained with softmax cross-entropy.
///
/// The network is the single owner of its tensors. Everything the pruning
/// module needs is here, by stable name: the prunable tensors with their
/// masks, gradients on any batch without an optimizer step, and snapshots
/// to rewind to.
///
/// ```swift
/// let network = try ModelRegistry.make("lenet-300-100", seed: 1)
/// let loss = network.computeGradients(on: batch)
/// for tensor in network.prunableTensors { tensor.withGradients { ... } }
/// ```
public final class Network {
    /// Model name from the registry (e.g. `lenet-300-100`).
    public let name: String
    /// Shape of one input example.
    public let inputShape: FeatureShape
    /// Number of output classes (logits per example).
    public let classCount: Int
    /// Every tensor (trainable and running statistics), in a fixed order.
    public let parameters: [Parameter]
    let layers: [Layer]
    private let loss: SoftmaxCrossEntropy
    /// Index of the first layer with tensors: no layer before it needs an
    /// input gradient, so backward stops computing them there.
    private let firstLayerWithParameters: Int
    private var batchCapacity = 0
    private var lastLogits: UnsafePointer<Float>?

    /// Dense or sparse products for the pruned weights (`Execution.processDefault`
    /// at creation). Both give the same bits; only the speed differs.
    public var execution: Execution = .auto {
        didSet { propagateExecution() }
    }

    private func propagateExecution() {
        for tensor in parameters where tensor.isPrunable { tensor.execution = execution }
    }

    /// Builds a network and checks that the layer shapes chain up to `classCount` logits.
    init(name: String, inputShape: FeatureShape, classCount: Int, layers: [Layer]) throws {
        self.name = name
        self.inputShape = inputShape
        self.classCount = classCount
        self.layers = layers
        var shape = inputShape
        for layer in layers { shape = try layer.outputShape(for: shape) }
        guard shape.count == classCount else {
            throw NetworkError("\(name): produces \(shape) outputs per example, expected \(classCount) logits")
        }
        parameters = layers.flatMap(\.parameters)
        firstLayerWithParameters = layers.firstIndex { !$0.parameters.isEmpty } ?? layers.count
        let names = parameters.map(\.name)
        guard Set(names).count == names.count else { throw NetworkError("\(name): duplicate tensor names") }
        loss = SoftmaxCrossEntropy(classes: classCount)
        execution = Execution.processDefault
        propagateExecution() // observers do not run in init
    }

    /// Dense and convolution weights, the tensors that carry masks.
    public var prunableTensors: [Parameter] { parameters.filter(\.isPrunable) }

    /// Tensors the optimizer updates.
    public var trainableParameters: [Parameter] { parameters.filter(\.isTrainable) }

    /// The tensor with this name, if any.
    public func parameter(named name: String) -> Parameter? { parameters.first { $0.name == name } }

    /// Weights and biases (and batch-norm scales and shifts), as papers count
    /// them: running statistics are state, not parameters.
    public var parameterCount: Int { trainableParameters.reduce(0) { $0 + $1.count } }

    /// Prunable weights still unmasked, over all prunable weights.
    public var density: Double {
        let tensors = prunableTensors
        let total = tensors.reduce(0) { $0 + $1.count }
        return total == 0 ? 1 : Double(tensors.reduce(0) { $0 + $1.unmaskedCount }) / Double(total)
    }

    /// Zeroes every masked weight (after editing values directly).
    public func applyMasks() { for tensor in prunableTensors { tensor.applyMask() } }

    /// Sizes every buffer for batches of up to `capacity` examples. Called
    /// implicitly; growing is the only time a pass allocates.
    public func prepare(batchCapacity capacity: Int) {
        guard capacity > batchCapacity else { return }
        var shape = inputShape
        for layer in layers {
            layer.prepare(inputShape: shape, batchCapacity: capacity)
            shape = try! layer.outputShape(for: shape)
        }
        loss.prepare(batchCapacity: capacity)
        batchCapacity = capacity
    }

    /// Runs the forward pass on `count` examples and returns the logits
    /// (`count × classCount`, valid until the next pass).
    public func forward(_ inputs: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        prepare(batchCapacity: count)
        var x = inputs
        for layer in layers { x = layer.forward(x, count: count, mode: mode) }
        lastLogits = x
        return x
    }

    /// Back-propagates `logitGradient` through the last forward pass, setting
    /// every trainable tensor's gradient (zero at masked entries).
    public func backward(logitGradient: UnsafePointer<Float>, count: Int) {
        var g: UnsafePointer<Float>? = logitGradient
        // An index loop: `enumerated().reversed()` would allocate an array every step.
        for index in stride(from: layers.count - 1, through: 0, by: -1) {
            // Below the first layer with tensors (LeNet's first Dense sits
            // behind a Flatten) input gradients feed nothing: skipping that
            // GEMM saves 28 of LeNet-300-100's 96 MFLOP per batch of 60.
            g = layers[index].backward(g!, count: count, needsInputGradient: index > firstLayerWithParameters)
            if index <= firstLayerWithParameters { break }
        }
    }

    /// Forward, loss and backward on `count` examples, without an optimizer
    /// step: afterwards every trainable tensor holds ∂L/∂w of the mean loss.
    ///
    /// - Returns: the mean loss and the number of correct predictions.
    @discardableResult
    public func computeGradients(inputs: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int,
                                 mode: Mode = .training) -> (loss: Double, correct: Int) {
        let logits = forward(inputs, count: count, mode: mode)
        let result = loss.evaluate(logits: logits, labels: labels, count: count, computeGradient: true)
        backward(logitGradient: loss.gradientPointer, count: count)
        return result
    }

    /// `computeGradients` on a minibatch from a `BatchIterator`.
    @discardableResult
    public func computeGradients(on batch: Batch, mode: Mode = .training) -> (loss: Double, correct: Int) {
        batch.inputs.withUnsafeBufferPointer { inputs in
            batch.labels.withUnsafeBufferPointer { labels in
                computeGradients(inputs: inputs.baseAddress!, labels: labels.baseAddress!, count: batch.count, mode: mode)
            }
        }
    }

    /// Loss and correct predictions on a batch, without gradients.
    public func evaluate(on batch: Batch, mode: Mode = .evaluation) -> (loss: Double, correct: Int) {
        batch.inputs.withUnsafeBufferPointer { inputs in
            batch.labels.withUnsafeBufferPointer { labels in
                let logits = forward(inputs.baseAddress!, count: batch.count, mode: mode)
                return loss.evaluate(logits: logits, labels: labels.baseAddress!, count: batch.count, computeGradient: false)
            }
        }
    }

    /// Gradients of `sum(outputs)` with respect to every tensor for a given
    /// input (no labels, no softmax): what SynFlow needs, fed an all-ones
    /// input with the weights replaced by their absolute values.
    public func computeOutputSumGradients(inputs: [Float], count: Int, mode: Mode = .evaluation) -> Double {
        precondition(inputs.count >= count * inputShape.count, "inputs hold fewer than \(count) examples")
        return inputs.withUnsafeBufferPointer { x in
            let logits = forward(x.baseAddress!, count: count, mode: mode)
            var total = 0.0
            for i in 0..<(count * classCount) { total += Double(logits[i]) }
            let ones = [Float](repeating: 1, count: count * classCount)
            ones.withUnsafeBufferPointer { backward(logitGradient: $0.baseAddress!, count: count) }
            return total
        }
    }

    /// Runs `body` with every ReLU's on/off pattern and every max pool's
    /// chosen positions fixed at those of the last forward pass (on the
    /// same batch; passes inside `body` must use the same number of examples).
    ///
    /// Inside, the network is the polynomial that agrees with it on that
    /// linear region, so gradients are smooth in the weights and finite
    /// differences of them give the Hessian-vector product automatic
    /// differentiation would (ReLU'' = 0), instead of jumping wherever a
    /// perturbation flips a unit. GraSP's finite differences use this.
    public func withFrozenActivationPatterns<R>(_ body: () throws -> R) rethrows -> R {
        let patterned = Network.patternLayers(layers)
        for layer in patterned { layer.freezePattern() }
        defer { for layer in patterned { layer.thawPattern() } }
        return try body()
    }

    private static func patternLayers(_ layers: [Layer]) -> [ActivationPatternLayer] {
        layers.flatMap { layer -> [ActivationPatternLayer] in
            var found: [ActivationPatternLayer] = []
            if let residual = layer as? Residual { found += patternLayers(residual.main + residual.shortcut) }
            if let patterned = layer as? ActivationPatternLayer { found.append(patterned) }
            return found
        }
    }

    /// The values of every tensor (and every mask), to rewind to later.
    public func snapshot() -> NetworkSnapshot {
        NetworkSnapshot(
            values: Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.values) }),
            masks: Dictionary(uniqueKeysWithValues: prunableTensors.map { ($0.name, $0.mask!) }))
    }

    /// Restores tensor values from `snapshot` (all of them, or the `only`
    /// names), keeping the *current* masks unless `includingMasks`: rewinding
    /// a pruned network to its initial weights keeps the pruned entries at zero.
    public func restore(_ snapshot: NetworkSnapshot, includingMasks: Bool = false, only names: Set<String>? = nil) throws {
        for tensor in parameters where names?.contains(tensor.name) ?? true {
            guard let values = snapshot.values[tensor.name], values.count == tensor.count else {
                throw NetworkError("snapshot has no tensor \(tensor.name) of \(tensor.count) values")
            }
            if includingMasks, tensor.isPrunable, let mask = snapshot.masks[tensor.name] {
                guard mask.count == tensor.count else { throw NetworkError("snapshot mask \(tensor.name) has the wrong size") }
                tensor.mask = mask
            }
            tensor.values = values
        }
    }
}

/// Tensor values and masks by name, detached from any network.
public struct NetworkSnapshot: Codable, Equatable, Sendable {
    public var values: [String: [Float]]
    public var masks: [String: [Float]]

    public init(values: [String: [Float]], masks: [String: [Float]]) {
        self.values = values
        self.masks = masks
    }
}
