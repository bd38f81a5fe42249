import XCTest
@testable import MatrixKernels

/// The sparse kernels must give the GEMM's bits at every kept position, for
/// the calls the layers make, on odd shapes, multi-slice depths, several
/// densities and any thread count.
final class SparseProductsTests: XCTestCase {
    /// rows × columns of W, and n (the batch or pixel count).
    /// Depths over 320 on both sides (700 columns; 400 rows) take several slices.
    static let shapes = [(7, 13, 5), (17, 700, 33), (100, 300, 60), (33, 650, 130), (64, 144, 256), (400, 37, 20)]
    static let densities = [1.0, 0.5, 1.0 / 16, 1.0 / 64, 0]
    static let pools = [WorkerPool(threadCount: 1), WorkerPool.shared, WorkerPool(threadCount: 3)]

    /// A random 0/1 mask of about `density` and weights that are +0 where it is 0.
    private func maskedWeights(rows: Int, columns: Int, density: Double,
                               generator: inout TestGenerator) -> (mask: [Float], values: [Float]) {
        var mask = [Float](repeating: 0, count: rows * columns)
        for i in mask.indices where Double.random(in: 0..<1, using: &generator) < density { mask[i] = 1 }
        var values = generator.floats(rows * columns)
        for i in values.indices where mask[i] == 0 { values[i] = 0 }
        return (mask, values)
    }

    private func assertSameBits(_ got: [Float], _ want: [Float], _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for i in got.indices where got[i].bitPattern != want[i].bitPattern {
            XCTFail("\(what): element \(i) is \(got[i]), the GEMM gives \(want[i])", file: file, line: line)
            return
        }
    }

    private func transposed(_ x: [Float], rows: Int, columns: Int) -> [Float] {
        var t = [Float](repeating: 0, count: x.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = x[r * columns + c] } }
        return t
    }

    func testSparseMultiplyMatchesGEMMInBothOrientations() {
        var generator = TestGenerator(seed: 11)
        for (rows, columns, n) in Self.shapes {
            for density in Self.densities {
                let (mask, w) = maskedWeights(rows: rows, columns: columns, density: density, generator: &generator)
                let kept = CompressedRows(mask: mask, rows: rows, columns: columns)
                let b = generator.floats(columns * n)
                // The convolution's call: Y = W · col.
                var want = [Float](repeating: .nan, count: rows * n)
                gemm(m: rows, n: n, k: columns, a: w, lda: columns, b: b, ldb: n, c: &want, ldc: n)
                // The dense layer's call: Y = X · Wᵀ with X = Bᵀ (n × columns).
                let x = transposed(b, rows: columns, columns: n)
                var wantT = [Float](repeating: .nan, count: n * rows)
                gemm(transB: .transposed, m: n, n: rows, k: columns, a: x, lda: columns, b: w, ldb: columns,
                     c: &wantT, ldc: rows)
                for pool in Self.pools {
                    let what = "\(rows)×\(columns) n=\(n) density \(density) threads \(pool.threadCount)"
                    var got = [Float](repeating: .nan, count: rows * n)
                    sparseMultiply(kept, values: w, b: b, ldb: n, n: n, c: &got, ldc: n, pool: pool)
                    assertSameBits(got, want, "W·B " + what)
                    var gotT = [Float](repeating: .nan, count: n * rows)
                    sparseMultiply(kept, values: w, b: b, ldb: n, n: n, c: &gotT, ldc: rows, transposedOutput: true,
                                   pool: pool)
                    assertSameBits(gotT, wantT, "X·Wᵀ " + what)
                }
            }
        }
    }

    func testSparseTransposedMultiplyMatchesGEMMInBothOrientations() {
        var generator = TestGenerator(seed: 12)
        for (rows, columns, n) in Self.shapes {
            for density in Self.densities {
                let (mask, w) = maskedWeights(rows: rows, columns: columns, density: density, generator: &generator)
                let kept = CompressedRows(mask: mask, rows: rows, columns: columns)
                let b = generator.floats(rows * n)
                // The convolution's call: dcol = Wᵀ · dY.
                var want = [Float](repeating: .nan, count: columns * n)
                gemm(transA: .transposed, m: columns, n: n, k: rows, a: w, lda: columns, b: b, ldb: n, c: &want, ldc: n)
                // The dense layer's call: dX = dY · W with dY = Bᵀ (n × rows).
                let dy = transposed(b, rows: rows, columns: n)
                var wantT = [Float](repeating: .nan, count: n * columns)
                gemm(m: n, n: columns, k: rows, a: dy, lda: rows, b: w, ldb: columns, c: &wantT, ldc: columns)
                for pool in Self.pools {
                    let what = "\(rows)×\(columns) n=\(n) density \(density) threads \(pool.threadCount)"
                    var got = [Float](repeating: .nan, count: columns * n)
                    sparseTransposedMultiply(kept, values: w, b: b, ldb: n, n: n, c: &got, ldc: n, pool: pool)
                    assertSameBits(got, want, "Wᵀ·B " + what)
                    var gotT = [Float](repeating: .nan, count: n * columns)
                    sparseTransposedMultiply(kept, values: w, b: b, ldb: n, n: n, c: &gotT, ldc: columns,
                                             transposedOutput: true, pool: pool)
                    assertSameBits(gotT, wantT, "dY·W " + what)
                }
            }
        }
    }

    func testSparseGradientMatchesGEMMAtKeptEntriesAndLeavesTheRest() {
        var generator = TestGenerator(seed: 13)
        for (rows, columns, depth) in Self.shapes + [(9, 40, 700)] {
            for density in Self.densities {
                let (mask, _) = maskedWeights(rows: rows, columns: columns, density: density, generator: &generator)
                let kept = CompressedRows(mask: mask, rows: rows, columns: columns)
                // The dense layer's operands: dY (depth × rows), X (depth × columns).
                let dy = generator.floats(depth * rows), x = generator.floats(depth * columns)
                let old = generator.floats(rows * columns)
                for accumulate in [false, true] {
                    var want = old
                    gemm(transA: .transposed, m: rows, n: columns, k: depth, a: dy, lda: rows, b: x, ldb: columns,
                         beta: accumulate ? 1 : 0, c: &want, ldc: columns)
                    // The convolution's operands: dY (rows × depth), col (columns × depth).
                    let dyT = transposed(dy, rows: depth, columns: rows), xT = transposed(x, rows: depth, columns: columns)
                    var wantConv = old
                    gemm(transB: .transposed, m: rows, n: columns, k: depth, a: dyT, lda: depth, b: xT, ldb: depth,
                         beta: accumulate ? 1 : 0, c: &wantConv, ldc: columns)
                    for i in want.indices where mask[i] == 0 { want[i] = old[i]; wantConv[i] = old[i] }
                    for pool in Self.pools {
                        let what = "\(rows)×\(columns) depth \(depth) density \(density) accumulate \(accumulate) threads \(pool.threadCount)"
                        var got = old
                        sparseGradient(kept, a: dy, aRowStride: 1, aDepthStride: rows, b: x, bRowStride: 1,
                                       bDepthStride: columns, depth: depth, into: &got, accumulate: accumulate, pool: pool)
                        assertSameBits(got, want, "dense-layer dW " + what)
                        var gotConv = old
                        sparseGradient(kept, a: dyT, aRowStride: depth, aDepthStride: 1, b: xT, bRowStride: depth,
                                       bDepthStride: 1, depth: depth, into: &gotConv, accumulate: accumulate, pool: pool)
                        assertSameBits(gotConv, wantConv, "convolution dW " + what)
                    }
                }
            }
        }
    }

    /// The layers' calls: B's rows padded to whole vectors (`readableColumns`,
    /// `readableDepth`), with garbage in the padding that must not leak;
    /// n ≤ 64 takes the two-lines-at-a-time path.
    func testPaddedOperandsGiveTheGEMMBits() {
        var generator = TestGenerator(seed: 14)
        for (rows, columns, n) in [(9, 300, 60), (100, 300, 60), (300, 100, 128), (5, 700, 17), (401, 33, 50)] {
            let stride = (n + 15) / 16 * 16
            for density in [0.5, 1.0 / 16] {
                let (mask, w) = maskedWeights(rows: rows, columns: columns, density: density, generator: &generator)
                let kept = CompressedRows(mask: mask, rows: rows, columns: columns)
                // Column-major operands, n used of `stride`; the rest huge (finite).
                func padded(_ lines: Int) -> [Float] {
                    var x = generator.floats(lines * stride)
                    for l in 0..<lines { for i in n..<stride { x[l * stride + i] = 3e38 } }
                    return x
                }
                let bT = padded(columns), dyT = padded(rows)
                let x = (0..<(n * columns)).map { bT[($0 % columns) * stride + $0 / columns] } // n × columns
                let dy = (0..<(n * rows)).map { dyT[($0 % rows) * stride + $0 / rows] }          // n × rows
                var want = [Float](repeating: .nan, count: rows * n)
                gemm(m: rows, n: n, k: columns, a: w, lda: columns, b: bT, ldb: stride, c: &want, ldc: n)
                var wantT = [Float](repeating: .nan, count: columns * n)
                gemm(transA: .transposed, m: columns, n: n, k: rows, a: w, lda: columns, b: dyT, ldb: stride,
                     c: &wantT, ldc: n)
                var wantG = [Float](repeating: 0, count: rows * columns)
                gemm(transA: .transposed, m: rows, n: columns, k: n, a: dy, lda: rows, b: x, ldb: columns,
                     c: &wantG, ldc: columns)
                for i in wantG.indices where mask[i] == 0 { wantG[i] = 0 }
                for pool in Self.pools {
                    let what = "\(rows)×\(columns) n=\(n) density \(density) threads \(pool.threadCount)"
                    var got = [Float](repeating: .nan, count: rows * n)
                    sparseMultiply(kept, values: w, b: bT, ldb: stride, n: n, readableColumns: stride, c: &got, ldc: n,
                                   pool: pool)
                    assertSameBits(got, want, "padded W·B " + what)
                    var gotT = [Float](repeating: .nan, count: columns * n)
                    sparseTransposedMultiply(kept, values: w, b: dyT, ldb: stride, n: n, readableColumns: stride,
                                             c: &gotT, ldc: n, pool: pool)
                    assertSameBits(gotT, wantT, "padded Wᵀ·B " + what)
                    var gotG = [Float](repeating: 0, count: rows * columns)
                    sparseGradient(kept, a: dy, aRowStride: 1, aDepthStride: rows, b: bT, bRowStride: stride,
                                   bDepthStride: 1, depth: n, readableDepth: stride, into: &gotG, pool: pool)
                    assertSameBits(gotG, wantG, "padded dW " + what)
                }
            }
        }
    }

    func testCompressedColumnsListTheKeptRowsInOrder() {
        var generator = TestGenerator(seed: 15)
        let (mask, _) = maskedWeights(rows: 23, columns: 41, density: 0.3, generator: &generator)
        let kept = CompressedRows(mask: mask, rows: 23, columns: 41)
        for c in 0..<41 {
            let rows = kept.entries(ofColumn: c).map { Int(kept.rowIndices[$0]) }
            XCTAssertEqual(rows, (0..<23).filter { mask[$0 * 41 + c] != 0 }, "column \(c)")
        }
        XCTAssertEqual(kept.columnStarts[41], kept.keptCount)
    }

    func testCompressedRowsListsTheKeptColumnsInOrder() {
        let mask: [Float] = [0, 1, 1, 0,
                             0, 0, 0, 0,
                             1, 0, 0, 1]
        let kept = CompressedRows(mask: mask, rows: 3, columns: 4)
        XCTAssertEqual(kept.keptCount, 4)
        XCTAssertEqual((0...3).map { kept.rowStarts[$0] }, [0, 2, 2, 4])
        XCTAssertEqual((0..<4).map { kept.columnIndices[$0] }, [1, 2, 0, 3])
        XCTAssertEqual(kept.density, 4.0 / 12.0)
    }

    func testAllFiniteFindsNaNAndInfinityAnywhere() {
        var x = [Float](repeating: 1.5, count: 37)
        XCTAssertTrue(allFinite(x, count: x.count))
        for position in [0, 15, 16, 31, 32, 36] {
            for bad in [Float.nan, .infinity, -.infinity] {
                x[position] = bad
                XCTAssertFalse(allFinite(x, count: x.count), "\(bad) at \(position)")
                x[position] = -0.0
                XCTAssertTrue(allFinite(x, count: x.count))
            }
        }
    }
}

final class TransposeTests: XCTestCase {
    func testTransposeOfOddShapesWithLeadingDimensions() {
        var generator = TestGenerator(seed: 21)
        // 16 × 16 blocks with 4 × 4 and single edges on either side.
        for (rows, columns) in [(1, 1), (3, 5), (4, 4), (7, 9), (60, 784), (13, 300), (16, 16), (37, 53), (128, 300)] {
            let ld = columns + 2, ldy = rows + 3
            let x = generator.floats(rows * ld)
            var y = [Float](repeating: .nan, count: columns * ldy)
            transpose(x, rows: rows, columns: columns, ld: ld, into: &y, ldy: ldy)
            for i in 0..<rows {
                for j in 0..<columns where y[j * ldy + i] != x[i * ld + j] {
                    return XCTFail("\(rows)×\(columns): y[\(j), \(i)] wrong")
                }
            }
            for j in 0..<columns { for i in rows..<ldy { XCTAssert(y[j * ldy + i].isNaN, "padding written") } }
        }
    }
}
