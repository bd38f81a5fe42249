/// Naive triple-loop SGEMM, accumulating in `Double`.
///
/// Computes `C = alpha · op(A) · op(B) + beta · C` for row-major matrices.
/// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`. Slow by design: it
/// is the oracle the optimised kernels are tested against. When `beta == 0`,
/// `C` is not read, so garbage (even NaN) in `C` does not propagate.
public func referenceGEMM(
    transA: Transpose, transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let aValue = transA == .none ? a[i * lda + p] : a[p * lda + i]
                let bValue = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                sum += Double(aValue) * Double(bValue)
            }
            let scaled = Double(alpha) * sum
            c[i * ldc + j] = beta == 0 ? Float(scaled) : Float(scaled + Double(beta) * Double(c[i * ldc + j]))
        }
    }
}
