import Foundation
import XCTest
@testable import MatrixKernels

final class GEMMTests: XCTestCase {
    static let sizes = [1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 300, 784]
    static let transposes: [(Transpose, Transpose)] = [(.none, .none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)]

    private func assertMatchesReference(_ problem: GEMMCase, pool: WorkerPool = .shared,
                                        file: StaticString = #filePath, line: UInt = #line) {
        let got = problem.run(pool: pool)
        let want = problem.reference()
        var worst: Float = 0
        for i in 0..<problem.m {
            for j in 0..<problem.n {
                let index = i * problem.ldc + j
                let error = abs(got[index] - want[index])
                if !(error <= worst) { worst = error } // also catches NaN
            }
            // Padding columns of C must be untouched (NaN stays NaN, so compare bits).
            for j in problem.n..<problem.ldc {
                let index = i * problem.ldc + j
                if got[index].bitPattern != problem.c[index].bitPattern {
                    XCTFail("\(problem): wrote padding of C at row \(i) column \(j)", file: file, line: line)
                    return
                }
            }
        }
        XCTAssert(worst <= problem.tolerance, "\(problem): max error \(worst) > \(problem.tolerance)", file: file, line: line)
    }

    func testRandomShapesAllTransposesMatchReference() {
        var generator = TestGenerator(seed: 3)
        var checked = 0
        while checked < 160 {
            let m = Self.sizes.randomElement(using: &generator)!
            let n = Self.sizes.randomElement(using: &generator)!
            let k = Self.sizes.randomElement(using: &generator)!
            // The double-precision oracle is slow; keep the suite to seconds.
            if m * n * k > 3_000_000 { continue }
            let (transA, transB) = Self.transposes[checked % 4]
            let alpha: Float = [1, -0.5, 2][checked % 3]
            let beta: Float = [0, 0, 1, 0.25][(checked / 4) % 4]
            let padding = [0, 3][(checked / 2) % 2]
            assertMatchesReference(GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha,
                                            beta: beta, padding: padding, generator: &generator))
            checked += 1
        }
    }

    /// The summation order every product in the project shares, written out
    /// element by element: per `DepthSlicing` slice an FMA chain from +0 in
    /// ascending depth, scaled by alpha, and added to C in slice order (the
    /// first slice with beta, the later ones with 1). The GEMM must give
    /// exactly these bits whatever its tile, packing, orientation or thread
    /// count: that is what lets a build for another instruction set (another
    /// tile shape), and the sparse kernels, reproduce a run's results.
    private func definedOrder(_ problem: GEMMCase) -> [Float] {
        var c = problem.c
        let slicing = DepthSlicing(depth: problem.k)
        for i in 0..<problem.m {
            for j in 0..<problem.n {
                var value = c[i * problem.ldc + j]
                for slice in 0..<slicing.count {
                    var sum: Float = 0
                    for p in slicing.range(slice, depth: problem.k) {
                        let a = problem.transA == .none ? problem.a[i * problem.lda + p] : problem.a[p * problem.lda + i]
                        let b = problem.transB == .none ? problem.b[p * problem.ldb + j] : problem.b[j * problem.ldb + p]
                        sum = sum.addingProduct(a, b)
                    }
                    let beta = slice == 0 ? problem.beta : 1
                    value = beta == 0 ? sum * problem.alpha : sum * problem.alpha + value * beta
                }
                c[i * problem.ldc + j] = value
            }
        }
        return c
    }

    func testEveryElementIsItsDefinedFMAChainBitForBit() {
        var generator = TestGenerator(seed: 29)
        let pools = [WorkerPool(threadCount: 1), WorkerPool(threadCount: 2)]
        // Ragged edges of every kernel width (1…33 columns), one and several
        // K slices (k > 320), small and packed paths, both orientations.
        let shapes = [(6, 32, 7), (13, 31, 300), (5, 17, 321), (64, 25, 100), (7, 9, 650), (129, 33, 65),
                      (60, 10, 100), (10, 100, 60), (150, 70, 700), (31, 300, 64), (100, 160, 333)]
        for (index, (m, n, k)) in shapes.enumerated() {
            for (transA, transB) in Self.transposes {
                let alpha: Float = [1, 0.5][index % 2], beta: Float = [0, 1, 0.25][index % 3]
                let problem = GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta,
                                       padding: 3, generator: &generator)
                let want = definedOrder(problem).map(\.bitPattern)
                for pool in pools {
                    XCTAssertEqual(problem.run(pool: pool).map(\.bitPattern), want,
                                   "\(problem), \(pool.threadCount) threads")
                }
            }
        }
    }

    func testEveryTransposeOnLargeSizes() {
        // Each listed size at least once in each role, with multi-slice K.
        var generator = TestGenerator(seed: 5)
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(300, 65, 129), (17, 784, 33), (129, 31, 784), (784, 16, 63), (64, 127, 300), (60, 300, 784)] {
                assertMatchesReference(GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB,
                                                beta: 0, padding: 5, generator: &generator))
            }
        }
    }

    func testDirectPathsMatchPackedPathBitForBit() {
        // Force the no-packing paths for A and B and compare with full packing.
        var generator = TestGenerator(seed: 9)
        let saved = (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows)
        defer { (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows) = saved }
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(60, 300, 784), (61, 17, 300), (7, 33, 65), (129, 10, 100)] {
                let problem = GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.5,
                                       beta: 0.75, padding: 2, generator: &generator)
                (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows) = (0, 0)
                let packed = problem.run()
                (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows) = (Int.max, Int.max)
                let plan = problem.plan
                XCTAssertEqual(plan.packsA, plan.a.columnStride != 1, "direct A taken iff its rows are contiguous")
                XCTAssertEqual(plan.packsB, plan.b.columnStride != 1, "direct B taken iff its rows are contiguous")
                let direct = problem.run()
                XCTAssertEqual(packed.map(\.bitPattern), direct.map(\.bitPattern), "\(problem)")
                assertMatchesReference(problem)
            }
        }
    }

    func testOperandsWithCacheHostileStridesArePacked() {
        let saved = (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows)
        defer { (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows) = saved }
        (GEMMTuning.directAMaximumColumns, GEMMTuning.directBMaximumRows) = (Int.max, Int.max)
        var generator = TestGenerator(seed: 53)
        let problem = GEMMCase(m: 20, n: 64, k: 40, transA: .none, transB: .none, padding: 23, generator: &generator)
        XCTAssertEqual(problem.ldb, 87)
        XCTAssertFalse(problem.plan.packsA)
        XCTAssertFalse(problem.plan.packsB)
        let aligned = GEMMCase(m: 20, n: 40, k: 64, transA: .none, transB: .none, padding: 64, generator: &generator)
        XCTAssertTrue(aligned.plan.packsA, "lda = 128 floats: packed")
        XCTAssertFalse(aligned.plan.packsB, "ldb = 104 floats: in place")
        assertMatchesReference(aligned)
    }

    func testResultsAreBitIdenticalForOneTwoAndThreeThreads() {
        var generator = TestGenerator(seed: 11)
        let pools = [1, 2, 3].map { WorkerPool(threadCount: $0) }
        let shapes: [(Int, Int, Int, Transpose, Transpose)] = [
            (129, 300, 784, .none, .none), (300, 129, 65, .none, .transposed),
            (60, 784, 300, .none, .transposed), (784, 300, 60, .transposed, .none), (65, 65, 1000, .transposed, .transposed),
        ]
        for (m, n, k, transA, transB) in shapes {
            let problem = GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 0.7, beta: 0.3,
                                   generator: &generator)
            let plan = problem.plan
            XCTAssertEqual(plan.threadCount(available: 3), 3, "\(problem) would not use 3 threads")
            let results = pools.map { problem.run(pool: $0) }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "1 vs 2 threads: \(problem)")
            XCTAssertEqual(results[0].map(\.bitPattern), results[2].map(\.bitPattern), "1 vs 3 threads: \(problem)")
            assertMatchesReference(problem, pool: pools[2])
        }
    }

    func testTransposedOrientationIsChosenAndCorrect() {
        // Cᵀ = op(B)ᵀ·op(A)ᵀ with strided stores into C: for TT always, for NT
        // with the 6 × 16 tile when A is the smaller operand (with the wide
        // tile, packing B beat the swapped tile's strided stores); never when
        // op(B) rows are contiguous.
        var generator = TestGenerator(seed: 7)
        for (m, n, k, transA, transB, swaps) in [
            (60, 784, 300, Transpose.none, Transpose.transposed, !Blocking.wideTile), (512, 784, 30, .none, .transposed, false),
            (33, 17, 65, .transposed, .transposed, true), (7, 300, 31, .transposed, .none, false),
            (60, 300, 784, .none, .none, false),
        ] {
            for beta: Float in [0, 0.5] {
                let problem = GEMMCase(m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1.5, beta: beta,
                                       padding: 3, generator: &generator)
                XCTAssertEqual(problem.plan.transposesProblem, swaps, "\(problem)")
                assertMatchesReference(problem)
            }
        }
    }

    func testBetaZeroOverwritesNaNAndAlphaZeroSkipsProducts() {
        var generator = TestGenerator(seed: 13)
        let problem = GEMMCase(m: 33, n: 17, k: 7, transA: .none, transB: .none, beta: 0, generator: &generator)
        XCTAssertFalse(problem.run().contains { $0.isNaN })
        var withNaNInputs = GEMMCase(m: 5, n: 6, k: 7, transA: .none, transB: .none, alpha: 0, beta: 0.5,
                                     generator: &generator)
        withNaNInputs.a[3] = .nan
        let got = withNaNInputs.run()
        XCTAssertEqual(got, withNaNInputs.c.map { $0 * 0.5 })
    }

    func testZeroSizedDimensions() {
        var generator = TestGenerator(seed: 17)
        // k == 0: C = beta·C (beta == 0 gives zeros, even over NaN).
        let empty = GEMMCase(m: 4, n: 5, k: 0, transA: .none, transB: .none, beta: 0, generator: &generator)
        XCTAssertEqual(empty.run(), [Float](repeating: 0, count: 20))
        let scaled = GEMMCase(m: 4, n: 5, k: 0, transA: .transposed, transB: .none, beta: 2, generator: &generator)
        XCTAssertEqual(scaled.run(), scaled.c.map { $0 * 2 })
        // m == 0 or n == 0: nothing is touched.
        for (m, n) in [(0, 5), (4, 0), (0, 0)] {
            let problem = GEMMCase(m: m, n: n, k: 3, transA: .none, transB: .none, beta: 1, padding: 2,
                                   generator: &generator)
            XCTAssertEqual(problem.run().map(\.bitPattern), (problem.c.isEmpty ? [0] : problem.c).map(\.bitPattern))
        }
    }

    func testConcurrentCallersOnTheSharedPoolGetCorrectResults() {
        var generator = TestGenerator(seed: 19)
        let problems = (0..<4).map { _ in
            GEMMCase(m: 100, n: 120, k: 90, transA: .none, transB: .none, generator: &generator)
        }
        let expected = problems.map { $0.reference() }
        let lock = NSLock()
        var failures = 0
        DispatchQueue.concurrentPerform(iterations: 16) { iteration in
            let index = iteration % problems.count
            let got = problems[index].run()
            let worst = zip(got, expected[index]).map { abs($0 - $1) }.max()!
            if !(worst <= problems[index].tolerance) { lock.lock(); failures += 1; lock.unlock() }
        }
        XCTAssertEqual(failures, 0)
    }

    func testThreadCountSetting() {
        let pool = WorkerPool(threadCount: 2)
        XCTAssertEqual(pool.threadCount, 2)
        pool.threadCount = 0
        XCTAssertEqual(pool.threadCount, 1, "clamped to at least one thread")
        pool.threadCount = 4
        XCTAssertEqual(pool.threadCount, 4)
        var generator = TestGenerator(seed: 23)
        assertMatchesReference(GEMMCase(m: 200, n: 64, k: 50, transA: .none, transB: .none, generator: &generator),
                               pool: pool)
    }
}
