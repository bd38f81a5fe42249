import MatrixKernels

/// 2-D convolution by im2col + GEMM over groups of examples.
///
/// A group is as many examples as make at least 256 output pixels (one
/// example from 16×16 up; 64 at 2×2, where a per-example product would be
/// 4 columns wide and stream all the weights for each example). Their
/// column matrices sit side by side, so the forward product and the input
/// gradient's product are one GEMM per group; every output element is still
/// the same sum over the same taps in the same order. The weight gradient
/// is a chain of one product per group (depth: the group's pixels), added
/// in group order.
///
/// Threads take whole groups in the forward pass and for the input
/// gradients, each with its own buffers and a one-thread GEMM pool. The
/// weight gradient's chain runs beside the input gradients on one thread
/// for large images, and before them with its GEMMs split over every thread
/// (they split dW itself) for small ones. Every number is computed exactly
/// as on one thread.
///
/// Weights are stored `[out, in, kh, kw]`, i.e. an `out × (in·kh·kw)` matrix
/// whose rows match the im2col row order.
///
/// On the sparse path (`Parameter.usesSparseProducts`) the same column
/// matrices and the same split over threads feed the sparse kernels instead
/// of the GEMMs: the products skip masked taps (vectorised along the output
/// pixels) and, at lower densities (`Parameter.usesSparseGradient`), dW is
/// computed at kept entries only. Same bits for finite
/// values; a batch (or output gradient) holding NaN or ∞ takes the GEMMs.
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
    /// Whether this call's products use the sparse kernels (set per pass).
    private var sparseForward = false, sparseBackward = false
    private var cachedGeometry: ConvolutionGeometry?
    /// Examples per group (see the type's documentation).
    private var groupSize = 1
    /// Output pixels a group should have at least.
    private static let minimumGroupPixels = 256

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
        groupSize = max(1, (Self.minimumGroupPixels + outShape.planeSize - 1) / outShape.planeSize)
        for lane in lanes { prepare(lane) }
    }

    /// Per-thread scratch: the group's column matrix and its gradient, the
    /// group's outputs or output gradients side by side, and a one-thread
    /// pool for the GEMMs run inside a parallel region.
    private final class Lane {
        let pool = WorkerPool(threadCount: 1)
        var columns: FloatBuffer?
        var columnGradient: FloatBuffer?
        var outputs: FloatBuffer?
    }

    private func prepare(_ lane: Lane) {
        let ld = groupLeadingDimension
        ensureCapacity(&lane.columns, taps * ld)
        ensureCapacity(&lane.columnGradient, taps * ld)
        ensureCapacity(&lane.outputs, groupSize > 1 ? outputChannels * ld : 0)
    }

    /// At least `count` lanes, sized for the prepared shape (grows only when
    /// the thread count does).
    private func lanes(_ count: Int) -> [Lane] {
        while lanes.count < count {
            let lane = Lane()
            prepare(lane)
            lanes.append(lane)
        }
        return lanes
    }

    /// The modules' description of this convolution on the prepared input.
    private var geometry: ConvolutionGeometry {
        ConvolutionGeometry(channels: inputChannels, height: inShape.height, width: inShape.width,
                            kernelHeight: kernel, kernelWidth: kernel, strideY: stride, strideX: stride,
                            paddingY: padding, paddingX: padding)
    }

    /// The examples of group `group` in a batch of `count`.
    private func examples(ofGroup group: Int, count: Int) -> Range<Int> {
        (group * groupSize)..<min(count, (group + 1) * groupSize)
    }

    private func groupCount(_ count: Int) -> Int { (count + groupSize - 1) / groupSize }

    /// Distance between rows of a group's side-by-side matrices.
    /// How far apart the rows of a group's column matrix (and its gathered
    /// outputs) lie: the group's pixels, moved off multiples of 64 floats.
    /// At such strides a GEMM's rows fall into the same L1 sets, so it packs
    /// the matrix instead of reading it in place (`GEMMPlan.canReadInPlace`):
    /// 32×32 and 16×16 images (1024, 256 pixels) cost a copy per forward
    /// product without the padding. The padding columns are never read.
    private var groupLeadingDimension: Int {
        let pixels = groupSize * outShape.planeSize
        return pixels % 64 == 0 ? pixels + 16 : pixels
    }

    /// The column matrices of `examples` side by side (rows
    /// `groupLeadingDimension` apart), or a single pointwise example's input,
    /// which is its own column matrix; with the leading dimension to use.
    /// With `sparse`, the rows of taps no kept weight uses are left unwritten:
    /// the sparse kernels never read them.
    private func columnMatrix(_ input: UnsafePointer<Float>, examples: Range<Int>, lane: Lane,
                              sparse: Bool) -> (UnsafePointer<Float>, Int) {
        if isPointwise && groupSize == 1 { return (input + examples.lowerBound * inShape.count, outShape.planeSize) }
        let ld = groupLeadingDimension, columns = lane.columns!.pointer
        let kept = sparse ? weight.keptRows : nil
        for (slot, n) in examples.enumerated() {
            im2col(input + n * inShape.count, geometry: cachedGeometry!, into: columns + slot * outShape.planeSize,
                   leadingDimension: ld, usedBy: kept)
        }
        return (UnsafePointer(columns), ld)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        self.input = input
        sparseForward = weight.usesSparseProducts && allFinite(input, count: count * inShape.count)
        if sparseForward { _ = weight.keptRows } // built here, not by two threads at once
        let parts = max(1, min(groupCount(count), WorkerPool.shared.threadCount))
        WorkerPool.shared.perform(ForwardGroups(layer: self, input: input, count: count, lanes: lanes(parts)), parts: parts)
        return UnsafePointer(output!.pointer)
    }

    /// The forward pass over a share of the groups per part.
    private struct ForwardGroups: ParallelWork {
        let layer: Convolution
        let input: UnsafePointer<Float>
        let count: Int
        let lanes: [Lane]

        func perform(part: Int, of parts: Int) {
            let groups = layer.groupCount(count)
            for group in (part * groups / parts)..<((part + 1) * groups / parts) {
                layer.forward(input, examples: layer.examples(ofGroup: group, count: count), lane: lanes[part])
            }
        }
    }

    private func forward(_ input: UnsafePointer<Float>, examples: Range<Int>, lane: Lane) {
        let pixels = outShape.planeSize
        let (columns, ld) = columnMatrix(input, examples: examples, lane: lane, sparse: sparseForward)
        let first = output!.pointer + examples.lowerBound * outShape.count
        // One example writes its output in place; a group writes side by
        // side and is copied out per example.
        let product = groupSize == 1 ? first : lane.outputs!.pointer
        if sparseForward {
            sparseMultiply(weight.keptRows, values: weight.value.pointer, b: columns, ldb: ld, n: examples.count * pixels,
                           c: product, ldc: groupSize == 1 ? pixels : ld, pool: lane.pool)
        } else {
            gemm(m: outputChannels, n: examples.count * pixels, k: taps, a: weight.value.pointer, lda: taps,
                 b: columns, ldb: ld, beta: 0, c: product, ldc: groupSize == 1 ? pixels : ld, pool: lane.pool)
        }
        let b = bias?.value.pointer
        for slot in 0..<examples.count {
            let y = first + slot * outShape.count
            for oc in 0..<outputChannels {
                let line = y + oc * pixels
                if groupSize > 1 {
                    line.update(from: product + oc * ld + slot * pixels, count: pixels)
                }
                if let b {
                    let value = b[oc]
                    for p in 0..<pixels { line[p] += value }
                }
            }
        }
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        let threads = WorkerPool.shared.threadCount, groups = groupCount(count)
        let sparse = weight.usesSparseProducts
        sparseBackward = sparse && (!needsInputGradient || allFinite(outputGradient, count: count * outShape.count))
        if sparse { _ = weight.keptRows } // built here, not by two threads at once
        if threads > 1 && needsInputGradient && groupSize == 1 {
            // Large images: the per-example dW products cost about what the
            // input gradients do, so one thread runs the dW chain (examples
            // in order) beside the others sharing the input gradients.
            let parts = 1 + min(groups, threads - 1)
            let work = BackwardGroups(layer: self, input: input, outputGradient: outputGradient, count: count,
                                      lanes: lanes(parts), weightGradientInPartZero: true)
            WorkerPool.shared.perform(work, parts: parts)
        } else {
            // Small images: a group's dW product is one large GEMM (dW is
            // out × taps, the depth a whole group's pixels), which splits
            // dW itself over every thread (never the depth: same bits);
            // then the groups' input gradients are shared.
            accumulateWeightGradient(outputGradient, input: input, count: count, lane: lanes(1)[0], pool: .shared)
            if needsInputGradient {
                let parts = max(1, min(groups, threads))
                let work = BackwardGroups(layer: self, input: input, outputGradient: outputGradient, count: count,
                                          lanes: lanes(parts), weightGradientInPartZero: false)
                WorkerPool.shared.perform(work, parts: parts)
            }
        }
        if count == 0 { weight.gradient.pointer.update(repeating: 0, count: weight.count) }
        // The sparse gradient writes kept entries only; the others stay 0.
        if !weight.usesSparseGradient { weight.applyMaskToGradient() }
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

    /// Input gradients over a share of the groups per part; with
    /// `weightGradientInPartZero`, part 0 runs the dW chain instead and the
    /// other parts share the groups.
    private struct BackwardGroups: ParallelWork {
        let layer: Convolution
        let input: UnsafePointer<Float>
        let outputGradient: UnsafePointer<Float>
        let count: Int
        let lanes: [Lane]
        let weightGradientInPartZero: Bool

        func perform(part: Int, of parts: Int) {
            var share = part, shares = parts
            if weightGradientInPartZero {
                if part == 0 {
                    layer.accumulateWeightGradient(outputGradient, input: input, count: count, lane: lanes[0],
                                                   pool: lanes[0].pool)
                    return
                }
                share -= 1
                shares -= 1
            }
            let groups = layer.groupCount(count)
            for group in (share * groups / shares)..<((share + 1) * groups / shares) {
                layer.propagateInputGradient(outputGradient, examples: layer.examples(ofGroup: group, count: count),
                                             lane: lanes[part])
            }
        }
    }

    /// dW = Σ over groups, in order, of dY_g · col_gᵀ: one product per group
    /// with the group's examples side by side (k = the group's pixels), so a
    /// layer with 2×2 outputs reads and writes dW once per 64 examples, not
    /// once per example. A group is one example from 16×16 up. The sum's
    /// order depends on the shapes only, never on the threads.
    private func accumulateWeightGradient(_ outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                          count: Int, lane: Lane, pool: WorkerPool) {
        for group in 0..<groupCount(count) {
            let examples = examples(ofGroup: group, count: count)
            let (columns, ld) = columnMatrix(input, examples: examples, lane: lane, sparse: weight.usesSparseGradient)
            let (gradients, gradientLD) = outputGradients(outputGradient, examples: examples, lane: lane)
            if weight.usesSparseGradient {
                sparseGradient(weight.keptRows, a: gradients, aRowStride: gradientLD, aDepthStride: 1,
                               b: columns, bRowStride: ld, bDepthStride: 1, depth: examples.count * outShape.planeSize,
                               into: weight.gradient.pointer, accumulate: group > 0, pool: pool)
            } else {
                gemm(transA: .none, transB: .transposed, m: outputChannels, n: taps, k: examples.count * outShape.planeSize,
                     a: gradients, lda: gradientLD, b: columns, ldb: ld,
                     beta: group == 0 ? 0 : 1, c: weight.gradient.pointer, ldc: taps, pool: pool)
            }
        }
    }

    /// The output gradients of `examples` side by side (rows
    /// `groupLeadingDimension` apart, in the lane's buffer), or a single
    /// example's own; with the leading dimension to use.
    private func outputGradients(_ outputGradient: UnsafePointer<Float>, examples: Range<Int>,
                                 lane: Lane) -> (UnsafePointer<Float>, Int) {
        let pixels = outShape.planeSize
        if groupSize == 1 { return (outputGradient + examples.lowerBound * outShape.count, pixels) }
        let ld = groupLeadingDimension, gathered = lane.outputs!.pointer
        for n in examples {
            let slot = n - examples.lowerBound
            for oc in 0..<outputChannels {
                (gathered + oc * ld + slot * pixels).update(from: outputGradient + n * outShape.count + oc * pixels,
                                                            count: pixels)
            }
        }
        return (UnsafePointer(gathered), ld)
    }

    /// dX_n = col2im(Wᵀ · dY_n) for the examples of one group, with one GEMM
    /// over the group's output gradients side by side; a pointwise
    /// convolution's column matrix is dX_n itself.
    private func propagateInputGradient(_ outputGradient: UnsafePointer<Float>, examples: Range<Int>, lane: Lane) {
        let pixels = outShape.planeSize
        if groupSize == 1 {
            let n = examples.lowerBound
            let dx = inputGradient!.pointer + n * inShape.count
            let dcol = isPointwise ? dx : lane.columnGradient!.pointer
            multiplyByWeightsTransposed(outputGradient + n * outShape.count, ld: pixels, n: pixels, into: dcol,
                                        pool: lane.pool)
            if !isPointwise {
                col2im(dcol, geometry: cachedGeometry!, into: dx, usedBy: sparseBackward ? weight.keptRows : nil)
            }
            return
        }
        let (gathered, ld) = outputGradients(outputGradient, examples: examples, lane: lane)
        let dcol = lane.columnGradient!.pointer
        multiplyByWeightsTransposed(gathered, ld: ld, n: examples.count * pixels, into: dcol, pool: lane.pool)
        for n in examples {
            col2im(dcol + (n - examples.lowerBound) * pixels, geometry: cachedGeometry!,
                   into: inputGradient!.pointer + n * inShape.count, leadingDimension: ld,
                   usedBy: sparseBackward ? weight.keptRows : nil)
        }
    }

    /// dcol = Wᵀ · dY (`taps × n`, rows `ld` apart, as dY's), sparse or dense.
    private func multiplyByWeightsTransposed(_ outputGradient: UnsafePointer<Float>, ld: Int, n: Int,
                                             into dcol: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        if sparseBackward {
            sparseTransposedMultiply(weight.keptRows, values: weight.value.pointer, b: outputGradient, ldb: ld, n: n,
                                     c: dcol, ldc: ld, pool: pool)
        } else {
            gemm(transA: .transposed, transB: .none, m: taps, n: n, k: outputChannels,
                 a: weight.value.pointer, lda: taps, b: outputGradient, ldb: ld, beta: 0, c: dcol, ldc: ld, pool: pool)
        }
    }
}
