/// Single-precision general matrix multiply: `C = alpha · op(A) · op(B) + beta · C`.
///
/// Row-major with leading dimensions, so views into larger buffers work.
/// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`. When `beta == 0`, `C`
/// is write-only. Results are bit-identical whatever the thread count.
///
/// - Note: placeholder body (the naive reference); the blocked, packed,
///   multithreaded kernel replaces it without changing this signature.
public func gemm(
    transA: Transpose = .none, transB: Transpose = .none,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    referenceGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}
