// The instruction-set-specific part of the GEMM: the register-blocked
// microkernel and the blocking constants. Everything else (packing, the five
// loops, threading) is portable and only reads the constants below.
//
// Chosen for this machine as it presents itself (`lscpu`): AMD EPYC under KVM
// exposing AVX2 + FMA (16 vector registers of 256 bits, no AVX-512), L1d 32 KiB
// and L2 512 KiB per core, L3 8 MiB shared. The kernel is written with generic
// `SIMD16<Float>`, so it compiles everywhere; `-target-cpu native` (Package.swift)
// lets LLVM lower each SIMD16 to two ymm registers with vfmadd231ps here, to one
// zmm register on AVX-512 machines and to four q registers on NEON.

/// Blocking constants of the five-loop GEMM (BLIS naming).
enum Blocking {
    /// Rows of C per microkernel tile: one broadcast of A per row.
    static let mr = 6
    /// Columns of C per microkernel tile: one `SIMD16<Float>` per row.
    /// 6 × 16 keeps 12 ymm accumulators + 2 for B + 1 broadcast in the 16
    /// AVX2 registers (the classic Haswell/Zen shape).
    static let nr = 16
    /// Depth of a K slice: a KC × NR micro-panel of B (20 KiB) stays in L1
    /// while MR × KC micro-panels of A (7.5 KiB) stream through it. 320
    /// rather than BLIS's 256 so the trainer's k = 300 is a single slice.
    static let kc = tuningValue("GEMM_KC") ?? 320
    /// Rows of a packed A block: MC × KC (180 KiB) stays in the 512 KiB L2.
    static let mc = tuningValue("GEMM_MC") ?? 144
    /// Columns of a packed B panel: KC × NC (4 MiB max) lives in L3. Each
    /// thread packs its own panel, which is at most KC × (its share of n).
    static let nc = 4080
}

typealias TileVector = SIMD16<Float>

/// Computes one MR × `V.scalarCount` tile:
/// `C[0..<rows, 0..<columns] = alpha · Σ_p A(i,p)·B(p,j) + beta · C`.
///
/// A(i, p) is read at `a[i * aRowStride + p * aColumnStride]` (packed:
/// stride 1 and MR; unpacked: the caller's layout), B(p, j..<j+width)
/// contiguously at `b[p * bRowStride + j]`, and C(i, j) lives at
/// `c[i * cRowStride + j * cColumnStride]` (a column stride other than 1 is
/// the transposed orientation, see `GEMMPlan`). The summation order over p is
/// fixed, so every element of C is computed identically whichever tile or
/// thread owns it. When `beta == 0`, C is never read. Rows of A beyond `rows`
/// and columns of B beyond `columns` must be readable; they are not stored.
@inline(__always)
func microkernel<V: SIMD>(
    _: V.Type, k: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    c: UnsafeMutablePointer<Float>, cRowStride: Int, cColumnStride: Int,
    rows: Int, columns: Int,
    alpha: Float, beta: Float
) where V.Scalar == Float {
    var c0 = V(), c1 = V(), c2 = V()
    var c3 = V(), c4 = V(), c5 = V()
    var a0 = a
    var bp = UnsafeRawPointer(b)
    let bStep = bRowStride * MemoryLayout<Float>.stride
    let r1 = aRowStride, r2 = 2 * aRowStride, r3 = 3 * aRowStride
    let r4 = 4 * aRowStride, r5 = 5 * aRowStride
    var remaining = k
    while remaining > 0 {
        let bv = bp.loadUnaligned(as: V.self)
        c0 = c0.addingProduct(V(repeating: a0[0]), bv)
        c1 = c1.addingProduct(V(repeating: a0[r1]), bv)
        c2 = c2.addingProduct(V(repeating: a0[r2]), bv)
        c3 = c3.addingProduct(V(repeating: a0[r3]), bv)
        c4 = c4.addingProduct(V(repeating: a0[r4]), bv)
        c5 = c5.addingProduct(V(repeating: a0[r5]), bv)
        a0 += aColumnStride
        bp += bStep
        remaining -= 1
    }
    if rows == Blocking.mr && columns == V.scalarCount && cColumnStride == 1 {
        storeRow(c0, to: c, alpha: alpha, beta: beta)
        storeRow(c1, to: c + cRowStride, alpha: alpha, beta: beta)
        storeRow(c2, to: c + 2 * cRowStride, alpha: alpha, beta: beta)
        storeRow(c3, to: c + 3 * cRowStride, alpha: alpha, beta: beta)
        storeRow(c4, to: c + 4 * cRowStride, alpha: alpha, beta: beta)
        storeRow(c5, to: c + 5 * cRowStride, alpha: alpha, beta: beta)
    } else {
        let accumulators = (c0, c1, c2, c3, c4, c5)
        withUnsafeBytes(of: accumulators) { raw in
            let tile = raw.assumingMemoryBound(to: Float.self).baseAddress!
            for i in 0..<rows {
                storeEdgeRow(tile + i * V.scalarCount, count: columns, to: c + i * cRowStride,
                             stride: cColumnStride, alpha: alpha, beta: beta)
            }
        }
    }
}

// The full-tile and edge stores do the same two roundings (alpha·acc, then
// + beta·c, never fused), so an element's bits do not depend on which tile
// shape computed it.
@inline(__always)
private func storeRow<V: SIMD>(_ v: V, to c: UnsafeMutablePointer<Float>, alpha: Float, beta: Float)
where V.Scalar == Float {
    let raw = UnsafeMutableRawPointer(c)
    if beta == 0 {
        raw.storeBytes(of: v * alpha, as: V.self)
    } else {
        let old = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        raw.storeBytes(of: v * alpha + old * beta, as: V.self)
    }
}

@inline(__always)
private func storeEdgeRow(_ v: UnsafePointer<Float>, count: Int, to c: UnsafeMutablePointer<Float>,
                          stride: Int, alpha: Float, beta: Float) {
    if beta == 0 {
        for j in 0..<count { c[j * stride] = v[j] * alpha }
    } else {
        for j in 0..<count { c[j * stride] = v[j] * alpha + c[j * stride] * beta }
    }
}
