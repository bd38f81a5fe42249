import MatrixKernels
/// Batch normalisation over the batch and spatial positions of each channel,
/// optionally followed by a ReLU in the same pass (`relu: true`).
///
/// Training mode normalises with the batch's mean and (biased) variance and
/// updates running averages (momentum 0.1, unbiased variance, as PyTorch);
/// evaluation mode uses the running averages. Statistics are summed in
/// `Double`, each channel in a fixed order (examples, then positions), so
/// they do not depend on the thread count.
///
/// The fused ReLU does the float operations of `BatchNorm` then `ReLU` as
/// separate layers, in the same order, so it gives the same bits; it saves
/// one pass over the activations forward and one backward (the mask is the
/// layer's own output, applied while reading ∂L/∂y).
final class BatchNorm: Layer, ActivationPatternLayer {
    let name: String
    let channels: Int
    let epsilon: Float
    let momentum: Float
    /// Whether `max(0, ·)` follows the normalisation (a fused `ReLU`).
    let appliesReLU: Bool
    let scale: Parameter
    let shift: Parameter
    let runningMean: Parameter
    let runningVariance: Parameter
    private var inShape = FeatureShape(channels: 0)
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    /// The input of the last forward pass: x̂ is recomputed from it (the same
    /// float operations, so the same bits) instead of being stored.
    private var input: UnsafePointer<Float>?
    /// The mean and 1/σ each channel was normalised with in the last forward pass.
    private var usedMean: FloatBuffer
    private var inverseStd: FloatBuffer
    private var lastMode = Mode.training
    /// The residual added (then ReLU) by the forward pass in flight, if any.
    private var residual: UnsafePointer<Float>?
    /// 1 where the fused ReLU was on when the pattern was frozen (`nil`: not frozen).
    private var frozenPattern: FloatBuffer?
    private var frozenCount = 0
    private var lastCount = 0

    init(name: String, channels: Int, relu: Bool = false, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        appliesReLU = relu
        scale = Parameter(name: name + ".scale", kind: .scale, shape: [channels])
        shift = Parameter(name: name + ".shift", kind: .shift, shape: [channels])
        runningMean = Parameter(name: name + ".running_mean", kind: .runningStatistic, shape: [channels])
        runningVariance = Parameter(name: name + ".running_variance", kind: .runningStatistic, shape: [channels])
        scale.value.fill(1)
        runningVariance.value.fill(1)
        usedMean = FloatBuffer(count: channels)
        inverseStd = FloatBuffer(count: channels)
    }

    var parameters: [Parameter] { [scale, shift, runningMean, runningVariance] }

    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        guard input.channels == channels else { throw NetworkError("\(name): expects \(channels) channels, got \(input)") }
        return input
    }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        inShape = inputShape
        ensureCapacity(&output, batchCapacity * inShape.count)
        ensureCapacity(&inputGradient, batchCapacity * inShape.count)
    }

    func freezePattern() {
        guard appliesReLU else { return }
        let pattern = FloatBuffer(count: max(lastCount * inShape.count, 1))
        let y = output!.pointer
        for i in 0..<(lastCount * inShape.count) { pattern.pointer[i] = y[i] > 0 ? 1 : 0 }
        frozenPattern = pattern
        frozenCount = lastCount
    }

    func thawPattern() { frozenPattern = nil }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        forward(input, count: count, mode: mode, addingThenReLU: nil)
    }

    /// The forward pass, then, given `residual`, `max(0, y + residual)` in
    /// the same pass: a residual block's sum and ReLU after its last batch
    /// norm (`Residual`), the same float operations as the separate loop. The
    /// result is then not this layer's own output, so its backward pass
    /// takes ∂L/∂(its own output), as without the fusion; only a layer
    /// without its own ReLU can do this.
    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode,
                 addingThenReLU residual: UnsafePointer<Float>?) -> UnsafePointer<Float> {
        precondition(residual == nil || !appliesReLU, "\(name): a residual sum follows the normalisation itself")
        self.residual = residual
        defer { self.residual = nil }
        if frozenPattern != nil {
            precondition(count == frozenCount, "\(name): a frozen pattern applies to the batch it was recorded on")
        }
        self.input = input
        lastMode = mode
        lastCount = count
        // Channels are independent (each sums over the batch in a fixed
        // order), so threads take whole channels: same bits on any count.
        performOverChannels(ChannelWork(layer: self, pass: .forward(input, mode), count: count))
        return UnsafePointer(output!.pointer)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        performOverChannels(ChannelWork(layer: self, pass: .backward(outputGradient, needsInputGradient), count: count))
        return needsInputGradient ? UnsafePointer(inputGradient!.pointer) : nil
    }

    /// The forward pass on `channels`: statistics for up to eight channels
    /// at a time (their sums are independent chains, so they overlap), then
    /// one normalising pass per channel.
    private func normalize(channels channelRange: Range<Int>, input: UnsafePointer<Float>, count: Int, mode: Mode) {
        let plane = inShape.planeSize
        let rm = runningMean.value.pointer, rv = runningVariance.value.pointer
        let means = usedMean.pointer, inv = inverseStd.pointer
        let m = count * plane
        var first = channelRange.lowerBound
        while first < channelRange.upperBound {
            let group = first..<min(channelRange.upperBound, first + ChannelLanes.scalarCount)
            if mode == .training {
                let lanes = ChannelLanes(group, plane: plane)
                let sum = sumOverChannels(input, lanes, count: count) { SIMD8<Double>($0) }
                let mu = sum / Double(max(m, 1))
                let squares = sumOverChannels(input, lanes, count: count) { x -> SIMD8<Double> in
                    let d = SIMD8<Double>(x) - mu
                    return d * d
                }
                let variance = squares / Double(max(m, 1))
                for (lane, c) in group.enumerated() {
                    let mean = Float(mu[lane])
                    means[c] = mean
                    inv[c] = Float(1 / (variance[lane] + Double(epsilon)).squareRoot())
                    let unbiased = m > 1 ? squares[lane] / Double(m - 1) : variance[lane]
                    rm[c] = (1 - momentum) * rm[c] + momentum * mean
                    rv[c] = (1 - momentum) * rv[c] + momentum * Float(unbiased)
                }
            } else {
                for c in group {
                    means[c] = rm[c]
                    inv[c] = 1 / (rv[c] + epsilon).squareRoot()
                }
            }
            for c in group { writeOutput(channel: c, input: input, count: count) }
            first = group.upperBound
        }
    }

    /// Σ over the batch and plane of `term(x)` for the channels of `lanes`,
    /// one per lane, each added in the order examples, positions.
    @inline(__always)
    private func sumOverChannels(_ x: UnsafePointer<Float>, _ lanes: ChannelLanes, count: Int,
                                 _ term: (SIMD8<Float>) -> SIMD8<Double>) -> SIMD8<Double> {
        var total = SIMD8<Double>()
        for n in 0..<count {
            lanes.forEachPosition(plane: inShape.planeSize) { block, p in
                let x = lanes.block(x + n * inShape.count, p, block)
                ChannelBlock.forEachColumn(block) { j in total += term(x[j]) }
            }
        }
        return total
    }

    /// y = γ·x̂ + β (then the fused ReLU) for one channel, x̂ = (x − μ)·(1/σ).
    private func writeOutput(channel c: Int, input: UnsafePointer<Float>, count: Int) {
        let plane = inShape.planeSize
        let mean = usedMean.pointer[c], invStd = inverseStd.pointer[c]
        let g = scale.value.pointer[c], b = shift.value.pointer[c]
        let relu = appliesReLU, pattern = frozenPattern?.pointer, residual = residual
        for n in 0..<count {
            let offset = n * inShape.count + c * plane
            let x = input + offset, y = output!.pointer + offset
            let keep = pattern.map { $0 + offset }, r = residual.map { $0 + offset }
            forEachVector(plane) { p, lanes in
                let h = (load(x, p, lanes) - Vector(repeating: mean)) * Vector(repeating: invStd)
                var v = Vector(repeating: g) * h + Vector(repeating: b)
                if let r {
                    v += load(r, p, lanes)
                    v.replace(with: 0, where: v .< 0)
                } else if let keep {
                    // Frozen: the unit is linear, on where it was on.
                    v.replace(with: 0, where: load(keep, p, lanes) .== 0)
                } else if relu {
                    // `< 0`, as ReLU: NaN passes, so a diverged run shows in its loss.
                    v.replace(with: 0, where: v .< 0)
                }
                store(v, y, p, lanes)
            }
        }
    }

    /// The backward pass on `channels`: Σdy and Σdy·x̂ for up to eight
    /// channels at a time, then ∂L/∂x one channel at a time. With the fused
    /// ReLU, dy is ∂L/∂y where the output was positive and 0 elsewhere.
    private func backpropagate(channels channelRange: Range<Int>, outputGradient: UnsafePointer<Float>, count: Int,
                               needsInputGradient: Bool) {
        let plane = inShape.planeSize
        let x = input!, pattern = frozenPattern.map { UnsafePointer($0.pointer) }
        let means = usedMean.pointer, inv = inverseStd.pointer
        let gamma = scale.value.pointer, beta = shift.value.pointer
        let dgamma = scale.gradient.pointer, dbeta = shift.gradient.pointer
        let relu = appliesReLU
        var first = channelRange.lowerBound
        while first < channelRange.upperBound {
            let group = first..<min(channelRange.upperBound, first + ChannelLanes.scalarCount)
            let lanes = ChannelLanes(group, plane: plane)
            var mean = SIMD8<Float>(), invStd = SIMD8<Float>(), g = SIMD8<Float>(), b = SIMD8<Float>()
            for lane in 0..<ChannelLanes.scalarCount {
                let c = min(group.lowerBound + lane, group.upperBound - 1)
                mean[lane] = means[c]
                invStd[lane] = inv[c]
                g[lane] = gamma[c]
                b[lane] = beta[c]
            }
            var sumDy = SIMD8<Double>(), sumDyXhat = SIMD8<Double>()
            for n in 0..<count {
                let offset = n * inShape.count
                lanes.forEachPosition(plane: plane) { width, p in
                    let dys = lanes.block(outputGradient + offset, p, width), xs = lanes.block(x + offset, p, width)
                    ChannelBlock.forEachColumn(width) { j in
                        var dy = dys[j]
                        let xhat = (xs[j] - mean) * invStd
                        if let pattern {
                            // Rare (GraSP's Hessian products): reads the block per column.
                            dy.replace(with: 0, where: lanes.block(pattern + offset, p, width)[j] .== 0)
                        } else if relu {
                            // The output γ·x̂ + β recomputed (same bits) instead of read back.
                            dy.replace(with: 0, where: .!(g * xhat + b .> 0))
                        }
                        let d = SIMD8<Double>(dy)
                        sumDy += d
                        sumDyXhat += d * SIMD8<Double>(xhat)
                    }
                }
            }
            for (lane, c) in group.enumerated() {
                dgamma[c] = Float(sumDyXhat[lane])
                dbeta[c] = Float(sumDy[lane])
                if needsInputGradient {
                    writeInputGradient(channel: c, outputGradient: outputGradient, count: count,
                                       sumDy: sumDy[lane], sumDyXhat: sumDyXhat[lane])
                }
            }
            first = group.upperBound
        }
    }

    /// ∂L/∂x for one channel.
    private func writeInputGradient(channel c: Int, outputGradient: UnsafePointer<Float>, count: Int,
                                    sumDy: Double, sumDyXhat: Double) {
        let plane = inShape.planeSize
        let gamma = scale.value.pointer[c], beta = shift.value.pointer[c]
        let k = gamma * inverseStd.pointer[c]
        let mean = usedMean.pointer[c], invStd = inverseStd.pointer[c]
        let m = Float(count * plane)
        let meanDy = Float(sumDy) / m, meanDyXhat = Float(sumDyXhat) / m
        let training = lastMode == .training, relu = appliesReLU, pattern = frozenPattern?.pointer
        for n in 0..<count {
            let offset = n * inShape.count + c * plane
            let x = input! + offset, dy = outputGradient + offset
            let dx = inputGradient!.pointer + offset
            let keep = pattern.map { $0 + offset }
            forEachVector(plane) { p, lanes in
                var g = load(dy, p, lanes)
                let xhat = (load(x, p, lanes) - Vector(repeating: mean)) * Vector(repeating: invStd)
                if let keep {
                    g.replace(with: 0, where: load(keep, p, lanes) .== 0)
                } else if relu {
                    g.replace(with: 0, where: .!(Vector(repeating: gamma) * xhat + Vector(repeating: beta) .> 0))
                }
                if training {
                    // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)): the batch
                    // statistics depend on every input of the channel.
                    let centered = g - Vector(repeating: meanDy) - xhat * Vector(repeating: meanDyXhat)
                    store(Vector(repeating: k) * centered, dx, p, lanes)
                } else {
                    store(Vector(repeating: k) * g, dx, p, lanes)
                }
            }
        }
    }

    /// Runs `work` on contiguous shares of the channels, one per thread.
    private func performOverChannels(_ work: ChannelWork) {
        WorkerPool.shared.perform(work, parts: max(1, min(channels, WorkerPool.shared.threadCount)))
    }

    /// One pass over a share of the channels per part.
    private struct ChannelWork: ParallelWork {
        enum Pass {
            case forward(UnsafePointer<Float>, Mode)
            case backward(UnsafePointer<Float>, Bool)
        }
        let layer: BatchNorm
        let pass: Pass
        let count: Int

        func perform(part: Int, of parts: Int) {
            let share = (part * layer.channels / parts)..<((part + 1) * layer.channels / parts)
            switch pass {
            case .forward(let input, let mode):
                layer.normalize(channels: share, input: input, count: count, mode: mode)
            case .backward(let outputGradient, let needsInputGradient):
                layer.backpropagate(channels: share, outputGradient: outputGradient, count: count,
                                    needsInputGradient: needsInputGradient)
            }
        }
    }
}

/// Up to eight channels of one example read side by side, one per lane: the
/// lanes of a short group repeat its last channel (computed, then ignored).
private struct ChannelLanes {
    static let scalarCount = 8
    private let offsets: SIMD8<Int>

    init(_ channels: Range<Int>, plane: Int) {
        var offsets = SIMD8<Int>()
        for lane in 0..<Self.scalarCount { offsets[lane] = min(channels.lowerBound + lane, channels.upperBound - 1) * plane }
        self.offsets = offsets
    }

    /// Calls `body(width, p)` for blocks of positions `p ..< p + width`
    /// covering `0..<plane` in order: 16 wide, then single positions.
    @inline(__always)
    func forEachPosition(plane: Int, _ body: (_ width: Int, _ p: Int) -> Void) {
        var p = 0
        while p + 16 <= plane { body(16, p); p += 16 }
        while p < plane { body(1, p); p += 1 }
    }

    /// Positions `p ..< p + width` (`width` from `forEachPosition`) of each
    /// lane's channel plane in the example at `example`. Each channel's
    /// positions are read as one vector (a cache line) rather than gathered
    /// per position: channel planes a power of two apart share cache sets,
    /// and eight to twenty-four interleaved streams of single reads thrashed L1.
    @inline(__always)
    func block(_ example: UnsafePointer<Float>, _ p: Int, _ width: Int) -> ChannelBlock {
        ChannelBlock(example + p, offsets, width: width)
    }
}

/// Up to 16 positions of eight channels, read channel by channel; `block[j]`
/// is position j across the channels.
private struct ChannelBlock {
    private var rows: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                       SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    @inline(__always)
    init(_ x: UnsafePointer<Float>, _ offsets: SIMD8<Int>, width: Int) {
        // A whole vector only where 16 positions exist (`forEachPosition`);
        // a single position reads lane 0 only.
        func row(_ lane: Int) -> SIMD16<Float> {
            if width == 16 { return UnsafeRawPointer(x + offsets[lane]).loadUnaligned(as: SIMD16<Float>.self) }
            var v = SIMD16<Float>()
            v[0] = x[offsets[lane]]
            return v
        }
        rows = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
    }

    /// Calls `body(j)` for `j` in `0..<width` in order, unrolled for a full
    /// block so that `block[j]` has a constant lane (register shuffles, not
    /// a round trip through the stack).
    @inline(__always)
    static func forEachColumn(_ width: Int, _ body: (Int) -> Void) {
        guard width == 16 else { return body(0) }
        body(0); body(1); body(2); body(3); body(4); body(5); body(6); body(7)
        body(8); body(9); body(10); body(11); body(12); body(13); body(14); body(15)
    }

    @inline(__always)
    subscript(j: Int) -> SIMD8<Float> {
        SIMD8(rows.0[j], rows.1[j], rows.2[j], rows.3[j], rows.4[j], rows.5[j], rows.6[j], rows.7[j])
    }
}

/// The elementwise passes' vector; a short tail goes through one too (its
/// unused lanes are zero and never stored), so every element is computed
/// by the same operations.
private typealias Vector = SIMD16<Float>

/// Calls `body(start, lanes)` for the vectors covering `0..<count`: `lanes`
/// is 16 except for a shorter last one.
@inline(__always)
private func forEachVector(_ count: Int, _ body: (_ start: Int, _ lanes: Int) -> Void) {
    var start = 0
    while start < count {
        body(start, min(Vector.scalarCount, count - start))
        start += Vector.scalarCount
    }
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ start: Int, _ lanes: Int) -> Vector {
    if lanes == Vector.scalarCount { return UnsafeRawPointer(p + start).loadUnaligned(as: Vector.self) }
    var v = Vector()
    for i in 0..<lanes { v[i] = p[start + i] }
    return v
}

@inline(__always)
private func load(_ p: UnsafeMutablePointer<Float>, _ start: Int, _ lanes: Int) -> Vector {
    load(UnsafePointer(p), start, lanes)
}

@inline(__always)
private func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ start: Int, _ lanes: Int) {
    if lanes == Vector.scalarCount { return UnsafeMutableRawPointer(p + start).storeBytes(of: v, as: Vector.self) }
    for i in 0..<lanes { p[start + i] = v[i] }
}
