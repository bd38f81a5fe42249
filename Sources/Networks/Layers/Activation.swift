/// Rectified linear unit, elementwise `max(0, x)`.
final class ReLU: Layer, ActivationPatternLayer {
    let name: String
    private var size = 0
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?
    /// 1 where the unit was on in the pass the pattern was frozen at (`nil`: not frozen).
    private var frozenPattern: FloatBuffer?
    private var lastCount = 0

    init(name: String) { self.name = name }

    func outputShape(for input: FeatureShape) throws -> FeatureShape { input }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        size = inputShape.count
        ensureCapacity(&output, batchCapacity * size)
        ensureCapacity(&inputGradient, batchCapacity * size)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        let y = output!.pointer
        lastCount = count
        if let frozenPattern {
            precondition(count == lastFrozenCount, "\(name): a frozen pattern applies to the batch it was recorded on")
            // The frozen unit is linear: negative inputs pass where the unit was on.
            Elementwise.perform(.keep(input, pattern: frozenPattern.pointer, into: y), count: count * size)
            return UnsafePointer(y)
        }
        Elementwise.perform(.relu(input, into: y), count: count * size)
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needsInputGradient else { return nil }
        let dx = inputGradient!.pointer
        if let frozenPattern {
            Elementwise.perform(.keep(outputGradient, pattern: frozenPattern.pointer, into: dx), count: count * size)
            return UnsafePointer(dx)
        }
        // The output is positive exactly where the input was.
        Elementwise.perform(.gate(outputGradient, onWherePositive: output!.pointer, into: dx), count: count * size)
        return UnsafePointer(dx)
    }

    private var lastFrozenCount = 0

    func freezePattern() {
        let pattern = FloatBuffer(count: max(lastCount * size, 1))
        let y = output!.pointer
        for i in 0..<(lastCount * size) { pattern.pointer[i] = y[i] > 0 ? 1 : 0 }
        frozenPattern = pattern
        lastFrozenCount = lastCount
    }

    func thawPattern() { frozenPattern = nil }
}

/// Reinterprets `C × H × W` features as a flat vector (no data movement:
/// the layout is already example-major).
final class Flatten: Layer {
    let name: String
    init(name: String) { self.name = name }

    func outputShape(for input: FeatureShape) throws -> FeatureShape { FeatureShape(channels: input.count) }
    func prepare(inputShape: FeatureShape, batchCapacity: Int) {}
    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> { input }
    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        needsInputGradient ? outputGradient : nil
    }
}
