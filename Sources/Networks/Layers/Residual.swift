/// A residual block: `relu(main(x) + shortcut(x))`, where an empty shortcut
/// is the identity.
final class Residual: Layer, ActivationPatternLayer {
    let name: String
    let main: [Layer]
    let shortcut: [Layer]
    private var size = 0
    private var inputSize = 0
    private var output: FloatBuffer?
    private var sumGradient: FloatBuffer?
    private var inputGradient: FloatBuffer?

    init(name: String, main: [Layer], shortcut: [Layer] = []) {
        self.name = name
        self.main = main
        self.shortcut = shortcut
    }

    var parameters: [Parameter] { (main + shortcut).flatMap(\.parameters) }

    func outputShape(for input: FeatureShape) throws -> FeatureShape {
        let a = try main.reduce(input) { try $1.outputShape(for: $0) }
        let b = try shortcut.reduce(input) { try $1.outputShape(for: $0) }
        guard a == b else { throw NetworkError("\(name): main branch gives \(a) but shortcut gives \(b)") }
        return a
    }

    func prepare(inputShape: FeatureShape, batchCapacity: Int) {
        var shape = inputShape
        for layer in main { layer.prepare(inputShape: shape, batchCapacity: batchCapacity); shape = try! layer.outputShape(for: shape) }
        shape = inputShape
        for layer in shortcut { layer.prepare(inputShape: shape, batchCapacity: batchCapacity); shape = try! layer.outputShape(for: shape) }
        size = shape.count
        inputSize = inputShape.count
        ensureCapacity(&output, batchCapacity * size)
        ensureCapacity(&sumGradient, batchCapacity * size)
        ensureCapacity(&inputGradient, batchCapacity * inputSize)
    }

    /// The main branch's last layer when it can add the shortcut and apply
    /// the ReLU in its own output pass (a batch norm without a ReLU; not
    /// while the pattern is frozen), saving a pass over the activations.
    private var fusedSum: BatchNorm? {
        guard frozenPattern == nil, let last = main.last as? BatchNorm, !last.appliesReLU else { return nil }
        return last
    }

    /// Where the last forward pass left the block's output.
    private var lastOutput: UnsafePointer<Float>?

    func forward(_ input: UnsafePointer<Float>, count: Int, mode: Mode) -> UnsafePointer<Float> {
        lastCount = count
        var b = input
        for layer in shortcut { b = layer.forward(b, count: count, mode: mode) }
        var a = input
        if let last = fusedSum {
            for index in 0..<(main.count - 1) { a = main[index].forward(a, count: count, mode: mode) }
            let y = last.forward(a, count: count, mode: mode, addingThenReLU: b)
            lastOutput = y
            return y
        }
        for layer in main { a = layer.forward(a, count: count, mode: mode) }
        let y = output!.pointer
        lastOutput = UnsafePointer(y)
        if let frozenPattern {
            precondition(count == frozenCount, "\(name): a frozen pattern applies to the batch it was recorded on")
            Elementwise.perform(.keepSum(a, b, pattern: frozenPattern.pointer, into: y), count: count * size)
            return UnsafePointer(y)
        }
        Elementwise.perform(.sumThenReLU(a, b, into: y), count: count * size)
        return UnsafePointer(y)
    }

    /// 1 where the output unit was on when the pattern was frozen (`nil`: not frozen).
    private var frozenPattern: FloatBuffer?
    private var frozenCount = 0
    private var lastCount = 0

    func freezePattern() {
        let pattern = FloatBuffer(count: max(lastCount * size, 1))
        let y = lastOutput!
        for i in 0..<(lastCount * size) { pattern.pointer[i] = y[i] > 0 ? 1 : 0 }
        frozenPattern = pattern
        frozenCount = lastCount
    }

    func thawPattern() { frozenPattern = nil }

    func backward(_ outputGradient: UnsafePointer<Float>, count: Int, needsInputGradient: Bool) -> UnsafePointer<Float>? {
        let g = sumGradient!.pointer
        if let frozenPattern {
            Elementwise.perform(.keep(outputGradient, pattern: frozenPattern.pointer, into: g), count: count * size)
        } else {
            Elementwise.perform(.gate(outputGradient, onWherePositive: lastOutput!, into: g), count: count * size)
        }
        var da: UnsafePointer<Float>? = UnsafePointer(g)
        for index in stride(from: main.count - 1, through: 0, by: -1) {
            da = main[index].backward(da!, count: count, needsInputGradient: needsInputGradient || index > 0)
        }
        var db: UnsafePointer<Float>? = UnsafePointer(g)
        for index in stride(from: shortcut.count - 1, through: 0, by: -1) {
            db = shortcut[index].backward(db!, count: count, needsInputGradient: needsInputGradient || index > 0)
        }
        guard needsInputGradient, let da, let db else { return nil }
        let dx = inputGradient!.pointer
        Elementwise.perform(.sum(da, db, into: dx), count: count * inputSize)
        return UnsafePointer(dx)
    }
}
