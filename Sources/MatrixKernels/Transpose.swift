/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable, Hashable {
    /// Use the matrix as stored (row-major, `rows × columns`).
    case none
    /// Use the transpose of the stored matrix.
    case transposed
}

/// Writes the transpose of `x` (`rows × columns`, rows `ld` apart) to `y`
/// (`columns × rows`, rows `ldy` apart): `y[j · ldy + i] = x[i · ld + j]`.
/// In 16 × 16 blocks, so both sides stay in cache.
public func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int) {
    precondition(ld >= columns && ldy >= rows)
    let block = 16
    var i0 = 0
    while i0 < rows {
        let i1 = min(rows, i0 + block)
        var j0 = 0
        while j0 < columns {
            let j1 = min(columns, j0 + block)
            for i in i0..<i1 {
                let source = x + i * ld
                for j in j0..<j1 { y[j * ldy + i] = source[j] }
            }
            j0 = j1
        }
        i0 = i1
    }
}
