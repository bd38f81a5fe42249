import MatrixKernels
/// Max pooling over non-overlapping or strided square windows (no padding).
final class MaxPool: Layer, ActivationPatternLayer {
    let name: String
    let window: Int
    let stride: Int
    private var inShape = FeatureShape(channels: 0)
    private var outShape = FeatureShape(channels: 0)
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    /// Offset (within the example) of each output's maximum, for the backward pass.
    private var argmax: UnsafeMutablePointer<Int32>?
    private var argmaxCapacity = 0

    init(name: String, window: Int = 2, stride: Int? = nil) {
        self.name = name
        self.window = window
        self.stride = stride ?? window
    }

    deinit { argmax?.deallocate() }

    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        let h = (input.height - window) / stride + 1, w = (input.width - window) / stride + 1
        guard input.height >= window, input.width >= window else {
            throw NetworkError("\(name): input \(input) is smaller than the \(window)x\(window) window")
        }
        return FeatureShape(channels: input.channels, height: h, width: w)
    }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        inShape = inputShape
        outShape = try! outputShape(for: inputShape)
        ensureCapacity(&output, batchCapacity * outShape.count)
        ensureCapacity(&inputGradient, batchCapacity * inShape.count)
        let needed = batchCapacity * outShape.count
        if argmaxCapacity < needed {
            argmax?.deallocate()
            argmax = .allocate(capacity: max(needed, 1))
            argmaxCapacity = needed
        }
    }

    /// Whether `argmax` is frozen: the pass reads the recorded positions instead of searching.
    private var frozen = false
    private var frozenCount = 0
    private var lastCount = 0

    func freezePattern() { frozen = true; frozenCount = lastCount }
    func thawPattern() { frozen = false }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        lastCount = count
        if frozen {
            precondition(count == frozenCount, "\(name): a frozen pattern applies to the batch it was recorded on")
        }
        performOverExamples(ExampleWork(layer: self, pass: .forward(input), count: count))
        return UnsafePointer(output!.pointer)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needsInputGradient else { return nil }
        performOverExamples(ExampleWork(layer: self, pass: .backward(outputGradient), count: count))
        return UnsafePointer(inputGradient!.pointer)
    }

    /// The forward pass on examples `examples`.
    private func pool(_ input: UnsafePointer<Float>, examples: Range<Int>) {
        let y = output!.pointer, arg = argmax!
        if frozen {
            for n in examples {
                let base = n * outShape.count
                for i in 0..<outShape.count { y[base + i] = input[n * inShape.count + Int(arg[base + i])] }
            }
            return
        }
        let h = inShape.height, w = inShape.width, oh = outShape.height, ow = outShape.width
        let pairs = window == 2 && stride == 2
        var o = examples.lowerBound * outShape.count
        for n in examples {
            for c in 0..<inShape.channels {
                let planeOffset = n * inShape.count + c * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let corner = planeOffset + oy * stride * w + ox * stride
                        var best = -Float.infinity, bestAt = corner
                        if pairs {
                            // The general loop below unrolled for 2×2: the same comparisons in the same order.
                            @inline(__always) func consider(_ at: Int) {
                                if input[at] > best { best = input[at]; bestAt = at }
                            }
                            consider(corner); consider(corner + 1); consider(corner + w); consider(corner + w + 1)
                        } else {
                            for ky in 0..<window {
                                let rowOffset = corner + ky * w
                                for kx in 0..<window where input[rowOffset + kx] > best {
                                    // Strict >: the first maximum wins ties, as in PyTorch.
                                    best = input[rowOffset + kx]
                                    bestAt = rowOffset + kx
                                }
                            }
                        }
                        y[o] = best
                        arg[o] = Int32(bestAt - n * inShape.count)
                        o += 1
                    }
                }
            }
        }
    }

    /// The backward pass on examples `examples`: each example's gradient is its own.
    private func unpool(_ outputGradient: UnsafePointer<Float>, examples: Range<Int>) {
        let dx = inputGradient!.pointer, arg = argmax!
        for n in examples {
            let base = n * outShape.count
            let example = dx + n * inShape.count
            example.update(repeating: 0, count: inShape.count)
            for i in 0..<outShape.count { example[Int(arg[base + i])] += outputGradient[base + i] }
        }
    }

    /// Runs `work` on contiguous shares of the examples, one per thread:
    /// examples are independent, so the bits do not depend on the split.
    private func performOverExamples(_ work: ExampleWork) {
        WorkerPool.shared.perform(work, parts: max(1, min(work.count, WorkerPool.shared.threadCount)))
    }

    private struct ExampleWork: ParallelWork {
        enum Pass {
            case forward(UnsafePointer<Float>)
            case backward(UnsafePointer<Float>)
        }
        let layer: MaxPool
        let pass: Pass
        let count: Int

        func perform(part: Int, of parts: Int) {
            let share = (part * count / parts)..<((part + 1) * count / parts)
            switch pass {
            case .forward(let input): layer.pool(input, examples: share)
            case .backward(let outputGradient): layer.unpool(outputGradient, examples: share)
            }
        }
    }
}

/// Global average pooling: each channel plane becomes its mean.
final class GlobalAveragePool: Layer {
    let name: String
    private var inShape = FeatureShape(channels: 0)
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?

    init(name: String) { self.name = name }

    func outputShape(for input: FeatureShape) throws -> FeatureShape { FeatureShape(channels: input.channels) }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        inShape = inputShape
        ensureCapacity(&output, batchCapacity * inShape.channels)
        ensureCapacity(&inputGradient, batchCapacity * inShape.count)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        let y = output!.pointer, plane = inShape.planeSize, scale = 1 / Float(plane)
        for i in 0..<(count * inShape.channels) {
            let x = input + i * plane
            var sum: Float = 0
            for p in 0..<plane { sum += x[p] }
            y[i] = sum * scale
        }
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needsInputGradient else { return nil }
        let dx = inputGradient!.pointer, plane = inShape.planeSize, scale = 1 / Float(plane)
        for i in 0..<(count * inShape.channels) {
            let g = outputGradient[i] * scale
            (dx + i * plane).update(repeating: g, count: plane)
        }
        return UnsafePointer(dx)
    }
}
