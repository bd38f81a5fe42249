// The instruction-set-specific part of the GEMM: the register-blocked
// microkernel and the blocking constants. Everything else (packing, the five
// loops, threading) is portable and only reads the constants below.
//
// The kernels are written with generic SIMD types, so they compile
// everywhere; `-target-cpu native` (Package.swift) lets LLVM lower each
// `SIMD16<Float>` to one zmm register on AVX-512, two ymm on AVX2 and four q
// registers on NEON. The tile width follows the register file the code is
// compiled for (`CTargetFeatures`), so it is fixed at build time and never
// depends on timing. Neither the tile shape nor MC/NC changes any result:
// every element of C is the same FMA chain over the same K slices (KC), and
// KC is the same everywhere.
import CTargetFeatures

/// What the build may assume about the vector registers; the one place
/// `CTargetFeatures` is read.
enum InstructionSet {
    /// Whether the code is compiled for AVX-512 (32 registers of 512 bits):
    /// a constant that folds at compile time.
    @inline(__always) static var has512BitVectors: Bool { TICKET_VECTOR_BITS >= 512 }
}

/// Blocking constants of the five-loop GEMM (BLIS naming).
enum Blocking {
    /// Whether the tile is two `SIMD16<Float>` wide: with 32 registers of
    /// 512 bits, 6 × 32 keeps 12 accumulators in flight (a Zen 4/5 or
    /// Skylake-X core needs at least 8 to cover the FMA latency at two FMAs
    /// per cycle; the 6 × 16 tile's 6 left half the FMA pipes idle and
    /// measured 57-66% of peak) plus 2 B vectors and a broadcast.
    @inline(__always) static var wideTile: Bool { InstructionSet.has512BitVectors }
    /// Rows of C per microkernel tile: one broadcast of A per row. The
    /// kernels below spell out six accumulators (per vector); change them
    /// together.
    static let mr = 6
    /// Columns of C per microkernel tile: one or two `SIMD16<Float>` per
    /// row. On AVX2, 6 × 16 keeps 12 ymm accumulators + 2 for B + 1
    /// broadcast in the 16 registers (the classic Haswell/Zen shape).
    @inline(__always) static var nr: Int { wideTile ? 32 : 16 }
    /// Depth of a K slice. It fixes the summation order of every product
    /// (`DepthSlicing`), so it is the same on every machine: changing it
    /// changes results. A KC × 16 micro-panel of B is 20 KiB (L1); 320
    /// rather than BLIS's 256 so the trainer's k = 300 is a single slice.
    static let kc = 320
    /// Rows of a packed A block: MC × KC (180 KiB) stays in the 512 KiB L2.
    static let mc = 144
    /// Columns of a packed B panel: KC × NC (about 5 MiB) lives in L3, a
    /// whole number of NR panels. Each thread packs its own panel, which is
    /// at most KC × (its share of n).
    @inline(__always) static var nc: Int { (4096 / nr - 1) * nr }
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
    // x · 1 == x for every float, so alpha == 1 (every trainer product)
    // skips the multiplication and keeps the bits.
    let scaled = alpha == 1 ? v : v * alpha
    if beta == 0 {
        raw.storeBytes(of: scaled, as: V.self)
    } else {
        let old = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        raw.storeBytes(of: beta == 1 ? scaled + old : scaled + old * beta, as: V.self)
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

/// The microkernel with two vectors per row, `Low.scalarCount +
/// High.scalarCount` columns: the wide tile (16 + 16), and ragged panels
/// (e.g. 8 + 4 = 12 for a 9…12-column edge) that cost what their width needs
/// instead of a full NR. Same contract and the same per-element arithmetic
/// as `microkernel`.
@inline(__always)
func microkernelPair<Low: SIMD, High: SIMD>(
    _: Low.Type, _: High.Type, k: Int,
    a: UnsafePointer<Float>, aRowStride: Int, aColumnStride: Int,
    b: UnsafePointer<Float>, bRowStride: Int,
    c: UnsafeMutablePointer<Float>, cRowStride: Int, cColumnStride: Int,
    rows: Int, columns: Int,
    alpha: Float, beta: Float
) where Low.Scalar == Float, High.Scalar == Float {
    var l0 = Low(), l1 = Low(), l2 = Low(), l3 = Low(), l4 = Low(), l5 = Low()
    var h0 = High(), h1 = High(), h2 = High(), h3 = High(), h4 = High(), h5 = High()
    var a0 = a
    var bp = UnsafeRawPointer(b)
    let bStep = bRowStride * MemoryLayout<Float>.stride
    let highOffset = Low.scalarCount * MemoryLayout<Float>.stride
    let r1 = aRowStride, r2 = 2 * aRowStride, r3 = 3 * aRowStride
    let r4 = 4 * aRowStride, r5 = 5 * aRowStride
    var remaining = k
    while remaining > 0 {
        let bl = bp.loadUnaligned(as: Low.self)
        let bh = bp.loadUnaligned(fromByteOffset: highOffset, as: High.self)
        let x0 = a0[0], x1 = a0[r1], x2 = a0[r2], x3 = a0[r3], x4 = a0[r4], x5 = a0[r5]
        l0 = l0.addingProduct(Low(repeating: x0), bl); h0 = h0.addingProduct(High(repeating: x0), bh)
        l1 = l1.addingProduct(Low(repeating: x1), bl); h1 = h1.addingProduct(High(repeating: x1), bh)
        l2 = l2.addingProduct(Low(repeating: x2), bl); h2 = h2.addingProduct(High(repeating: x2), bh)
        l3 = l3.addingProduct(Low(repeating: x3), bl); h3 = h3.addingProduct(High(repeating: x3), bh)
        l4 = l4.addingProduct(Low(repeating: x4), bl); h4 = h4.addingProduct(High(repeating: x4), bh)
        l5 = l5.addingProduct(Low(repeating: x5), bl); h5 = h5.addingProduct(High(repeating: x5), bh)
        a0 += aColumnStride
        bp += bStep
        remaining -= 1
    }
    let width = Low.scalarCount + High.scalarCount
    if rows == Blocking.mr && columns == width && cColumnStride == 1 {
        // The full tile (the wide kernel's common case) stores directly.
        @inline(__always) func store(_ i: Int, _ low: Low, _ high: High) {
            let row = c + i * cRowStride
            storeRow(low, to: row, alpha: alpha, beta: beta)
            storeRow(high, to: row + Low.scalarCount, alpha: alpha, beta: beta)
        }
        store(0, l0, h0); store(1, l1, h1); store(2, l2, h2)
        store(3, l3, h3); store(4, l4, h4); store(5, l5, h5)
        return
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: Blocking.mr * width) { buffer in
        let tile = UnsafeMutableRawPointer(buffer.baseAddress!)
        let rowBytes = width * MemoryLayout<Float>.stride
        func spill(_ i: Int, _ low: Low, _ high: High) {
            tile.storeBytes(of: low, toByteOffset: i * rowBytes, as: Low.self)
            tile.storeBytes(of: high, toByteOffset: i * rowBytes + highOffset, as: High.self)
        }
        spill(0, l0, h0); spill(1, l1, h1); spill(2, l2, h2)
        spill(3, l3, h3); spill(4, l4, h4); spill(5, l5, h5)
        for i in 0..<rows {
            storeEdgeRow(buffer.baseAddress! + i * width, count: columns, to: c + i * cRowStride,
                         stride: cColumnStride, alpha: alpha, beta: beta)
        }
    }
}
