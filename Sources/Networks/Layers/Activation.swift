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
            let p = frozenPattern.pointer
            // The frozen unit is linear: negative inputs pass where the unit was on.
            for i in 0..<(count * size) { y[i] = p[i] != 0 ? input[i] : 0 }
            return UnsafePointer(y)
        }
        // `< 0`, not `> 0`: NaN must pass through, so a diverged run shows in its loss.
        for i in 0..<(count * size) { y[i] = input[i] < 0 ? 0 : input[i] }
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needsInputGradient else { return nil }
        let dx = inputGradient!.pointer
        if let frozenPattern {
            let p = frozenPattern.pointer
            for i in 0..<(count * size) { dx[i] = p[i] != 0 ? outputGradient[i] : 0 }
            return UnsafePointer(dx)
        }
        // The output is positive exactly where the input was.
        let y = output!.pointer
        for i in 0..<(count * size) { dx[i] = y[i] > 0 ? outputGradient[i] : 0 }
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
