/// Rectified linear unit, elementwise `max(0, x)`.
final class ReLU: Layer {
    let name: String
    private var size = 0
    private var output: FloatBuffer?
    private var inputGradient: FloatBuffer?

    init(name: String) { self.name = name }

    func outputShape(for input: FeatureShape) throws -> FeatureShape { input }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        size = inputShape.count
        ensureCapacity(&output, batchCapacity * size)
        ensureCapacity(&inputGradient, batchCapacity * size)
    }

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        let y = output!.pointer
        // `< 0`, not `> 0`: NaN must pass through, so a diverged run shows in its loss.
        for i in 0..<(count * size) { y[i] = input[i] < 0 ? 0 : input[i] }
        return UnsafePointer(y)
    }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needsInputGradient else { return nil }
        // The output is positive exactly where the input was.
        let y = output!.pointer, dx = inputGradient!.pointer
        for i in 0..<(count * size) { dx[i] = y[i] > 0 ? outputGradient[i] : 0 }
        return UnsafePointer(dx)
    }
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
