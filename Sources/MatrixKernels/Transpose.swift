/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable, Hashable {
    /// Use the matrix as stored (row-major, `rows × columns`).
    case none
    /// Use the transpose of the stored matrix.
    case transposed
}

/// Writes the transpose of `x` (`rows × columns`, rows `ld` apart) to `y`
/// (`columns × rows`, rows `ldy` apart): `y[j · ldy + i] = x[i · ld + j]`.
/// In 4 × 4 blocks transposed in registers (rows and columns past the last
/// whole block one by one).
public func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int) {
    precondition(ld >= columns && ldy >= rows)
    typealias Quad = SIMD4<Float>
    let wholeRows = rows - rows % 4, wholeColumns = columns - columns % 4
    @inline(__always) func load(_ i: Int, _ j: Int) -> Quad {
        UnsafeRawPointer(x + i * ld + j).loadUnaligned(as: Quad.self)
    }
    @inline(__always) func store(_ v: Quad, _ j: Int, _ i: Int) {
        UnsafeMutableRawPointer(y + j * ldy + i).storeBytes(of: v, as: Quad.self)
    }
    var i = 0
    while i < wholeRows {
        var j = 0
        while j < wholeColumns {
            let (c0, c1, c2, c3) = transposed(load(i, j), load(i + 1, j), load(i + 2, j), load(i + 3, j))
            store(c0, j, i); store(c1, j + 1, i); store(c2, j + 2, i); store(c3, j + 3, i)
            j += 4
        }
        for r in i..<(i + 4) { for c in wholeColumns..<columns { y[c * ldy + r] = x[r * ld + c] } }
        i += 4
    }
    for r in wholeRows..<rows { for c in 0..<columns { y[c * ldy + r] = x[r * ld + c] } }
}
