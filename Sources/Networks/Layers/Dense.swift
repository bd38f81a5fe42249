import MatrixKernels

/// Fully connected layer: `y = x · Wᵀ + b`, with `W` stored `[out, in]` row-major.
///
/// When the weights take the sparse path (`Parameter.usesSparseProducts`),
/// the products skip masked weights: the batch is transposed so the kernels
/// run along it (16 examples per vector); at lower densities
/// (`Parameter.usesSparseGradient`) dW is computed at kept entries only.
/// Same bits as the GEMMs for finite inputs; a batch holding NaN or ∞ goes
/// through the GEMMs, where a masked weight still spreads it.
final class Dense: Layer {
    let name: String
    let inputCount: Int
    let outputCount: Int
    let weight: Parameter
    let bias: Parameter?
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    private var input: UnsafePointer<Float>?
    /// The sparse path's transposed batch Xᵀ (kept for dW) and output
    /// gradient dYᵀ, rows `transposedStride` apart.
    private var transposedInput: FloatBuffer?
    private var transposedOutputGradient: FloatBuffer?
    private var transposedStride = 0
    /// Xᵀ of the last forward pass, or `nil` when it took the GEMM.
    private var inputTransposed: UnsafePointer<Float>?

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
        // Whole vectors of examples, so the kernels never read a partial one.
        transposedStride = (batchCapacity + 15) / 16 * 16
        ensureCapacity(&transposedInput, inputCount * transposedStride)
        ensureCapacity(&transposedOutputGradient, outputCount * transposedStride)
    }

    /// `x` (`count × columns`) transposed into `buffer`, if every value is
    /// finite (else `nil`: the caller uses the GEMM).
    private func transposedFinite(_ x: UnsafePointer<Float>, count: Int, columns: Int,
                                  into buffer: FloatBuffer) -> UnsafePointer<Float>? {
        guard allFinite(x, count: count * columns) else { return nil }
        transpose(x, rows: count, columns: columns, ld: columns, into: buffer.pointer, ldy: transposedStride)
        return UnsafePointer(buffer.pointer)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        self.input = input
        let y = output!.pointer
        inputTransposed = weight.usesSparseProducts
            ? transposedFinite(input, count: count, columns: inputCount, into: transposedInput!) : nil
        if let xT = inputTransposed {
            // Yᵀ into scratch (dYᵀ's buffer, free until backward), then one
            // blocked transpose: cheaper than scattering Y column by column.
            let yT = transposedOutputGradient!.pointer
            sparseMultiply(weight.keptRows, values: weight.value.pointer, b: xT, ldb: transposedStride, n: count,
                           readableColumns: transposedStride, c: yT, ldc: transposedStride)
            transpose(yT, rows: outputCount, columns: count, ld: transposedStride, into: y, ldy: outputCount)
        } else {
            gemm(transA: .none, transB: .transposed, m: count, n: outputCount, k: inputCount,
                 a: input, lda: inputCount, b: weight.value.pointer, ldb: inputCount, beta: 0, c: y, ldc: outputCount)
        }
        if let bias {
            addBias(y, rows: count, columns: outputCount, ld: outputCount, bias: bias.value.pointer, relu: false)
        }
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        let sparse = weight.usesSparseProducts
        // dW = dYᵀ · X   ([out, N] · [N, in])
        if weight.usesSparseGradient {
            // Kept entries only; the others stay 0 (see `Parameter.mask`).
            // From Xᵀ when the forward pass made it: its rows run along the batch, this product's depth.
            if let xT = inputTransposed {
                sparseGradient(weight.keptRows, a: outputGradient, aRowStride: 1, aDepthStride: outputCount,
                               b: xT, bRowStride: transposedStride, bDepthStride: 1, depth: count,
                               readableDepth: transposedStride, into: weight.gradient.pointer)
            } else {
                sparseGradient(weight.keptRows, a: outputGradient, aRowStride: 1, aDepthStride: outputCount,
                               b: input, bRowStride: 1, bDepthStride: inputCount, depth: count,
                               into: weight.gradient.pointer)
            }
        } else {
            gemm(transA: .transposed, transB: .none, m: outputCount, n: inputCount, k: count,
                 a: outputGradient, lda: outputCount, b: input, ldb: inputCount, beta: 0,
                 c: weight.gradient.pointer, ldc: inputCount)
            weight.applyMaskToGradient()
        }
        if let bias {
            // Column sums in a fixed row order: deterministic whatever the threads.
            columnSums(outputGradient, rows: count, columns: outputCount, ld: outputCount, into: bias.gradient.pointer)
        }
        guard needsInputGradient else { return nil }
        // dX = dY · W   ([N, out] · [out, in])
        let dx = inputGradient!.pointer
        if sparse, let dyT = transposedFinite(outputGradient, count: count, columns: outputCount,
                                                   into: transposedOutputGradient!) {
            // dXᵀ into Xᵀ's buffer (dW, its last use, is done), then transposed.
            let dxT = transposedInput!.pointer
            sparseTransposedMultiply(weight.keptRows, values: weight.value.pointer, b: dyT, ldb: transposedStride,
                                     n: count, readableColumns: transposedStride, c: dxT, ldc: transposedStride)
            transpose(dxT, rows: inputCount, columns: count, ld: transposedStride, into: dx, ldy: inputCount)
        } else {
            gemm(transA: .none, transB: .none, m: count, n: inputCount, k: outputCount,
                 a: outputGradient, lda: outputCount, b: weight.value.pointer, ldb: inputCount, beta: 0,
                 c: dx, ldc: inputCount)
        }
        return UnsafePointer(dx)
    }
}
