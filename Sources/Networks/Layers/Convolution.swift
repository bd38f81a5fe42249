import MatrixKernels

/// 2-D convolution by im2col + GEMM, one example at a time (the column
/// buffer of a whole batch would not fit in cache, nor comfortably in memory
/// for the larger models).
///
/// Weights are stored `[out, in, kh, kw]`, i.e. an `out × (in·kh·kw)` matrix
/// whose rows match the im2col row order.
final class Convolution: Layer {
    let name: String
    let inputChannels: Int
    let outputChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let weight: Parameter
    let bias: Parameter?
    private var inShape = FeatureShape(channels: 0)
    private var outShape = FeatureShape(channels: 0)
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    private var columns: FloatBuffer?
    private var columnGradient: FloatBuffer?
    private var input: UnsafePointer<Float>?
    private var cachedGeometry: ConvolutionGeometry?

    init(name: String, inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias hasBias: Bool = true) {
        self.name = name
        inputChannels = inputs
        outputChannels = outputs
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let taps = inputs * kernel * kernel
        weight = Parameter(name: name + ".weight", kind: .weight, shape: [outputs, inputs, kernel, kernel],
                           fanIn: taps, fanOut: outputs * kernel * kernel)
        bias = hasBias ? Parameter(name: name + ".bias", kind: .bias, shape: [outputs], fanIn: taps, fanOut: outputs) : nil
    }

    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// A 1×1, stride-1, unpadded convolution reads its input directly as the column matrix.
    private var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
    private var taps: Int { inputChannels * kernel * kernel }

    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard input.channels == inputChannels else {
            throw NetworkError("\(name): expects \(inputChannels) channels, got \(input)")
        }
        let h = (input.height + 2 * padding - kernel) / stride + 1
        let w = (input.width + 2 * padding - kernel) / stride + 1
        guard h > 0, w > 0 else { throw NetworkError("\(name): input \(input) is smaller than the kernel") }
        return FeatureShape(channels: outputChannels, height: h, width: w)
    }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        inShape = inputShape
        outShape = try! outputShape(for: inputShape)
        ensureCapacity(&output, batchCapacity * outShape.count)
        ensureCapacity(&inputGradient, batchCapacity * inShape.count)
        cachedGeometry = geometry
        if !isPointwise {
            ensureCapacity(&columns, taps * outShape.planeSize)
            ensureCapacity(&columnGradient, taps * outShape.planeSize)
        }
    }

    /// The kernels' description of this convolution on the prepared input.
    private var geometry: ConvolutionGeometry {
        ConvolutionGeometry(channels: inputChannels, height: inShape.height, width: inShape.width,
                            kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride,
                            paddingY: padding, paddingX: padding)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        self.input = input
        let pixels = outShape.planeSize
        for n in 0..<count {
            let x = input + n * inShape.count
            let y = output!.pointer + n * outShape.count
            let col: UnsafePointer<Float>
            if isPointwise {
                col = x
            } else {
                im2col(x, geometry: cachedGeometry!, into: columns!.pointer)
                col = UnsafePointer(columns!.pointer)
            }
            gemm(m: outputChannels, n: pixels, k: taps, a: weight.value.pointer, lda: taps,
                 b: col, ldb: pixels, beta: 0, c: y, ldc: pixels)
            if let bias {
                let b = bias.value.pointer
                for oc in 0..<outputChannels {
                    let line = y + oc * pixels, value = b[oc]
                    for p in 0..<pixels { line[p] += value }
                }
            }
        }
        return UnsafePointer(output!.pointer)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        let pixels = outShape.planeSize
        let dw = weight.gradient.pointer
        for n in 0..<count {
            let x = input + n * inShape.count
            let dy = outputGradient + n * outShape.count
            let col: UnsafePointer<Float>
            if isPointwise {
                col = x
            } else {
                // Recomputed rather than kept from the forward pass: a batch of
                // column matrices would cost (in·k²)× the activations' memory.
                im2col(x, geometry: cachedGeometry!, into: columns!.pointer)
                col = UnsafePointer(columns!.pointer)
            }
            // dW += dY_n · col_nᵀ, summed over examples in order (deterministic).
            gemm(transA: .none, transB: .transposed, m: outputChannels, n: taps, k: pixels,
                 a: dy, lda: pixels, b: col, ldb: pixels, beta: n == 0 ? 0 : 1, c: dw, ldc: taps)
            if needsInputGradient {
                let dx = inputGradient!.pointer + n * inShape.count
                if isPointwise {
                    gemm(transA: .transposed, transB: .none, m: taps, n: pixels, k: outputChannels,
                         a: weight.value.pointer, lda: taps, b: dy, ldb: pixels, beta: 0, c: dx, ldc: pixels)
                } else {
                    let dcol = columnGradient!.pointer
                    gemm(transA: .transposed, transB: .none, m: taps, n: pixels, k: outputChannels,
                         a: weight.value.pointer, lda: taps, b: dy, ldb: pixels, beta: 0, c: dcol, ldc: pixels)
                    col2im(dcol, geometry: cachedGeometry!, into: dx)
                }
            }
        }
        if count == 0 { dw.update(repeating: 0, count: weight.count) }
        weight.applyMaskToGradient()
        if let bias {
            let db = bias.gradient.pointer
            db.update(repeating: 0, count: outputChannels)
            for n in 0..<count {
                // Per-example channel sums, added in example order: reproducible.
                rowSums(outputGradient + n * outShape.count, rows: outputChannels, columns: pixels, ld: pixels,
                        into: db, accumulate: true)
            }
        }
        return needsInputGradient ? UnsafePointer(inputGradient!.pointer) : nil
    }
}
