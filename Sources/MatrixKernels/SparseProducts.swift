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

/// The operands of `sparseMultiply` and `sparseTransposedMultiply`.
private struct SparseProduct {
    let kept: CompressedRows
    let values: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let ldb: Int, n: Int, readable: Int
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let transposedOutput: Bool

    /// Stores `count` sums as row `row` of C from column `i0` (or adds them
    /// to what is there, as the GEMM adds a later depth slice).
    @inline(__always)
    func write(_ sums: UnsafePointer<Float>, row: Int, from i0: Int, count: Int, adding: Bool) {
        if transposedOutput {
            let out = c + i0 * ldc + row
            for l in 0..<count { out[l * ldc] = adding ? sums[l] + out[l * ldc] : sums[l] }
        } else {
            let out = c + row * ldc + i0
            for l in 0..<count { out[l] = adding ? sums[l] + out[l] : sums[l] }
        }
    }
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
    if kept.rows == 0 || n == 0 { return }
    let product = SparseProduct(kept: kept, values: values, b: b, ldb: ldb, n: n, readable: readableColumns ?? n,
                                c: c, ldc: ldc, transposedOutput: transposedOutput)
    var job = SparseMultiplyJob(product: product, slicing: DepthSlicing(depth: kept.columns), parts: 1)
    job.parts = kept.keptCount * n < sparseParallelThreshold ? 1 : max(1, min(pool.threadCount, kept.rows))
    pool.run(width: job.parts, job)
}

private struct SparseMultiplyJob: PoolJob {
    let product: SparseProduct
    let slicing: DepthSlicing
    var parts: Int

    func run(part: Int, workspace: Workspace) {
        let rows = product.kept.rows
        for r in (part * rows / parts)..<((part + 1) * rows / parts) { multiplyRow(r) }
    }

    /// Row r of C, in blocks of four vectors (four independent FMA chains).
    @inline(__always)
    private func multiplyRow(_ r: Int) {
        let kept = product.kept, b = product.b, ldb = product.ldb, n = product.n, readable = product.readable
        let w = product.values + r * kept.columns, indices = kept.columnIndices
        let entries = kept.entries(ofRow: r)
        var i0 = 0
        while i0 < n {
            let width = min(4 * lanes, n - i0)
            var slice = 0, t = entries.lowerBound
            // The slices' sums added in order as the GEMM adds them to C
            // (a float's store and reload are exact), kept in registers.
            var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector()
            repeat {
                let end = slicing.range(slice, depth: kept.columns).upperBound
                var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
                if i0 + 4 * lanes <= readable {
                    while t < entries.upperBound && Int(indices[t]) < end {
                        let column = Int(indices[t])
                        let weight = Vector(repeating: w[column])
                        let row = UnsafeRawPointer(b + column * ldb + i0)
                        a0 = a0.addingProduct(weight, row.loadUnaligned(as: Vector.self))
                        a1 = a1.addingProduct(weight, row.loadUnaligned(fromByteOffset: 64, as: Vector.self))
                        a2 = a2.addingProduct(weight, row.loadUnaligned(fromByteOffset: 128, as: Vector.self))
                        a3 = a3.addingProduct(weight, row.loadUnaligned(fromByteOffset: 192, as: Vector.self))
                        t += 1
                    }
                } else {
                    let available = readable - i0
                    while t < entries.upperBound && Int(indices[t]) < end {
                        let column = Int(indices[t])
                        let weight = Vector(repeating: w[column])
                        let row = b + column * ldb + i0
                        a0 = a0.addingProduct(weight, loadVector(row, available: available))
                        a1 = a1.addingProduct(weight, loadVector(row + lanes, available: available - lanes))
                        a2 = a2.addingProduct(weight, loadVector(row + 2 * lanes, available: available - 2 * lanes))
                        a3 = a3.addingProduct(weight, loadVector(row + 3 * lanes, available: available - 3 * lanes))
                        t += 1
                    }
                }
                if slice == 0 {
                    c0 = a0; c1 = a1; c2 = a2; c3 = a3
                } else {
                    c0 = a0 + c0; c1 = a1 + c1; c2 = a2 + c2; c3 = a3 + c3
                }
                slice += 1
            } while slice < slicing.count
            withUnsafeBytes(of: (c0, c1, c2, c3)) { raw in
                product.write(raw.assumingMemoryBound(to: Float.self).baseAddress!, row: r, from: i0, count: width,
                              adding: false)
            }
            i0 += width
        }
    }
}

/// `C = Wᵀ · B` for W as in `sparseMultiply`, B (`rows × n`, rows `ldb`
/// apart) and C (`columns × n`, rows `ldc` apart, or with `transposedOutput`
/// C(j, i) at `c[i · ldc + j]`). Same bits as
/// `gemm(transA: .transposed, m: columns, n: n, k: rows, a: W, b: B, beta: 0)`
/// for finite B. Each kept entry scatters its row of B into a per-thread
/// slice buffer; threads split the n columns.
public func sparseTransposedMultiply(_ kept: CompressedRows, values: UnsafePointer<Float>,
                                     b: UnsafePointer<Float>, ldb: Int, n: Int, readableColumns: Int? = nil,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, transposedOutput: Bool = false,
                                     pool: WorkerPool = .shared) {
    precondition(n >= 0 && ldb >= n && (transposedOutput ? ldc >= kept.columns : ldc >= n))
    if kept.columns == 0 || n == 0 { return }
    // A slice buffer of columns × width stays in L2.
    let width = kept.columns * 4 * lanes * MemoryLayout<Float>.stride <= 128 << 10 ? 4 * lanes : lanes
    let blocks = (n + width - 1) / width
    let product = SparseProduct(kept: kept, values: values, b: b, ldb: ldb, n: n, readable: readableColumns ?? n,
                                c: c, ldc: ldc, transposedOutput: transposedOutput)
    var job = SparseTransposedJob(product: product, slicing: DepthSlicing(depth: kept.rows), width: width,
                                  blocks: blocks, parts: 1)
    job.parts = kept.keptCount * n < sparseParallelThreshold ? 1 : max(1, min(pool.threadCount, blocks))
    pool.run(width: job.parts, job)
}

private struct SparseTransposedJob: PoolJob {
    let product: SparseProduct
    let slicing: DepthSlicing
    /// Columns of C per block (64 or 16) and the number of blocks.
    let width: Int, blocks: Int
    var parts: Int

    func run(part: Int, workspace: Workspace) {
        let kept = product.kept
        let sums = workspace.bufferA(count: kept.columns * width)
        for block in (part * blocks / parts)..<((part + 1) * blocks / parts) {
            let i0 = block * width
            for slice in 0..<slicing.count {
                sums.update(repeating: 0, count: kept.columns * width)
                for r in slicing.range(slice, depth: kept.rows) { scatter(row: r, from: i0, into: sums) }
                for j in 0..<kept.columns {
                    product.write(sums + j * width, row: j, from: i0, count: min(width, product.n - i0), adding: slice > 0)
                }
            }
        }
    }

    /// sums[j] += W(r, j) · B(r, i0 ..< i0 + width) for the kept j of row r.
    @inline(__always)
    private func scatter(row r: Int, from i0: Int, into sums: UnsafeMutablePointer<Float>) {
        let kept = product.kept, readable = product.readable
        let w = product.values + r * kept.columns, indices = kept.columnIndices
        let source = product.b + r * product.ldb + i0
        let vectors = width / lanes
        if i0 + width <= readable {
            var x = (Vector(), Vector(), Vector(), Vector())
            x.0 = UnsafeRawPointer(source).loadUnaligned(as: Vector.self)
            if vectors == 4 {
                x.1 = UnsafeRawPointer(source + lanes).loadUnaligned(as: Vector.self)
                x.2 = UnsafeRawPointer(source + 2 * lanes).loadUnaligned(as: Vector.self)
                x.3 = UnsafeRawPointer(source + 3 * lanes).loadUnaligned(as: Vector.self)
            }
            scatter(x, weights: w, entries: kept.entries(ofRow: r), indices: indices, into: sums, vectors: vectors)
        } else {
            let available = readable - i0
            let x = (loadVector(source, available: available),
                     vectors == 4 ? loadVector(source + lanes, available: available - lanes) : Vector(),
                     vectors == 4 ? loadVector(source + 2 * lanes, available: available - 2 * lanes) : Vector(),
                     vectors == 4 ? loadVector(source + 3 * lanes, available: available - 3 * lanes) : Vector())
            scatter(x, weights: w, entries: kept.entries(ofRow: r), indices: indices, into: sums, vectors: vectors)
        }
    }

    @inline(__always)
    private func scatter(_ x: (Vector, Vector, Vector, Vector), weights w: UnsafePointer<Float>, entries: Range<Int>,
                         indices: UnsafePointer<Int32>, into sums: UnsafeMutablePointer<Float>, vectors: Int) {
        for t in entries {
            let j = Int(indices[t])
            let weight = Vector(repeating: w[j])
            let target = UnsafeMutableRawPointer(sums + j * width)
            target.storeBytes(of: target.load(as: Vector.self).addingProduct(weight, x.0), as: Vector.self)
            if vectors == 4 {
                target.storeBytes(of: target.load(fromByteOffset: 64, as: Vector.self).addingProduct(weight, x.1),
                                  toByteOffset: 64, as: Vector.self)
                target.storeBytes(of: target.load(fromByteOffset: 128, as: Vector.self).addingProduct(weight, x.2),
                                  toByteOffset: 128, as: Vector.self)
                target.storeBytes(of: target.load(fromByteOffset: 192, as: Vector.self).addingProduct(weight, x.3),
                                  toByteOffset: 192, as: Vector.self)
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
/// at a time (their B values gathered); threads split the rows.
public func sparseGradient(_ kept: CompressedRows,
                           a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
                           b: UnsafePointer<Float>, bRowStride: Int, bDepthStride: Int, depth: Int,
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
                                b: b, bRowStride: bRowStride, bDepthStride: bDepthStride, depth: depth, g: g,
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
    let depth: Int
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
        while r < kept.rows && kept.rowStarts[r] < last {
            let entries = kept.entries(ofRow: r)
            var t = max(first, entries.lowerBound)
            let end = min(last, entries.upperBound)
            if bDepthStride == 1 {
                while t < end {
                    gradientAlongRows(row: r, entries: t..<min(end, t + 8))
                    t += 8
                }
            } else {
                while t < end {
                    gradient(row: r, entries: t..<min(end, t + lanes))
                    t += lanes
                }
            }
            r += 1
        }
    }

    /// Up to 8 kept entries of row r when B's rows are contiguous along the
    /// depth (Xᵀ, or a column matrix): 4 × 4 blocks of B are loaded as rows
    /// and transposed in registers, cheaper than gathering each value.
    @inline(__always)
    private func gradientAlongRows(row r: Int, entries: Range<Int>) {
        typealias Quad = SIMD4<Float>
        let indices = kept.columnIndices
        // Spare lanes repeat the last entry: read, never stored.
        @inline(__always) func source(_ l: Int) -> UnsafePointer<Float> {
            b + Int(indices[min(entries.lowerBound + l, entries.upperBound - 1)]) * bRowStride
        }
        let b0 = source(0), b1 = source(1), b2 = source(2), b3 = source(3)
        let b4 = source(4), b5 = source(5), b6 = source(6), b7 = source(7)
        let aRow = a + r * aRowStride
        let out = g + r * kept.columns
        @inline(__always) func load(_ row: UnsafePointer<Float>, _ i: Int) -> Quad {
            UnsafeRawPointer(row + i).loadUnaligned(as: Quad.self)
        }
        var low = Quad(), high = Quad()
        for slice in 0..<slicing.count {
            let range = slicing.range(slice, depth: depth)
            var sumLow = Quad(), sumHigh = Quad()
            var p = range.lowerBound
            while p + 4 <= range.upperBound {
                let (l0, l1, l2, l3) = transposed(load(b0, p), load(b1, p), load(b2, p), load(b3, p))
                let (h0, h1, h2, h3) = transposed(load(b4, p), load(b5, p), load(b6, p), load(b7, p))
                let x0 = Quad(repeating: aRow[p * aDepthStride]), x1 = Quad(repeating: aRow[(p + 1) * aDepthStride])
                let x2 = Quad(repeating: aRow[(p + 2) * aDepthStride]), x3 = Quad(repeating: aRow[(p + 3) * aDepthStride])
                sumLow = sumLow.addingProduct(x0, l0); sumHigh = sumHigh.addingProduct(x0, h0)
                sumLow = sumLow.addingProduct(x1, l1); sumHigh = sumHigh.addingProduct(x1, h1)
                sumLow = sumLow.addingProduct(x2, l2); sumHigh = sumHigh.addingProduct(x2, h2)
                sumLow = sumLow.addingProduct(x3, l3); sumHigh = sumHigh.addingProduct(x3, h3)
                p += 4
            }
            while p < range.upperBound {
                let x = Quad(repeating: aRow[p * aDepthStride])
                sumLow = sumLow.addingProduct(x, Quad(b0[p], b1[p], b2[p], b3[p]))
                sumHigh = sumHigh.addingProduct(x, Quad(b4[p], b5[p], b6[p], b7[p]))
                p += 1
            }
            if slice == 0 && !accumulate {
                low = sumLow; high = sumHigh
            } else {
                if slice == 0 {
                    // The GEMM with beta 1 adds the first slice to G, then the next.
                    for l in 0..<entries.count {
                        let old = out[Int(indices[entries.lowerBound + l])]
                        if l < 4 { low[l] = old } else { high[l - 4] = old }
                    }
                }
                low = sumLow + low; high = sumHigh + high
            }
        }
        for l in 0..<entries.count {
            out[Int(indices[entries.lowerBound + l])] = l < 4 ? low[l] : high[l - 4]
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

/// The 4 × 4 transpose: lane i of result q is lane q of row i.
@inline(__always)
func transposed(_ r0: SIMD4<Float>, _ r1: SIMD4<Float>, _ r2: SIMD4<Float>,
                        _ r3: SIMD4<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
    // Two-source lane picks, which LLVM turns into shuffles.
    let t0 = SIMD4(r0[0], r1[0], r0[1], r1[1]), t1 = SIMD4(r0[2], r1[2], r0[3], r1[3])
    let t2 = SIMD4(r2[0], r3[0], r2[1], r3[1]), t3 = SIMD4(r2[2], r3[2], r2[3], r3[3])
    return (SIMD4(t0[0], t0[1], t2[0], t2[1]), SIMD4(t0[2], t0[3], t2[2], t2[3]),
            SIMD4(t1[0], t1[1], t3[0], t3[1]), SIMD4(t1[2], t1[3], t3[2], t3[3]))
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
