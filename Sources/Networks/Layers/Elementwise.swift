import MatrixKernels

/// The elementwise passes of `ReLU` and `Residual`, split over the matrix
/// kernels' threads in vector-aligned chunks (`chunk(_:of:count:)`). Every
/// element is computed by the same operations wherever a chunk starts, so
/// the bits do not depend on the thread count.
enum Elementwise {
    enum Operation {
        /// `out = x < 0 ? 0 : x` (`<`, so NaN passes and a diverged run shows).
        case relu(UnsafePointer<Float>, into: UnsafeMutablePointer<Float>)
        /// `out = a + b < 0 ? 0 : a + b`.
        case sumThenReLU(UnsafePointer<Float>, UnsafePointer<Float>, into: UnsafeMutablePointer<Float>)
        /// `out = a + b`.
        case sum(UnsafePointer<Float>, UnsafePointer<Float>, into: UnsafeMutablePointer<Float>)
        /// `out = gate > 0 ? x : 0`: a ReLU's backward pass, its output as the gate.
        case gate(UnsafePointer<Float>, onWherePositive: UnsafePointer<Float>, into: UnsafeMutablePointer<Float>)
        /// `out = pattern != 0 ? x : 0`: a frozen pattern.
        case keep(UnsafePointer<Float>, pattern: UnsafePointer<Float>, into: UnsafeMutablePointer<Float>)
        /// `out = pattern != 0 ? a + b : 0`.
        case keepSum(UnsafePointer<Float>, UnsafePointer<Float>, pattern: UnsafePointer<Float>,
                     into: UnsafeMutablePointer<Float>)
    }

    /// Below this many elements per thread the hand-off costs more than it saves.
    private static let grain = 1 << 14

    /// Applies `operation` to elements `0..<count`.
    static func perform(_ operation: Operation, count: Int) {
        let parts = WorkerPool.shared.chunkCount(of: count, grain: grain)
        WorkerPool.shared.perform(Work(operation: operation, count: count), parts: parts)
    }

    private struct Work: ParallelWork {
        let operation: Operation
        let count: Int

        func perform(part: Int, of parts: Int) {
            let range = chunk(part, of: parts, count: count)
            switch operation {
            case .relu(let x, let out):
                apply(range, out) { i, n in let v = load(x, i, n); return v.replacing(with: 0, where: v .< 0) }
            case .sumThenReLU(let a, let b, let out):
                apply(range, out) { i, n in let v = load(a, i, n) + load(b, i, n); return v.replacing(with: 0, where: v .< 0) }
            case .sum(let a, let b, let out):
                apply(range, out) { i, n in load(a, i, n) + load(b, i, n) }
            case .gate(let x, let gate, let out):
                apply(range, out) { i, n in load(x, i, n).replacing(with: 0, where: .!(load(gate, i, n) .> 0)) }
            case .keep(let x, let pattern, let out):
                apply(range, out) { i, n in load(x, i, n).replacing(with: 0, where: load(pattern, i, n) .== 0) }
            case .keepSum(let a, let b, let pattern, let out):
                apply(range, out) { i, n in (load(a, i, n) + load(b, i, n)).replacing(with: 0, where: load(pattern, i, n) .== 0) }
            }
        }
    }

    private typealias Vector = SIMD16<Float>

    /// Sets `out[i ..< i + n] = value(i, n)` over `range` (which starts at a
    /// multiple of 16), n = 16 except for a shorter tail.
    @inline(__always)
    private static func apply(_ range: Range<Int>, _ out: UnsafeMutablePointer<Float>, _ value: (Int, Int) -> Vector) {
        var i = range.lowerBound
        while i + Vector.scalarCount <= range.upperBound {
            UnsafeMutableRawPointer(out + i).storeBytes(of: value(i, Vector.scalarCount), as: Vector.self)
            i += Vector.scalarCount
        }
        guard i < range.upperBound else { return }
        let n = range.upperBound - i, v = value(i, n)
        for lane in 0..<n { out[i + lane] = v[lane] }
    }

    /// `p[i ..< i + n]` in the first n lanes (zeros after them).
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> Vector {
        if n == Vector.scalarCount { return UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self) }
        var v = Vector()
        for lane in 0..<n { v[lane] = p[i + lane] }
        return v
    }
}
