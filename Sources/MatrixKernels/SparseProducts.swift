// Products with a masked weight matrix W (`CompressedRows` + its dense
// values) that skip the masked entries and otherwise sum exactly as `gemm`
// does: each element's terms in ascending depth order, fused multiply-adds
// from +0 within each `DepthSlicing` slice, the slices' sums added to C in
// order. A skipped term has weight +0, and fma(+0, x, s) == s for finite x
// unless s is −0, which a sum started at +0 reaches only through underflow of
// a product below 2⁻¹⁵⁰. So for finite operands the results are the GEMM's
// bits; the callers send non-finite operands to the GEMM (`allFinite`),
// where a masked weight times ∞ still makes NaN.
//
// Vectorised along the dense operand's rows (a batch, or output pixels) for
// the two products with W, and across a row's kept entries for the weight
// gradient. Threads split output rows (or the vector dimension) only, never
// the depth: the same bits for every thread count.

private typealias Vector = SIMD16<Float>
private let lanes = Vector.scalarCount

/// Below this many multiply-adds a sparse call runs on its calling thread.
private let sparseParallelThreshold = 1 << 16

/// One orientation of a compressed W for `sparseMultiply` (W's rows, CSR)
/// or `sparseTransposedMultiply` (W's columns, CSC, i.e. Wᵀ's rows): line l
/// of the product sums over the depths `depths[starts[l] ..< starts[l + 1]]`
/// (ascending), weighting depth d by `values[l · lineStride + d · depthStride]`.
private struct CompressedLines {
    let count: Int
    let depth: Int
    let starts: UnsafePointer<Int>
    let depths: UnsafePointer<Int32>
    let values: UnsafePointer<Float>
    let lineStride: Int, depthStride: Int

    init(rowsOf kept: CompressedRows, values: UnsafePointer<Float>) {
        count = kept.rows; depth = kept.columns
        starts = UnsafePointer(kept.rowStarts); depths = UnsafePointer(kept.columnIndices)
        self.values = values; lineStride = kept.columns; depthStride = 1
    }

    init(columnsOf kept: CompressedRows, values: UnsafePointer<Float>) {
        count = kept.columns; depth = kept.rows
        starts = UnsafePointer(kept.columnStarts); depths = UnsafePointer(kept.rowIndices)
        self.values = values; lineStride = 1; depthStride = kept.columns
    }
}

/// The operands of `sparseMultiply` and `sparseTransposedMultiply`: C's
/// line l (a row, or with `transposedOutput` a column) is the sum over
/// line l's kept depths d of weight × B's row d.
private struct SparseProduct {
    let lines: CompressedLines
    let b: UnsafePointer<Float>
    let ldb: Int, n: Int, readable: Int
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let transposedOutput: Bool
}

@inline(__always)
private func loadVector(_ p: UnsafePointer<Float>, available: Int) -> Vector {
    if available >= lanes { return UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    var v = Vector()
    for l in 0..<max(0, available) { v[l] = p[l] }
    return v
}

/// `C = W · B` for W (`rows × columns`, kept entries `kept`, values row-major
/// in `values`), B (`columns × n`, rows `ldb` apart) and C (`rows × n`, rows
/// `ldc` apart, or with `transposedOutput` C(r, i) at `c[i · ldc + r]`).
/// Same bits as `gemm(m: rows, n: n, k: columns, a: W, b: B, beta: 0)` for
/// finite B (see above). B's rows are read in whole 16-float vectors up to
/// `readableColumns` (default `n`).
public func sparseMultiply(_ kept: CompressedRows, values: UnsafePointer<Float>,
                           b: UnsafePointer<Float>, ldb: Int, n: Int, readableColumns: Int? = nil,
                           c: UnsafeMutablePointer<Float>, ldc: Int, transposedOutput: Bool = false,
                           pool: WorkerPool = .shared) {
    precondition(n >= 0 && ldb >= n && (transposedOutput ? ldc >= kept.rows : ldc >= n))
    runSparseProduct(SparseProduct(lines: CompressedLines(rowsOf: kept, values: values), b: b, ldb: ldb, n: n,
                                   readable: readableColumns ?? n, c: c, ldc: ldc, transposedOutput: transposedOutput),
                     keptCount: kept.keptCount, pool: pool)
}

/// `C = Wᵀ · B` for W as in `sparseMultiply`, B (`rows × n`, rows `ldb`
/// apart) and C (`columns × n`, rows `ldc` apart, or with `transposedOutput`
/// C(j, i) at `c[i · ldc + j]`). Same bits as
/// `gemm(transA: .transposed, m: columns, n: n, k: rows, a: W, b: B, beta: 0)`
/// for finite B: row j of C sums W's kept column j (`kept`'s CSC form) in
/// ascending row order, in registers, exactly as `sparseMultiply` sums a row.
public func sparseTransposedMultiply(_ kept: CompressedRows, values: UnsafePointer<Float>,
                                     b: UnsafePointer<Float>, ldb: Int, n: Int, readableColumns: Int? = nil,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, transposedOutput: Bool = false,
                                     pool: WorkerPool = .shared) {
    precondition(n >= 0 && ldb >= n && (transposedOutput ? ldc >= kept.columns : ldc >= n))
    runSparseProduct(SparseProduct(lines: CompressedLines(columnsOf: kept, values: values), b: b, ldb: ldb, n: n,
                                   readable: readableColumns ?? n, c: c, ldc: ldc, transposedOutput: transposedOutput),
                     keptCount: kept.keptCount, pool: pool)
}

private func runSparseProduct(_ product: SparseProduct, keptCount: Int, pool: WorkerPool) {
    if product.lines.count == 0 || product.n == 0 { return }
    var job = SparseProductJob(product: product, slicing: DepthSlicing(depth: product.lines.depth), parts: 1)
    job.parts = keptCount * product.n < sparseParallelThreshold ? 1 : max(1, min(pool.threadCount, product.lines.count))
    pool.run(width: job.parts, job)
}

private struct SparseProductJob: PoolJob {
    let product: SparseProduct
    let slicing: DepthSlicing
    var parts: Int

    func run(part: Int, workspace: Workspace) {
        var l = firstLine(ofPart: part), end = firstLine(ofPart: part + 1)
        if product.n <= 4 * lanes && product.readable >= 4 * lanes {
            // Four vectors per line: two lines at a time make eight chains.
            while l + 2 <= end {
                multiplyPair(l)
                l += 2
            }
        }
        while l < end {
            multiplyLine(l)
            l += 1
        }
    }

    /// Parts take whole lines with about equal numbers of kept entries
    /// (a line's work), found by bisection; the split changes no sum.
    private func firstLine(ofPart part: Int) -> Int {
        let lines = product.lines
        if part == 0 { return 0 }
        if part == parts { return lines.count }
        let target = lines.starts[lines.count] * part / parts
        var low = 0, high = lines.count
        while low < high {
            let middle = (low + high) / 2
            if lines.starts[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Lines l and l + 1 of C when n ≤ 64 and four whole vectors are
    /// readable: their entries taken in step, each line's in its own order.
    @inline(__always)
    private func multiplyPair(_ l: Int) {
        let lines = product.lines, b = product.b, ldb = product.ldb, depths = lines.depths
        let depthStride = lines.depthStride
        let w0 = lines.values + l * lines.lineStride, w1 = w0 + lines.lineStride
        var t0 = lines.starts[l], t1 = lines.starts[l + 1]
        let last0 = t1, last1 = lines.starts[l + 2]
        var c = (Vector(), Vector(), Vector(), Vector())
        var e = (Vector(), Vector(), Vector(), Vector())
        @inline(__always) func add(_ sums: inout (Vector, Vector, Vector, Vector), _ w: UnsafePointer<Float>, _ t: Int) {
            let d = Int(depths[t])
            let weight = Vector(repeating: w[d &* depthStride])
            let row = UnsafeRawPointer(b + d &* ldb)
            sums.0 = sums.0.addingProduct(weight, row.loadUnaligned(as: Vector.self))
            sums.1 = sums.1.addingProduct(weight, row.loadUnaligned(fromByteOffset: 64, as: Vector.self))
            sums.2 = sums.2.addingProduct(weight, row.loadUnaligned(fromByteOffset: 128, as: Vector.self))
            sums.3 = sums.3.addingProduct(weight, row.loadUnaligned(fromByteOffset: 192, as: Vector.self))
        }
        for slice in 0..<slicing.count {
            let end = Int32(truncatingIfNeeded: slicing.range(slice, depth: lines.depth).upperBound)
            var a = (Vector(), Vector(), Vector(), Vector()), f = a
            while t0 < last0 && depths[t0] < end && t1 < last1 && depths[t1] < end {
                add(&a, w0, t0); add(&f, w1, t1)
                t0 += 1; t1 += 1
            }
            while t0 < last0 && depths[t0] < end { add(&a, w0, t0); t0 += 1 }
            while t1 < last1 && depths[t1] < end { add(&f, w1, t1); t1 += 1 }
            if slice == 0 {
                c = a; e = f
            } else {
                c.0 = a.0 + c.0; c.1 = a.1 + c.1; c.2 = a.2 + c.2; c.3 = a.3 + c.3
                e.0 = f.0 + e.0; e.1 = f.1 + e.1; e.2 = f.2 + e.2; e.3 = f.3 + e.3
            }
        }
        write(c, line: l)
        write(e, line: l + 1)
    }

    @inline(__always)
    private func write(_ sums: (Vector, Vector, Vector, Vector), line l: Int) {
        let count = product.n
        withUnsafeBytes(of: sums) { raw in
            let sums = raw.assumingMemoryBound(to: Float.self).baseAddress!
            if product.transposedOutput {
                let out = product.c + l
                for i in 0..<count { out[i &* product.ldc] = sums[i] }
            } else {
                (product.c + l * product.ldc).update(from: sums, count: count)
            }
        }
    }

    /// Line l of C in blocks of eight vectors (eight independent FMA chains,
    /// enough to cover the FMA latency), the last block narrower.
    @inline(__always)
    private func multiplyLine(_ l: Int) {
        let n = product.n, readable = product.readable
        var i0 = 0
        while i0 < n {
            if i0 + 8 * lanes <= readable {
                multiplyBlock(line: l, from: i0, vectors: 8)
                i0 += 8 * lanes
            } else {
                multiplyBlock(line: l, from: i0, vectors: min(8, (n - i0 + lanes - 1) / lanes))
                i0 += 8 * lanes
            }
        }
    }

    /// Columns i0 ..< i0 + 16 · vectors of line l. `vectors == 8` only when
    /// all of them are readable as whole vectors.
    @inline(__always)
    private func multiplyBlock(line l: Int, from i0: Int, vectors: Int) {
        let lines = product.lines, b = product.b + i0, ldb = product.ldb
        let w = lines.values + l * lines.lineStride, depthStride = lines.depthStride, depths = lines.depths
        let last = lines.starts[l + 1]
        let whole = vectors == 8
        let available = product.readable - i0
        var t = lines.starts[l], slice = 0
        // The slices' sums added in order as the GEMM adds them to C
        // (a float's store and reload are exact), kept in registers.
        var c = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
        repeat {
            let end = slicing.range(slice, depth: lines.depth).upperBound
            var a = (Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector(), Vector())
            if whole {
                while t < last && Int(depths[t]) < end {
                    let d = Int(depths[t])
                    let weight = Vector(repeating: w[d * depthStride])
                    let row = UnsafeRawPointer(b + d * ldb)
                    a.0 = a.0.addingProduct(weight, row.loadUnaligned(as: Vector.self))
                    a.1 = a.1.addingProduct(weight, row.loadUnaligned(fromByteOffset: 64, as: Vector.self))
                    a.2 = a.2.addingProduct(weight, row.loadUnaligned(fromByteOffset: 128, as: Vector.self))
                    a.3 = a.3.addingProduct(weight, row.loadUnaligned(fromByteOffset: 192, as: Vector.self))
                    a.4 = a.4.addingProduct(weight, row.loadUnaligned(fromByteOffset: 256, as: Vector.self))
                    a.5 = a.5.addingProduct(weight, row.loadUnaligned(fromByteOffset: 320, as: Vector.self))
                    a.6 = a.6.addingProduct(weight, row.loadUnaligned(fromByteOffset: 384, as: Vector.self))
                    a.7 = a.7.addingProduct(weight, row.loadUnaligned(fromByteOffset: 448, as: Vector.self))
                    t += 1
                }
            } else {
                while t < last && Int(depths[t]) < end {
                    let d = Int(depths[t])
                    let weight = Vector(repeating: w[d * depthStride])
                    let row = b + d * ldb
                    a.0 = a.0.addingProduct(weight, loadVector(row, available: available))
                    a.1 = a.1.addingProduct(weight, loadVector(row + lanes, available: available - lanes))
                    a.2 = a.2.addingProduct(weight, loadVector(row + 2 * lanes, available: available - 2 * lanes))
                    a.3 = a.3.addingProduct(weight, loadVector(row + 3 * lanes, available: available - 3 * lanes))
                    if vectors > 4 {
                        a.4 = a.4.addingProduct(weight, loadVector(row + 4 * lanes, available: available - 4 * lanes))
                        a.5 = a.5.addingProduct(weight, loadVector(row + 5 * lanes, available: available - 5 * lanes))
                        a.6 = a.6.addingProduct(weight, loadVector(row + 6 * lanes, available: available - 6 * lanes))
                        a.7 = a.7.addingProduct(weight, loadVector(row + 7 * lanes, available: available - 7 * lanes))
                    }
                    t += 1
                }
            }
            if slice == 0 {
                c = a
            } else {
                c.0 = a.0 + c.0; c.1 = a.1 + c.1; c.2 = a.2 + c.2; c.3 = a.3 + c.3
                c.4 = a.4 + c.4; c.5 = a.5 + c.5; c.6 = a.6 + c.6; c.7 = a.7 + c.7
            }
            slice += 1
        } while slice < slicing.count
        let count = min(8 * lanes, product.n - i0)
        if !product.transposedOutput && count == 8 * lanes {
            let out = UnsafeMutableRawPointer(product.c + l * product.ldc + i0)
            out.storeBytes(of: c.0, as: Vector.self)
            out.storeBytes(of: c.1, toByteOffset: 64, as: Vector.self)
            out.storeBytes(of: c.2, toByteOffset: 128, as: Vector.self)
            out.storeBytes(of: c.3, toByteOffset: 192, as: Vector.self)
            out.storeBytes(of: c.4, toByteOffset: 256, as: Vector.self)
            out.storeBytes(of: c.5, toByteOffset: 320, as: Vector.self)
            out.storeBytes(of: c.6, toByteOffset: 384, as: Vector.self)
            out.storeBytes(of: c.7, toByteOffset: 448, as: Vector.self)
            return
        }
        withUnsafeBytes(of: c) { raw in
            let sums = raw.assumingMemoryBound(to: Float.self).baseAddress!
            if product.transposedOutput {
                let out = product.c + i0 * product.ldc + l
                for i in 0..<count { out[i * product.ldc] = sums[i] }
            } else {
                let out = product.c + l * product.ldc + i0
                for i in 0..<count { out[i] = sums[i] }
            }
        }
    }
}

/// The weight gradient at the kept entries only:
/// `G(r, j) = Σ_p A(r, p) · B(j, p)` over `p < depth`, for every kept (r, j),
/// written to `g[r · columns + j]` (or added to it with `accumulate`);
/// masked entries of `g` are not touched. A(r, p) is at
/// `a[r · aRowStride + p · aDepthStride]`, B(j, p) at
/// `b[j · bRowStride + p · bDepthStride]`. Same bits as the GEMM
/// `G = A · Bᵀ` (depth `depth`, beta 0 or 1) at those entries, whatever the
/// operands: no term is skipped. Vectorised across 16 kept entries of a row
/// at a time (their B values transposed in registers when `bDepthStride`
/// is 1, else gathered); threads split the entries. With `bDepthStride` 1,
/// B's rows may be read in whole 16-float vectors up to `readableDepth`
/// (default `depth`); the values past `depth` are never used.
public func sparseGradient(_ kept: CompressedRows,
                           a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
                           b: UnsafePointer<Float>, bRowStride: Int, bDepthStride: Int, depth: Int,
                           readableDepth: Int? = nil,
                           into g: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                           pool: WorkerPool = .shared) {
    if kept.rows == 0 { return }
    if depth == 0 {
        // The GEMM's k == 0 case: beta · G.
        guard !accumulate else { return }
        for r in 0..<kept.rows {
            for t in kept.entries(ofRow: r) { g[r * kept.columns + Int(kept.columnIndices[t])] = 0 }
        }
        return
    }
    var job = SparseGradientJob(kept: kept, a: a, aRowStride: aRowStride, aDepthStride: aDepthStride,
                                b: b, bRowStride: bRowStride, bDepthStride: bDepthStride, depth: depth,
                                readableDepth: readableDepth ?? depth, g: g,
                                accumulate: accumulate, slicing: DepthSlicing(depth: depth), parts: 1)
    job.parts = kept.keptCount * depth < sparseParallelThreshold ? 1 : max(1, min(pool.threadCount, kept.rows))
    pool.run(width: job.parts, job)
}

private struct SparseGradientJob: PoolJob {
    let kept: CompressedRows
    let a: UnsafePointer<Float>
    let aRowStride: Int, aDepthStride: Int
    let b: UnsafePointer<Float>
    let bRowStride: Int, bDepthStride: Int
    let depth: Int, readableDepth: Int
    let g: UnsafeMutablePointer<Float>
    let accumulate: Bool
    let slicing: DepthSlicing
    var parts: Int

    func run(part: Int, workspace: Workspace) {
        // Split by kept entries, not rows, so threads get equal work.
        let total = kept.keptCount
        let first = part * total / parts, last = (part + 1) * total / parts
        var r = 0
        while r < kept.rows && kept.rowStarts[r + 1] <= first { r += 1 }
        if bDepthStride != 1 {
            while r < kept.rows && kept.rowStarts[r] < last {
                let entries = kept.entries(ofRow: r)
                var t = max(first, entries.lowerBound)
                let end = min(last, entries.upperBound)
                while t < end {
                    gradient(row: r, entries: t..<min(end, t + lanes))
                    t += lanes
                }
                r += 1
            }
            return
        }
        // Groups of up to 16 consecutive entries from at most two rows (a
        // row's last few entries share a group with the next row's first),
        // two groups at a time (two independent FMA chains).
        var pending: EntryGroup?
        var t = first
        while t < last {
            while kept.rowStarts[r + 1] <= t { r += 1 }
            var end = min(t + lanes, last, kept.rowStarts[r + 1])
            var second = r
            if end < min(t + lanes, last) {
                // Row r ends inside the group: continue with the next non-empty row.
                second = r + 1
                while kept.rowStarts[second + 1] == kept.rowStarts[second] { second += 1 }
                end = min(t + lanes, last, kept.rowStarts[second + 1])
            }
            let group = EntryGroup(entries: t..<end, firstRow: r, secondRow: second,
                                   split: min(end, kept.rowStarts[r + 1]) - t)
            if let waiting = pending {
                gradientAlongRows(waiting, group, pair: true)
                pending = nil
            } else {
                pending = group
            }
            t = end
        }
        if let waiting = pending { gradientAlongRows(waiting, waiting, pair: false) }
    }

    /// Up to 16 consecutive kept entries, one lane each: lanes below `split`
    /// in `firstRow`, the others in `secondRow`.
    struct EntryGroup {
        let entries: Range<Int>
        let firstRow: Int, secondRow: Int
        let split: Int

        func row(ofLane l: Int) -> Int { l < split ? firstRow : secondRow }
    }

    /// Two groups of kept entries when B's rows are contiguous along the
    /// depth (Xᵀ, or a column matrix): 16 × 16 blocks of B are loaded as rows
    /// and transposed in registers, cheaper than gathering each value. Each
    /// lane's A value is its row's (a blend when the group spans two rows).
    /// With `pair` false the second group is the first and is not stored twice.
    @inline(__always)
    private func gradientAlongRows(_ one: EntryGroup, _ two: EntryGroup, pair: Bool) {
        let indices = kept.columnIndices
        // Spare lanes repeat the last entry: read, never stored.
        @inline(__always) func sources(_ entries: Range<Int>) -> SourceRows {
            @inline(__always) func row(_ l: Int) -> UnsafePointer<Float> {
                b + Int(indices[min(entries.lowerBound + l, entries.upperBound - 1)]) * bRowStride
            }
            return SourceRows(rows: (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
                                     row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15)))
        }
        let sourcesOne = sources(one.entries), sourcesTwo = sources(two.entries)
        let aOne = LaneRows(a: a, stride: aRowStride, depthStride: aDepthStride, group: one)
        let aTwo = LaneRows(a: a, stride: aRowStride, depthStride: aDepthStride, group: two)
        var totalOne = Vector(), totalTwo = Vector()
        for slice in 0..<slicing.count {
            let range = slicing.range(slice, depth: depth)
            var sumOne = Vector(), sumTwo = Vector()
            var p = range.lowerBound
            while p + lanes <= range.upperBound {
                // One group's block, then the other's: 16 transposed vectors
                // live at a time (no spills), the two chains still overlap.
                let x = sourcesOne.block(at: p)
                sumOne = sumOne.addingProduct(aOne.values(at: p), x.0)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 1), x.1)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 2), x.2)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 3), x.3)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 4), x.4)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 5), x.5)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 6), x.6)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 7), x.7)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 8), x.8)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 9), x.9)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 10), x.10)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 11), x.11)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 12), x.12)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 13), x.13)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 14), x.14)
                sumOne = sumOne.addingProduct(aOne.values(at: p &+ 15), x.15)
                let y = sourcesTwo.block(at: p)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p), y.0)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 1), y.1)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 2), y.2)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 3), y.3)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 4), y.4)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 5), y.5)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 6), y.6)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 7), y.7)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 8), y.8)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 9), y.9)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 10), y.10)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 11), y.11)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 12), y.12)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 13), y.13)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 14), y.14)
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ 15), y.15)
                p += lanes
            }
            if p < range.upperBound && p + lanes <= readableDepth {
                // The last depths of the slice: a whole block, partly used.
                let x = sourcesOne.block(at: p), y = sourcesTwo.block(at: p)
                withUnsafeBytes(of: x) { xRaw in
                    withUnsafeBytes(of: y) { yRaw in
                        let xs = xRaw.baseAddress!, ys = yRaw.baseAddress!
                        for q in 0..<(range.upperBound - p) {
                            sumOne = sumOne.addingProduct(aOne.values(at: p &+ q),
                                                          xs.loadUnaligned(fromByteOffset: q * 64, as: Vector.self))
                            sumTwo = sumTwo.addingProduct(aTwo.values(at: p &+ q),
                                                          ys.loadUnaligned(fromByteOffset: q * 64, as: Vector.self))
                        }
                    }
                }
                p = range.upperBound
            }
            while p < range.upperBound {
                sumOne = sumOne.addingProduct(aOne.values(at: p), sourcesOne.column(p))
                sumTwo = sumTwo.addingProduct(aTwo.values(at: p), sourcesTwo.column(p))
                p += 1
            }
            if slice == 0 && !accumulate {
                totalOne = sumOne; totalTwo = sumTwo
            } else {
                if slice == 0 {
                    // The GEMM with beta 1 adds the first slice to G, then the next.
                    totalOne = stored(one)
                    totalTwo = stored(two)
                }
                totalOne = sumOne + totalOne; totalTwo = sumTwo + totalTwo
            }
        }
        store(totalOne, one)
        if pair { store(totalTwo, two) }
    }

    @inline(__always)
    private func stored(_ group: EntryGroup) -> Vector {
        var v = Vector()
        for l in 0..<group.entries.count {
            v[l] = g[group.row(ofLane: l) * kept.columns + Int(kept.columnIndices[group.entries.lowerBound + l])]
        }
        return v
    }

    @inline(__always)
    private func store(_ v: Vector, _ group: EntryGroup) {
        for l in 0..<group.entries.count {
            g[group.row(ofLane: l) * kept.columns + Int(kept.columnIndices[group.entries.lowerBound + l])] = v[l]
        }
    }

    /// Up to 16 kept entries of row r, one lane each.
    @inline(__always)
    private func gradient(row r: Int, entries: Range<Int>) {
        let indices = kept.columnIndices
        // Spare lanes repeat the last entry: read, never stored.
        @inline(__always) func offset(_ l: Int) -> Int {
            Int(indices[min(entries.lowerBound + l, entries.upperBound - 1)]) * bRowStride
        }
        let o0 = offset(0), o1 = offset(1), o2 = offset(2), o3 = offset(3)
        let o4 = offset(4), o5 = offset(5), o6 = offset(6), o7 = offset(7)
        let o8 = offset(8), o9 = offset(9), o10 = offset(10), o11 = offset(11)
        let o12 = offset(12), o13 = offset(13), o14 = offset(14), o15 = offset(15)
        let aRow = a + r * aRowStride
        let out = g + r * kept.columns
        for slice in 0..<slicing.count {
            var sum = Vector()
            for p in slicing.range(slice, depth: depth) {
                let x = b + p * bDepthStride
                let gathered = Vector(x[o0], x[o1], x[o2], x[o3], x[o4], x[o5], x[o6], x[o7],
                                      x[o8], x[o9], x[o10], x[o11], x[o12], x[o13], x[o14], x[o15])
                sum = sum.addingProduct(Vector(repeating: aRow[p * aDepthStride]), gathered)
            }
            let adding = slice > 0 || accumulate
            for l in 0..<entries.count {
                let index = Int(indices[entries.lowerBound + l])
                out[index] = adding ? sum[l] + out[index] : sum[l]
            }
        }
    }
}

/// The A rows of a gradient's entry group, lane by lane: its first row
/// below the split, its second from there.
private struct LaneRows {
    let first: UnsafePointer<Float>, second: UnsafePointer<Float>
    let depthStride: Int
    let secondLanes: SIMDMask<SIMD16<Int32>>
    let mixed: Bool

    @inline(__always)
    init(a: UnsafePointer<Float>, stride: Int, depthStride: Int, group: SparseGradientJob.EntryGroup) {
        first = a + group.firstRow * stride
        second = a + group.secondRow * stride
        self.depthStride = depthStride
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        secondLanes = lane .>= SIMD16(repeating: Int32(group.split))
        mixed = group.firstRow != group.secondRow
    }

    /// Each lane's A at depth p.
    @inline(__always)
    func values(at p: Int) -> SIMD16<Float> {
        let one = SIMD16<Float>(repeating: first[p &* depthStride])
        guard mixed else { return one }
        return one.replacing(with: SIMD16(repeating: second[p &* depthStride]), where: secondLanes)
    }
}

/// Sixteen rows of a gradient's B operand, read along the depth.
private struct SourceRows {
    typealias Rows = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                      UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                      UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                      UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)
    let rows: Rows

    /// Depths p ..< p + 16 of the sixteen rows, transposed: vector q holds depth p + q.
    @inline(__always)
    func block(at p: Int) -> Vectors16 {
        @inline(__always) func load(_ row: UnsafePointer<Float>) -> Vector {
            UnsafeRawPointer(row + p).loadUnaligned(as: Vector.self)
        }
        return transposed16((load(rows.0), load(rows.1), load(rows.2), load(rows.3),
                             load(rows.4), load(rows.5), load(rows.6), load(rows.7),
                             load(rows.8), load(rows.9), load(rows.10), load(rows.11),
                             load(rows.12), load(rows.13), load(rows.14), load(rows.15)))
    }

    /// Depth p of the sixteen rows.
    @inline(__always)
    func column(_ p: Int) -> Vector {
        Vector(rows.0[p], rows.1[p], rows.2[p], rows.3[p], rows.4[p], rows.5[p], rows.6[p], rows.7[p],
               rows.8[p], rows.9[p], rows.10[p], rows.11[p], rows.12[p], rows.13[p], rows.14[p], rows.15[p])
    }
}

/// Whether every one of `count` floats is finite (no NaN, no ±∞).
public func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
    // x · 0 is ±0 for finite x and NaN otherwise; NaN survives the sum.
    var probe = Vector()
    var i = 0
    while i + lanes <= count {
        probe += UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self) * 0
        i += lanes
    }
    var tail: Float = 0
    while i < count { tail += x[i] * 0; i += 1 }
    return probe.sum() == 0 && tail == 0
}
