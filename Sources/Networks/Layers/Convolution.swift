import MatrixKernels

/// 2-D convolution by im2col + GEMM, one example at a time (the column
/// buffer of a whole batch would not fit in cache, nor comfortably in memory
/// for the larger models).
///
/// Threads work on whole examples: in the forward pass each takes a share
/// of the batch; in the backward pass one accumulates the weight gradient
/// over the examples in order while the others compute the examples' input
/// gradients. Each thread has its own column buffers and runs its GEMMs on
/// a one-thread pool, so every number is computed exactly as on one thread.
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
    /// Scratch of each thread working on this layer; lane 0 is the caller's.
    private var lanes: [Lane] = []
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
        for lane in lanes { lane.prepare(columns: isPointwise ? 0 : taps * outShape.planeSize) }
    }

    /// Column buffers and a one-thread GEMM pool for one thread.
    private final class Lane {
        let pool = WorkerPool(threadCount: 1)
        var columns: FloatBuffer?
        var columnGradient: FloatBuffer?

        func prepare(columns count: Int) {
            ensureCapacity(&columns, count)
            ensureCapacity(&columnGradient, count)
        }
    }

    /// At least `count` lanes, sized for the prepared shape (grows only when
    /// the thread count does).
    private func ensureLanes(_ count: Int) {
        while lanes.count < count {
            let lane = Lane()
            lane.prepare(columns: isPointwise ? 0 : taps * outShape.planeSize)
            lanes.append(lane)
        }
    }

    /// The column matrix of example `x` (the input itself for a pointwise convolution).
    private func columnMatrix(_ x: UnsafePointer<Float>, lane: Lane) -> UnsafePointer<Float> {
        if isPointwise { return x }
        im2col(x, geometry: cachedGeometry!, into: lane.columns!.pointer)
        return UnsafePointer(lane.columns!.pointer)
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
        let parts = max(1, min(count, WorkerPool.shared.threadCount))
        ensureLanes(parts)
        WorkerPool.shared.forEachPart(parts) { part in
            let lane = lanes[part]
            for n in (part * count / parts)..<((part + 1) * count / parts) {
                let y = output!.pointer + n * outShape.count
                let col = columnMatrix(input + n * inShape.count, lane: lane)
                gemm(m: outputChannels, n: pixels, k: taps, a: weight.value.pointer, lda: taps,
                     b: col, ldb: pixels, beta: 0, c: y, ldc: pixels, pool: lane.pool)
                if let bias {
                    let b = bias.value.pointer
                    for oc in 0..<outputChannels {
                        let line = y + oc * pixels, value = b[oc]
                        for p in 0..<pixels { line[p] += value }
                    }
                }
            }
        }
        return UnsafePointer(output!.pointer)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        // Part 0 accumulates dW over the examples in order (the sum's order
        // fixes its bits); parts 1… share the input gradients. On one thread
        // part 0 does both.
        let threads = WorkerPool.shared.threadCount
        let gradientParts = needsInputGradient ? max(1, min(count, threads - 1)) : 0
        ensureLanes(1 + gradientParts)
        let lanes = self.lanes
        if threads == 1 || gradientParts == 0 {
            // Nothing to run beside the dW chain: its GEMMs get every thread.
            accumulateWeightGradient(outputGradient, input: input, count: count, lane: lanes[0], pool: .shared)
            if needsInputGradient { propagateInputGradient(outputGradient, examples: 0..<count, lane: lanes[0]) }
        } else {
            WorkerPool.shared.forEachPart(1 + gradientParts) { part in
                if part == 0 {
                    accumulateWeightGradient(outputGradient, input: input, count: count, lane: lanes[0],
                                             pool: lanes[0].pool)
                } else {
                    let share = part - 1
                    propagateInputGradient(outputGradient, examples: (share * count / gradientParts)..<((share + 1) * count / gradientParts),
                                           lane: lanes[part])
                }
            }
        }
        if count == 0 { weight.gradient.pointer.update(repeating: 0, count: weight.count) }
        weight.applyMaskToGradient()
        if let bias {
            let pixels = outShape.planeSize
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

    /// dW = Σ_n dY_n · col_nᵀ, summed over the examples in order (its bits
    /// do not depend on how the rest of the backward pass is split).
    private func accumulateWeightGradient(_ outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                          count: Int, lane: Lane, pool: WorkerPool) {
        let pixels = outShape.planeSize
        for n in 0..<count {
            let col = columnMatrix(input + n * inShape.count, lane: lane)
            gemm(transA: .none, transB: .transposed, m: outputChannels, n: taps, k: pixels,
                 a: outputGradient + n * outShape.count, lda: pixels, b: col, ldb: pixels,
                 beta: n == 0 ? 0 : 1, c: weight.gradient.pointer, ldc: taps, pool: pool)
        }
    }

    /// dX_n = col2im(Wᵀ · dY_n) for each example; a pointwise convolution's
    /// column matrix is dX_n itself.
    private func propagateInputGradient(_ outputGradient: UnsafePointer<Float>, examples: Range<Int>, lane: Lane) {
        let pixels = outShape.planeSize
        for n in examples {
            let dx = inputGradient!.pointer + n * inShape.count
            let dcol = isPointwise ? dx : lane.columnGradient!.pointer
            gemm(transA: .transposed, transB: .none, m: taps, n: pixels, k: outputChannels,
                 a: weight.value.pointer, lda: taps, b: outputGradient + n * outShape.count, ldb: pixels,
                 beta: 0, c: dcol, ldc: pixels, pool: lane.pool)
            if !isPointwise { col2im(dcol, geometry: cachedGeometry!, into: dx) }
        }
    }
}
