/// Single-precision general matrix multiply: `C = alpha · op(A) · op(B) + beta · C`.
///
/// Row-major with leading dimensions, so views into larger buffers work.
/// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`; `lda`, `ldb` and
/// `ldc` are the distances between consecutive stored rows. When `beta == 0`,
/// `C` is write-only (NaN there does not propagate); when `alpha == 0` or
/// `k == 0`, A and B are not read.
///
/// The work is split over rows and columns of C (never over k) on `pool`, so
/// results are bit-identical whatever the thread count.
///
/// ```swift
/// // y = x · Wᵀ for a batch x (60 × 784) and weights W (300 × 784)
/// gemm(transB: .transposed, m: 60, n: 300, k: 784,
///      a: x, lda: 784, b: w, ldb: 784, c: y, ldc: 300)
/// ```
public func gemm(
    transA: Transpose = .none, transB: Transpose = .none,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    pool: WorkerPool = .shared
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension")
    precondition(ldc >= n, "gemm: ldc < n")
    precondition(lda >= (transA == .none ? k : m), "gemm: lda too small")
    precondition(ldb >= (transB == .none ? n : k), "gemm: ldb too small")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scale(c, rows: m, columns: n, ldc: ldc, by: beta)
        return
    }
    let plan = GEMMPlan(
        a: StridedMatrix(a, leadingDimension: lda, transpose: transA, rows: m, columns: k),
        b: StridedMatrix(b, leadingDimension: ldb, transpose: transB, rows: k, columns: n),
        c: c, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta)
    let threads = plan.threadCount(available: pool.threadCount)
    pool.run(width: threads, GEMMJob(plan: plan, threads: threads))
}

/// One GEMM call's share-out over the pool: part `p` computes its region of
/// C. Region boundaries fall on whole tiles, and the tile grid is the same
/// for every thread count.
private struct GEMMJob: PoolJob {
    let plan: GEMMPlan
    let threads: Int

    func run(part: Int, workspace: Workspace) {
        let splitRows = plan.splitsRows
        let units = splitRows ? (plan.m + Blocking.mr - 1) / Blocking.mr : (plan.n + Blocking.nr - 1) / Blocking.nr
        let first = part * units / threads, last = (part + 1) * units / threads
        if splitRows {
            let rowStart = first * Blocking.mr
            plan.compute(rows: rowStart..<min(plan.m, last * Blocking.mr), columns: 0..<plan.n, workspace: workspace)
        } else {
            let columnStart = first * Blocking.nr
            plan.compute(rows: 0..<plan.m, columns: columnStart..<min(plan.n, last * Blocking.nr), workspace: workspace)
        }
    }
}

/// Thresholds of the GEMM driver's per-shape decisions (tuned on this
/// machine with `gemm-bench`); variables so tests can force every path.
enum GEMMTuning {
    /// Below this many multiply-adds (m·n·k) a call runs on one thread: the
    /// hand-off costs more than it saves.
    nonisolated(unsafe) static var parallelThreshold = 1 << 18
    /// Use B in place (no packing) when at most this many rows of C reuse
    /// each B micro-panel (and `GEMMPlan.canReadInPlace`).
    nonisolated(unsafe) static var directBMaximumRows = 64
    /// Use A in place (no packing) when at most this many columns of C reuse
    /// each A micro-panel (and `GEMMPlan.canReadInPlace`): packing A costs
    /// about as much as 8 panels' worth of its reuse. A with at most 64 rows
    /// is always read in place: its K slice (≤ 80 KiB) stays in L2 anyway.
    nonisolated(unsafe) static var directAMaximumColumns = 128
}

/// How a product of depth k is cut into slices: equal, at most KC deep,
/// depending on k alone. Each slice's terms are summed from zero, and the
/// slices' sums are added to C in order. The GEMM and the sparse kernels
/// (`SparseProducts.swift`) share it, so they sum every element alike.
struct DepthSlicing {
    let count: Int
    let sliceDepth: Int

    init(depth k: Int) {
        count = max(1, (k + Blocking.kc - 1) / Blocking.kc)
        sliceDepth = max(1, (k + count - 1) / count)
    }

    /// The depth indices of slice `slice`.
    @inline(__always)
    func range(_ slice: Int, depth k: Int) -> Range<Int> {
        min(k, slice * sliceDepth)..<min(k, (slice + 1) * sliceDepth)
    }
}

/// C = beta · C for the degenerate cases; beta == 0 writes zeros.
private func scale(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, by beta: Float) {
    for i in 0..<rows {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: columns)
        } else if beta != 1 {
            for j in 0..<columns { row[j] *= beta }
        }
    }
}

/// Everything about one GEMM call that does not depend on the thread: the
/// orientation, the K slicing and the packing decisions. They depend on the
/// shape only, so every thread count computes each element the same way.
struct GEMMPlan {
    /// op(A) and op(B) of the oriented problem (see `transposesProblem`).
    let a: StridedMatrix
    let b: StridedMatrix
    let c: UnsafeMutablePointer<Float>
    let cRowStride: Int
    let cColumnStride: Int
    let m: Int, n: Int, k: Int
    let alpha: Float, beta: Float
    /// Whether the plan computes Cᵀ = op(B)ᵀ·op(A)ᵀ instead. The microkernel
    /// vectorises along rows of its B operand, which must then be contiguous;
    /// when op(B) is not (B transposed) and op(A)ᵀ is (TT), swapping the
    /// roles costs only strided stores of C. With the 6 × 16 tile also for NT
    /// when op(A) is the smaller operand to transpose while packing; with the
    /// wide tile NT is not swapped (MatrixKernels README).
    let transposesProblem: Bool
    /// K is cut into equal slices of at most KC, independent of the threads,
    /// so every element of C accumulates in the same order.
    let sliceCount: Int
    let sliceDepth: Int
    let packsA: Bool
    let packsB: Bool

    init(a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int,
         m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        let bIsContiguous = b.columnStride == 1
        let aTransposeIsContiguous = a.rowStride == 1
        // With the wide tile NT is not swapped: packing B through 8 × 8
        // transposes measured faster than the swapped tile's strided stores.
        let swap = !bIsContiguous && (aTransposeIsContiguous || (!Blocking.wideTile && 2 * m <= n))
        transposesProblem = swap
        if swap {
            self.a = StridedMatrix(base: b.base, rowStride: b.columnStride, columnStride: b.rowStride, end: b.end)
            self.b = StridedMatrix(base: a.base, rowStride: a.columnStride, columnStride: a.rowStride, end: a.end)
            self.m = n; self.n = m
            cRowStride = 1; cColumnStride = ldc
        } else {
            self.a = a; self.b = b
            self.m = m; self.n = n
            cRowStride = ldc; cColumnStride = 1
        }
        self.c = c; self.k = k; self.alpha = alpha; self.beta = beta
        let slicing = DepthSlicing(depth: k)
        sliceCount = slicing.count
        sliceDepth = slicing.sliceDepth
        packsB = !(Self.canReadInPlace(self.b) && self.m <= GEMMTuning.directBMaximumRows)
        packsA = !(Self.canReadInPlace(self.a) && (self.n <= GEMMTuning.directAMaximumColumns || self.m <= 64))
    }

    /// Whether the microkernel can stream this operand unpacked: its rows
    /// must be contiguous, and the row stride must not be a multiple of
    /// 256 bytes, where a KC-deep panel's rows would all fall into a few L1
    /// sets and evict each other.
    static func canReadInPlace(_ matrix: StridedMatrix) -> Bool {
        matrix.columnStride == 1 && matrix.rowStride % 64 != 0
    }

    /// Split the larger side, so the duplicated packing (each thread packs
    /// its own copy of the other operand) is of the smaller one.
    var splitsRows: Bool { m > n }

    func threadCount(available: Int) -> Int {
        if m * n * k < GEMMTuning.parallelThreshold { return 1 }
        let units = splitsRows ? (m + Blocking.mr - 1) / Blocking.mr : (n + Blocking.nr - 1) / Blocking.nr
        return max(1, min(available, units))
    }

    /// The serial five-loop GEMM on one rectangle of (oriented) C.
    func compute(rows: Range<Int>, columns: Range<Int>, workspace: Workspace) {
        if rows.isEmpty || columns.isEmpty { return }
        let mr = Blocking.mr, nr = Blocking.nr
        // Equal row blocks of at most MC (in whole MR panels), so no thin last
        // block re-streams every B micro-panel for a few rows.
        let blockCount = (rows.count + Blocking.mc - 1) / Blocking.mc
        let blockRows = packsA ? roundUp((rows.count + blockCount - 1) / blockCount, mr) : rows.count
        let panelColumns = min(Blocking.nc, columns.count)
        let bufferB = workspace.bufferB(count: packsB ? sliceDepth * roundUp(panelColumns, nr) : sliceDepth * nr)
        let bufferA = workspace.bufferA(count: packsA ? sliceDepth * roundUp(min(blockRows, rows.count), mr) : sliceDepth * mr)

        var jc = columns.lowerBound
        while jc < columns.upperBound {
            let nc = min(Blocking.nc, columns.upperBound - jc)
            let bPanels = (nc + nr - 1) / nr
            for slice in 0..<sliceCount {
                let pc = slice * sliceDepth
                let kc = min(sliceDepth, k - pc)
                let sliceBeta: Float = slice == 0 ? beta : 1
                if packsB {
                    packB(b, row: pc, depth: kc, column: jc, columns: nc, into: bufferB)
                } else if nc % nr != 0 {
                    // Only the ragged last panel is copied, so reads stay in bounds.
                    packB(b, row: pc, depth: kc, column: jc + (bPanels - 1) * nr, columns: nc % nr, into: bufferB)
                }
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mcount = min(blockRows, rows.upperBound - ic)
                    let aPanels = (mcount + mr - 1) / mr
                    if packsA {
                        packA(a, row: ic, rows: mcount, column: pc, depth: kc, into: bufferA)
                    } else if mcount % mr != 0 {
                        packA(a, row: ic + (aPanels - 1) * mr, rows: mcount % mr, column: pc, depth: kc, into: bufferA)
                    }
                    // B's micro-panel stays in L1 while A's panels stream past it.
                    for jr in 0..<bPanels {
                        let columnsHere = min(nr, nc - jr * nr)
                        let bPanel: UnsafePointer<Float>
                        let bRowStride: Int
                        if packsB {
                            bPanel = UnsafePointer(bufferB + jr * nr * kc); bRowStride = nr
                        } else if columnsHere < nr {
                            bPanel = UnsafePointer(bufferB); bRowStride = nr
                        } else {
                            bPanel = b.offset(row: pc, column: jc + jr * nr); bRowStride = b.rowStride
                        }
                        let cColumn = c + (jc + jr * nr) * cColumnStride
                        for ir in 0..<aPanels {
                            let rowsHere = min(mr, mcount - ir * mr)
                            let cTile = cColumn + (ic + ir * mr) * cRowStride
                            let aPanel: UnsafePointer<Float>
                            let aRowStride: Int, aColumnStride: Int
                            if packsA || rowsHere < mr {
                                aPanel = UnsafePointer(packsA ? bufferA + ir * mr * kc : bufferA)
                                aRowStride = 1; aColumnStride = mr
                            } else {
                                aPanel = a.offset(row: ic + ir * mr, column: pc)
                                aRowStride = a.rowStride; aColumnStride = a.columnStride
                            }
                            runMicrokernel(columns: columnsHere, k: kc, a: aPanel, aRowStride: aRowStride,
                                           aColumnStride: aColumnStride, b: bPanel, bRowStride: bRowStride,
                                           c: cTile, rows: rowsHere, beta: sliceBeta)
                        }
                    }
                    ic += mcount
                }
            }
            jc += nc
        }
    }
}

extension GEMMPlan {
    /// One tile through the kernel as wide as its columns need: a ragged
    /// panel runs 8, 8 + 4 (AVX2), 16 or 16 + 8 lanes wide instead of a full NR.
    @inline(__always)
    fileprivate func runMicrokernel(columns: Int, k: Int, a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
                                    b: UnsafePointer<Float>, bRowStride: Int, c: UnsafeMutablePointer<Float>,
                                    rows: Int, beta: Float) {
        // A 512-bit register holds 16 lanes: a 9…16-column edge is one zmm
        // per row, cheaper than an 8 + 4 pair of narrower registers.
        if columns <= 8 && !Blocking.wideTile {
            microkernel(SIMD8<Float>.self, k: k, a: a, aRowStride: aRowStride, aColumnStride: aColumnStride,
                        b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, cColumnStride: cColumnStride,
                        rows: rows, columns: columns, alpha: alpha, beta: beta)
        } else if columns <= 12 && !Blocking.wideTile {
            microkernelPair(SIMD8<Float>.self, SIMD4<Float>.self, k: k, a: a, aRowStride: aRowStride,
                            aColumnStride: aColumnStride, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                            cColumnStride: cColumnStride, rows: rows, columns: columns, alpha: alpha, beta: beta)
        } else if columns <= 16 {
            microkernel(TileVector.self, k: k, a: a, aRowStride: aRowStride, aColumnStride: aColumnStride,
                        b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride, cColumnStride: cColumnStride,
                        rows: rows, columns: columns, alpha: alpha, beta: beta)
        } else if columns <= 24 {
            microkernelPair(TileVector.self, SIMD8<Float>.self, k: k, a: a, aRowStride: aRowStride,
                            aColumnStride: aColumnStride, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                            cColumnStride: cColumnStride, rows: rows, columns: columns, alpha: alpha, beta: beta)
        } else {
            microkernelPair(TileVector.self, TileVector.self, k: k, a: a, aRowStride: aRowStride,
                            aColumnStride: aColumnStride, b: b, bRowStride: bRowStride, c: c, cRowStride: cRowStride,
                            cColumnStride: cColumnStride, rows: rows, columns: columns, alpha: alpha, beta: beta)
        }
    }
}

@inline(__always)
private func roundUp(_ value: Int, _ multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

