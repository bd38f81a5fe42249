#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable, Hashable {
    /// Use the matrix as stored (row-major, `rows × columns`).
    case none
    /// Use the transpose of the stored matrix.
    case transposed
}

/// Writes the transpose of `x` (`rows × columns`, rows `ld` apart) to `y`
/// (`columns × rows`, rows `ldy` apart): `y[j · ldy + i] = x[i · ld + j]`.
/// In 16 × 16 blocks transposed in registers, the edges in 4 × 4 blocks
/// (and the last rows and columns one by one).
public func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                      into y: UnsafeMutablePointer<Float>, ldy: Int) {
    precondition(ld >= columns && ldy >= rows)
    let wholeRows = rows - rows % 16, wholeColumns = columns - columns % 16
    @inline(__always) func load(_ i: Int, _ j: Int) -> Vector16 { loadRow(x, i, j, ld) }
    @inline(__always) func store(_ v: Vector16, _ j: Int, _ i: Int) { storeRow(v, y, j, i, ldy) }
    var i = 0
    while i < wholeRows {
        var j = 0
        while j < wholeColumns {
            let t = transposed16((load(i, j), load(i + 1, j), load(i + 2, j), load(i + 3, j),
                                  load(i + 4, j), load(i + 5, j), load(i + 6, j), load(i + 7, j),
                                  load(i + 8, j), load(i + 9, j), load(i + 10, j), load(i + 11, j),
                                  load(i + 12, j), load(i + 13, j), load(i + 14, j), load(i + 15, j)))
            store(t.0, j, i); store(t.1, j + 1, i); store(t.2, j + 2, i); store(t.3, j + 3, i)
            store(t.4, j + 4, i); store(t.5, j + 5, i); store(t.6, j + 6, i); store(t.7, j + 7, i)
            store(t.8, j + 8, i); store(t.9, j + 9, i); store(t.10, j + 10, i); store(t.11, j + 11, i)
            store(t.12, j + 12, i); store(t.13, j + 13, i); store(t.14, j + 14, i); store(t.15, j + 15, i)
            j += 16
        }
        i += 16
    }
    // The right edge of the whole rows, then the bottom rows.
    transposeInQuads(x + wholeColumns, rows: wholeRows, columns: columns - wholeColumns, ld: ld,
                     into: y + wholeColumns * ldy, ldy: ldy)
    transposeInQuads(x + wholeRows * ld, rows: rows - wholeRows, columns: columns, ld: ld,
                     into: y + wholeRows, ldy: ldy)
}

/// x[i · ld + j ..< i · ld + j + lanes] as one vector.
@inline(__always)
private func loadRow<V: SIMD>(_ x: UnsafePointer<Float>, _ i: Int, _ j: Int, _ ld: Int) -> V where V.Scalar == Float {
    UnsafeRawPointer(x + i * ld + j).loadUnaligned(as: V.self)
}

@inline(__always)
private func storeRow<V: SIMD>(_ v: V, _ y: UnsafeMutablePointer<Float>, _ j: Int, _ i: Int, _ ldy: Int)
    where V.Scalar == Float {
    UnsafeMutableRawPointer(y + j * ldy + i).storeBytes(of: v, as: V.self)
}

/// `transpose` in 4 × 4 blocks.
private func transposeInQuads(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                              into y: UnsafeMutablePointer<Float>, ldy: Int) {
    let wholeRows = rows - rows % 4, wholeColumns = columns - columns % 4
    @inline(__always) func load(_ i: Int, _ j: Int) -> SIMD4<Float> { loadRow(x, i, j, ld) }
    @inline(__always) func store(_ v: SIMD4<Float>, _ j: Int, _ i: Int) { storeRow(v, y, j, i, ldy) }
    var i = 0
    while i < wholeRows {
        var j = 0
        while j < wholeColumns {
            let (c0, c1, c2, c3) = transposed(load(i, j), load(i + 1, j), load(i + 2, j), load(i + 3, j))
            store(c0, j, i); store(c1, j + 1, i); store(c2, j + 2, i); store(c3, j + 3, i)
            j += 4
        }
        for r in i..<(i + 4) { for c in wholeColumns..<columns { y[c * ldy + r] = x[r * ld + c] } }
        i += 4
    }
    for r in wholeRows..<rows { for c in 0..<columns { y[c * ldy + r] = x[r * ld + c] } }
}

typealias Vector16 = SIMD16<Float>
typealias Vectors16 = (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16,
                       Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16)

#if arch(x86_64)
// The 16 × 16 transpose (lane i of result q is lane q of row i) in
// AVX-512's 64 two-source shuffles when the code is built for AVX-512
// (`CTargetFeatures`); written as SIMD lane picks, LLVM made about three
// times as many.
@inline(__always) private func lo(_ a: Vector16, _ b: Vector16) -> Vector16 { _mm512_unpacklo_ps(a, b) }
@inline(__always) private func hi(_ a: Vector16, _ b: Vector16) -> Vector16 { _mm512_unpackhi_ps(a, b) }
@inline(__always) private func lo2(_ a: Vector16, _ b: Vector16) -> Vector16 {
    _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
}
@inline(__always) private func hi2(_ a: Vector16, _ b: Vector16) -> Vector16 {
    _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
}
// Quads 0 and 2 (or 1 and 3) of a, then of b; literal index vectors (a
// global constant would be a lazy global, checked at every use).
@inline(__always) private func even4(_ a: Vector16, _ b: Vector16) -> Vector16 {
    _mm512_permutex2var_ps(a, unsafeBitCast(SIMD16<Int32>(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27),
                                            to: __m512i.self), b)
}
@inline(__always) private func odd4(_ a: Vector16, _ b: Vector16) -> Vector16 {
    _mm512_permutex2var_ps(a, unsafeBitCast(SIMD16<Int32>(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31),
                                            to: __m512i.self), b)
}

/// The 16 × 16 transpose: lane i of result q is lane q of row i.
@inline(__always)
func transposed16(_ r: Vectors16) -> Vectors16 {
    guard InstructionSet.has512BitVectors else { return transposedInOctets(r) }
    let t0 = lo(r.0, r.1), t1 = hi(r.0, r.1), t2 = lo(r.2, r.3), t3 = hi(r.2, r.3)
    let t4 = lo(r.4, r.5), t5 = hi(r.4, r.5), t6 = lo(r.6, r.7), t7 = hi(r.6, r.7)
    let t8 = lo(r.8, r.9), t9 = hi(r.8, r.9), t10 = lo(r.10, r.11), t11 = hi(r.10, r.11)
    let t12 = lo(r.12, r.13), t13 = hi(r.12, r.13), t14 = lo(r.14, r.15), t15 = hi(r.14, r.15)
    let u0 = lo2(t0, t2), u1 = hi2(t0, t2), u2 = lo2(t1, t3), u3 = hi2(t1, t3)
    let u4 = lo2(t4, t6), u5 = hi2(t4, t6), u6 = lo2(t5, t7), u7 = hi2(t5, t7)
    let u8 = lo2(t8, t10), u9 = hi2(t8, t10), u10 = lo2(t9, t11), u11 = hi2(t9, t11)
    let u12 = lo2(t12, t14), u13 = hi2(t12, t14), u14 = lo2(t13, t15), u15 = hi2(t13, t15)
    let v0 = even4(u0, u4), v1 = even4(u1, u5), v2 = even4(u2, u6), v3 = even4(u3, u7)
    let v4 = odd4(u0, u4), v5 = odd4(u1, u5), v6 = odd4(u2, u6), v7 = odd4(u3, u7)
    let v8 = even4(u8, u12), v9 = even4(u9, u13), v10 = even4(u10, u14), v11 = even4(u11, u15)
    let v12 = odd4(u8, u12), v13 = odd4(u9, u13), v14 = odd4(u10, u14), v15 = odd4(u11, u15)
    return (even4(v0, v8), even4(v1, v9), even4(v2, v10), even4(v3, v11),
            even4(v4, v12), even4(v5, v13), even4(v6, v14), even4(v7, v15),
            odd4(v0, v8), odd4(v1, v9), odd4(v2, v10), odd4(v3, v11),
            odd4(v4, v12), odd4(v5, v13), odd4(v6, v14), odd4(v7, v15))
}
#else
@inline(__always)
func transposed16(_ rows: Vectors16) -> Vectors16 { transposedInOctets(rows) }
#endif

/// `transposed16` without AVX-512: four 8 × 8 transposes of the rows'
/// halves (output row q < 8 takes lane q of the low halves, q ≥ 8 lane
/// q − 8 of the high ones).
@inline(__always)
private func transposedInOctets(_ r: Vectors16) -> Vectors16 {
    @inline(__always) func halves(_ rows: Vectors16, high: Bool, from i: Int) -> Block8 {
        withUnsafeBytes(of: rows) { raw in
            @inline(__always) func half(_ k: Int) -> SIMD8<Float> {
                raw.loadUnaligned(fromByteOffset: (i + k) * 64 + (high ? 32 : 0), as: SIMD8<Float>.self)
            }
            return (half(0), half(1), half(2), half(3), half(4), half(5), half(6), half(7))
        }
    }
    let a = transposed8x8(halves(r, high: false, from: 0)), b = transposed8x8(halves(r, high: false, from: 8))
    let c = transposed8x8(halves(r, high: true, from: 0)), d = transposed8x8(halves(r, high: true, from: 8))
    @inline(__always) func row(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> Vector16 { Vector16(lowHalf: x, highHalf: y) }
    return (row(a.0, b.0), row(a.1, b.1), row(a.2, b.2), row(a.3, b.3),
            row(a.4, b.4), row(a.5, b.5), row(a.6, b.6), row(a.7, b.7),
            row(c.0, d.0), row(c.1, d.1), row(c.2, d.2), row(c.3, d.3),
            row(c.4, d.4), row(c.5, d.5), row(c.6, d.6), row(c.7, d.7))
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

typealias Block8 = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                    SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// The 8 × 8 transpose: lane i of result q is lane q of input i. Three
/// stages of two-source lane picks in the patterns of AVX's unpcklps/unpckhps,
/// shufps and vperm2f128, which LLVM emits for them (24 shuffles; building
/// each result from eight sources would cost about one instruction a float).
@inline(__always)
func transposed8x8(_ c: Block8) -> Block8 {
    @inline(__always) func unpackLow(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5])
    }
    @inline(__always) func unpackHigh(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7])
    }
    @inline(__always) func pairsLow(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5])
    }
    @inline(__always) func pairsHigh(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7])
    }
    @inline(__always) func halvesLow(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3])
    }
    @inline(__always) func halvesHigh(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7])
    }
    let l01 = unpackLow(c.0, c.1), h01 = unpackHigh(c.0, c.1)
    let l23 = unpackLow(c.2, c.3), h23 = unpackHigh(c.2, c.3)
    let l45 = unpackLow(c.4, c.5), h45 = unpackHigh(c.4, c.5)
    let l67 = unpackLow(c.6, c.7), h67 = unpackHigh(c.6, c.7)
    // Lanes 0-3 of q0 are input lane 0 of rows 0-3, lanes 4-7 input lane 4.
    let q0 = pairsLow(l01, l23), q1 = pairsHigh(l01, l23), q2 = pairsLow(h01, h23), q3 = pairsHigh(h01, h23)
    let r0 = pairsLow(l45, l67), r1 = pairsHigh(l45, l67), r2 = pairsLow(h45, h67), r3 = pairsHigh(h45, h67)
    return (halvesLow(q0, r0), halvesLow(q1, r1), halvesLow(q2, r2), halvesLow(q3, r3),
            halvesHigh(q0, r0), halvesHigh(q1, r1), halvesHigh(q2, r2), halvesHigh(q3, r3))
}
