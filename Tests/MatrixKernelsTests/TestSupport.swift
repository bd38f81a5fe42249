@testable import MatrixKernels

/// SplitMix64: a small seeded generator so every test run sees the same data.
struct TestGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float.random(in: -1...1, using: &self) }
    }
}

/// One GEMM problem with its operands stored with padded leading dimensions.
struct GEMMCase: CustomStringConvertible {
    var m: Int, n: Int, k: Int
    var transA: Transpose, transB: Transpose
    var alpha: Float, beta: Float
    var padding: Int
    var a: [Float], b: [Float], c: [Float]
    var lda: Int, ldb: Int, ldc: Int

    init(m: Int, n: Int, k: Int, transA: Transpose, transB: Transpose, alpha: Float = 1, beta: Float = 0,
         padding: Int = 0, generator: inout TestGenerator) {
        self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
        self.alpha = alpha; self.beta = beta; self.padding = padding
        let aRows = transA == .none ? m : k, aColumns = transA == .none ? k : m
        let bRows = transB == .none ? k : n, bColumns = transB == .none ? n : k
        lda = aColumns + padding; ldb = bColumns + padding; ldc = n + padding
        a = generator.floats(aRows * lda)
        b = generator.floats(bRows * ldb)
        // Padding between rows is NaN: a kernel that lets any of it into a
        // result (rather than only reading past a row's end) fails.
        for row in 0..<aRows { for column in aColumns..<lda { a[row * lda + column] = .nan } }
        for row in 0..<bRows { for column in bColumns..<ldb { b[row * ldb + column] = .nan } }
        // beta == 0 must ignore C, so give it NaN garbage.
        c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : generator.floats(m * ldc)
    }

    var description: String {
        "m=\(m) n=\(n) k=\(k) op=\(transA == .none ? "N" : "T")\(transB == .none ? "N" : "T") alpha=\(alpha) beta=\(beta) pad=\(padding)"
    }

    func run(pool: WorkerPool = .shared) -> [Float] {
        var c = self.c
        if c.isEmpty { c = [0] } // a non-null pointer for zero-sized C
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.isEmpty ? [0] : a, lda: lda,
             b: b.isEmpty ? [0] : b, ldb: ldb, beta: beta, c: &c, ldc: ldc, pool: pool)
        return c
    }

    func reference() -> [Float] {
        var c = self.c
        if c.isEmpty { c = [0] }
        referenceGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.isEmpty ? [0] : a,
                      lda: lda, b: b.isEmpty ? [0] : b, ldb: ldb, beta: beta, c: &c, ldc: ldc)
        return c
    }

    /// Largest error allowed: operands lie in [-1, 1], so a dot product of
    /// length k carries a rounding error of order k·ε in the worst case.
    var tolerance: Float { 1e-6 * Float(k + 1) * abs(alpha) + 1e-6 * abs(beta) + 1e-6 }
}

/// A placeholder operand for building a plan whose decisions (threads,
/// packing) are all a test inspects; nothing is read through it.
let placeholder = UnsafeMutablePointer<Float>.allocate(capacity: 1)

extension GEMMCase {
    /// The driver's plan for this problem, to check which path it takes.
    var plan: GEMMPlan {
        GEMMPlan(a: StridedMatrix(placeholder, leadingDimension: lda, transpose: transA, rows: m, columns: k),
                 b: StridedMatrix(placeholder, leadingDimension: ldb, transpose: transB, rows: k, columns: n),
                 c: placeholder, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta)
    }
}
