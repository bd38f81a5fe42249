/// A fixed-size, zero-initialised block of floats owned by one object.
///
/// Layers keep their activations, gradients and scratch space in these so the
/// hot loops work on raw pointers with no exclusivity checks and no
/// copy-on-write, and so a training step allocates nothing.
final class FloatBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        // Allocate at least one element so `pointer` is always valid.
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    func copy(from values: [Float]) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}

/// Grows a buffer to hold at least `count` floats (reallocating only when it
/// must, so repeated calls with the same size are free).
func ensureCapacity(_ buffer: inout FloatBuffer?, _ count: Int) {
    if let existing = buffer, existing.count >= count { return }
    buffer = FloatBuffer(count: count)
}
