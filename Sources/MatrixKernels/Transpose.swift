/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable, Hashable {
    /// Use the matrix as stored (row-major, `rows × columns`).
    case none
    /// Use the transpose of the stored matrix.
    case transposed
}
