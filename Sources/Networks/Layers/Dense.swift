import MatrixKernels

/// Fully connected layer: `y = x · Wᵀ + b`, with `W` stored `[out, in]` row-major.
final class Dense: Layer {
    let name: String
    let inputCount: Int
    let outputCount: Int
    let weight: Parameter
    let bias: Parameter?
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    private var input: UnsafePointer<Float>?

    init(name: String, inputs: Int, outputs: Int, bias hasBias: Bool = true) {
        self.name = name
        inputCount = inputs
        outputCount = outputs
        weight = Parameter(name: name + ".weight", kind: .weight, shape: [outputs, inputs], fanIn: inputs, fanOut: outputs)
        bias = hasBias ? Parameter(name: name + ".bias", kind: .bias, shape: [outputs], fanIn: inputs, fanOut: outputs) : nil
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard input.count == inputCount else {
            throw NetworkError("\(name): expects \(inputCount) inputs, got \(input) = \(input.count)")
        }
        return FeatureShape(channels: outputCount)
    }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        ensureCapacity(&output, batchCapacity * outputCount)
        ensureCapacity(&inputGradient, batchCapacity * inputCount)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        self.input = input
        let y = output!.pointer
        gemm(transA: .none, transB: .transposed, m: count, n: outputCount, k: inputCount,
             a: input, lda: inputCount, b: weight.value.pointer, ldb: inputCount, beta: 0, c: y, ldc: outputCount)
        if let bias {
            addBias(y, rows: count, columns: outputCount, ld: outputCount, bias: bias.value.pointer, relu: false)
        }
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        // dW = dYᵀ · X   ([out, N] · [N, in])
        gemm(transA: .transposed, transB: .none, m: outputCount, n: inputCount, k: count,
             a: outputGradient, lda: outputCount, b: input, ldb: inputCount, beta: 0,
             c: weight.gradient.pointer, ldc: inputCount)
        weight.applyMaskToGradient()
        if let bias {
            // Column sums in a fixed row order: deterministic whatever the threads.
            columnSums(outputGradient, rows: count, columns: outputCount, ld: outputCount, into: bias.gradient.pointer)
        }
        guard needsInputGradient else { return nil }
        // dX = dY · W   ([N, out] · [out, in])
        let dx = inputGradient!.pointer
        gemm(transA: .none, transB: .none, m: count, n: inputCount, k: outputCount,
             a: outputGradient, lda: outputCount, b: weight.value.pointer, ldb: inputCount, beta: 0,
             c: dx, ldc: inputCount)
        return UnsafePointer(dx)
    }
}
