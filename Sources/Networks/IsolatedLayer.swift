import Randomness

/// One dense or convolution layer on its own, with a random batch and output
/// gradient, to time its training pass on either execution path
/// (`make bench-sparse`). The layer is the one the models use, so the timing
/// is of the code that trains.
///
/// ```swift
/// let fc1 = IsolatedLayer(denseInputs: 784, outputs: 300, batch: 128, computesInputGradient: false)
/// fc1.prune(toDensity: 1.0 / 64, seed: 1)
/// fc1.execution = .sparse
/// fc1.trainingPass()
/// ```
public final class IsolatedLayer {
    private let layer: Layer
    private let batch: Int
    private let computesInputGradient: Bool
    private let inputs: [Float]
    private let outputGradient: [Float]

    /// A `Dense` layer (with bias) fed `batch` examples.
    public convenience init(denseInputs inputs: Int, outputs: Int, batch: Int, computesInputGradient: Bool = true,
                            seed: UInt64 = 1) {
        self.init(Dense(name: "fc", inputs: inputs, outputs: outputs), input: FeatureShape(channels: inputs),
                  batch: batch, computesInputGradient: computesInputGradient, seed: seed)
    }

    /// A square `kernel × kernel` convolution (stride 1, no bias) on
    /// `size × size` images of `channels` channels.
    public convenience init(convolutionChannels channels: Int, outputs: Int, kernel: Int = 3, padding: Int = 1,
                            size: Int, batch: Int, seed: UInt64 = 1) {
        self.init(Convolution(name: "conv", inputs: channels, outputs: outputs, kernel: kernel, padding: padding,
                              bias: false),
                  input: FeatureShape(channels: channels, height: size, width: size), batch: batch,
                  computesInputGradient: true, seed: seed)
    }

    private init(_ layer: Layer, input: FeatureShape, batch: Int, computesInputGradient: Bool, seed: UInt64) {
        self.layer = layer
        self.batch = batch
        self.computesInputGradient = computesInputGradient
        var generator = SeededGenerator(seed: seed)
        let output = try! layer.outputShape(for: input)
        inputs = (0..<(batch * input.count)).map { _ in generator.nextUniform() }
        outputGradient = (0..<(batch * output.count)).map { _ in generator.nextUniform() - 0.5 }
        for tensor in layer.parameters {
            tensor.values = (0..<tensor.count).map { _ in generator.nextUniform() - 0.5 }
        }
        layer.prepare(inputShape: input, batchCapacity: batch)
    }

    private var weight: Parameter { layer.parameters[0] }

    /// Which path the layer takes (see `Execution`).
    public var execution: Execution {
        get { weight.execution }
        set { weight.execution = newValue }
    }

    /// Keeps a random `density` of the weights (a fresh mask).
    public func prune(toDensity density: Double, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        weight.mask = (0..<weight.count).map { _ in Double(generator.nextUniform()) < density ? 1 : 0 }
    }

    /// What `auto` does at the current mask: `dense`, `sparse`, or
    /// `products` (sparse forward and input-gradient products, the weight
    /// gradient by the GEMM).
    public var autoPath: String {
        let saved = execution
        defer { execution = saved }
        execution = .auto
        return weight.usesSparseGradient ? "sparse" : weight.usesSparseProducts ? "products" : "dense"
    }

    /// Multiply-adds of the dense path's products per training pass.
    public var denseMultiplyAdds: Int {
        let products = computesInputGradient ? 3 : 2
        return products * batch * weight.count * (layer is Convolution ? outputPixels : 1)
    }

    private var outputPixels: Int { outputGradient.count / batch / weight.shape[0] }

    /// One forward and backward pass (weight gradient, and the input
    /// gradient if asked for) over the batch.
    public func trainingPass() {
        inputs.withUnsafeBufferPointer { x in
            outputGradient.withUnsafeBufferPointer { dy in
                _ = layer.forward(x.baseAddress!, count: batch, mode: .training)
                _ = layer.backward(dy.baseAddress!, count: batch, needsInputGradient: computesInputGradient)
            }
        }
    }
}
