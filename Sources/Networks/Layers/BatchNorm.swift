import MatrixKernels
/// Batch normalisation over the batch and spatial positions of each channel.
///
/// Training mode normalises with the batch's mean and (biased) variance and
/// updates running averages (momentum 0.1, unbiased variance, as PyTorch);
/// evaluation mode uses the running averages. Statistics are summed in
/// `Double` in a fixed order, so they do not depend on the thread count.
final class BatchNorm: Layer {
    let name: String
    let channels: Int
    let epsilon: Float
    let momentum: Float
    let scale: Parameter
    let shift: Parameter
    let runningMean: Parameter
    let runningVariance: Parameter
    private var inShape = FeatureShape(channels: 0)
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    /// x̂ of the last forward pass, reused by the backward pass.
    private var normalized: FloatBuffer?
    private var inverseStd: FloatBuffer
    private var lastMode = Mode.training

    init(name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        scale = Parameter(name: name + ".scale", kind: .scale, shape: [channels])
        shift = Parameter(name: name + ".shift", kind: .shift, shape: [channels])
        runningMean = Parameter(name: name + ".running_mean", kind: .runningStatistic, shape: [channels])
        runningVariance = Parameter(name: name + ".running_variance", kind: .runningStatistic, shape: [channels])
        scale.value.fill(1)
        runningVariance.value.fill(1)
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
        ensureCapacity(&normalized, batchCapacity * inShape.count)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        lastMode = mode
        // Channels are independent (each sums over the batch in a fixed
        // order), so threads take whole channels: same bits on any count.
        performOverChannels(ChannelWork(layer: self, pass: .forward(input, mode), count: count))
        return UnsafePointer(output!.pointer)
    }

    /// The forward pass on `channels`.
    private func normalize(channels channelRange: Range<Int>, input: UnsafePointer<Float>, count: Int, mode: Mode) {
        let plane = inShape.planeSize, stride = inShape.count
        let y = output!.pointer, xhat = normalized!.pointer, inv = inverseStd.pointer
        let gamma = scale.value.pointer, beta = shift.value.pointer
        let rm = runningMean.value.pointer, rv = runningVariance.value.pointer
        let m = count * plane
        for c in channelRange {
            var mean: Float, invStd: Float
            if mode == .training {
                var sum = 0.0
                for n in 0..<count {
                    let x = input + n * stride + c * plane
                    for p in 0..<plane { sum += Double(x[p]) }
                }
                let mu = sum / Double(max(m, 1))
                var squares = 0.0
                for n in 0..<count {
                    let x = input + n * stride + c * plane
                    for p in 0..<plane { let d = Double(x[p]) - mu; squares += d * d }
                }
                let variance = squares / Double(max(m, 1))
                mean = Float(mu)
                invStd = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = m > 1 ? squares / Double(m - 1) : variance
                rm[c] = (1 - momentum) * rm[c] + momentum * mean
                rv[c] = (1 - momentum) * rv[c] + momentum * Float(unbiased)
            } else {
                mean = rm[c]
                invStd = 1 / (rv[c] + epsilon).squareRoot()
            }
            inv[c] = invStd
            let g = gamma[c], b = beta[c]
            for n in 0..<count {
                let offset = n * stride + c * plane
                for p in 0..<plane {
                    let h = (input[offset + p] - mean) * invStd
                    xhat[offset + p] = h
                    y[offset + p] = g * h + b
                }
            }
        }
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        performOverChannels(ChannelWork(layer: self, pass: .backward(outputGradient, needsInputGradient), count: count))
        return needsInputGradient ? UnsafePointer(inputGradient!.pointer) : nil
    }

    /// The backward pass on `channels`.
    private func backpropagate(channels channelRange: Range<Int>, outputGradient: UnsafePointer<Float>, count: Int,
                               needsInputGradient: Bool) {
        let plane = inShape.planeSize, stride = inShape.count
        let xhat = normalized!.pointer, inv = inverseStd.pointer, dx = inputGradient!.pointer
        let gamma = scale.value.pointer, dgamma = scale.gradient.pointer, dbeta = shift.gradient.pointer
        let m = Float(count * plane)
        for c in channelRange {
            var sumDy = 0.0, sumDyXhat = 0.0
            for n in 0..<count {
                let offset = n * stride + c * plane
                for p in 0..<plane {
                    let dy = Double(outputGradient[offset + p])
                    sumDy += dy
                    sumDyXhat += dy * Double(xhat[offset + p])
                }
            }
            dgamma[c] = Float(sumDyXhat)
            dbeta[c] = Float(sumDy)
            guard needsInputGradient else { continue }
            let k = gamma[c] * inv[c]
            if lastMode == .training {
                // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)): the batch
                // statistics depend on every input of the channel.
                let meanDy = Float(sumDy) / m, meanDyXhat = Float(sumDyXhat) / m
                for n in 0..<count {
                    let offset = n * stride + c * plane
                    for p in 0..<plane {
                        dx[offset + p] = k * (outputGradient[offset + p] - meanDy - xhat[offset + p] * meanDyXhat)
                    }
                }
            } else {
                for n in 0..<count {
                    let offset = n * stride + c * plane
                    for p in 0..<plane { dx[offset + p] = k * outputGradient[offset + p] }
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
