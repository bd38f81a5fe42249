/// A strided view of a matrix operand: element (i, j) is at
/// `base[i * rowStride + j * columnStride]`. A transposed operand is the same
/// storage with the strides swapped, so packing and the microkernel never
/// branch on `Transpose`.
struct StridedMatrix {
    var base: UnsafePointer<Float>
    var rowStride: Int
    var columnStride: Int
    /// One past the last element the caller's storage guarantees readable:
    /// reads of whole vectors may run past a row's end up to here.
    var end: UnsafePointer<Float>

    init(base: UnsafePointer<Float>, rowStride: Int, columnStride: Int, end: UnsafePointer<Float>) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
        self.end = end
    }

    /// The operand `op(M)` of `rows × columns`, stored row-major with
    /// `leadingDimension`, transposed or not.
    init(_ base: UnsafePointer<Float>, leadingDimension: Int, transpose: Transpose, rows: Int, columns: Int) {
        self.base = base
        let (storedRows, storedColumns) = transpose == .none ? (rows, columns) : (columns, rows)
        end = base + max(0, (storedRows - 1) * leadingDimension + storedColumns)
        if transpose == .none {
            rowStride = leadingDimension
            columnStride = 1
        } else {
            rowStride = 1
            columnStride = leadingDimension
        }
    }

    /// The view starting at element (row, column).
    @inline(__always)
    func offset(row: Int, column: Int) -> UnsafePointer<Float> {
        base + row * rowStride + column * columnStride
    }
}

/// Packs rows `row ..< row + rows`, columns `column ..< column + depth` of A
/// into MR-row micro-panels: panel q holds element (q·MR + i, p) at
/// `q·MR·depth + p·MR + i`. Rows past the end of the last panel are zero.
func packA(_ a: StridedMatrix, row: Int, rows: Int, column: Int, depth: Int,
           into destination: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr
    var panelStart = 0
    var out = destination
    while panelStart < rows {
        let panelRows = min(mr, rows - panelStart)
        if a.columnStride == 1 && panelRows == mr {
            packRowPanel(a.offset(row: row + panelStart, column: column), rowStride: a.rowStride, depth: depth,
                         into: out)
        } else if a.rowStride == 1 && panelRows == mr {
            // A transposed (Wᵀ in an input gradient): each depth step's MR
            // (= 6) values are contiguous, copied as 4 + 2.
            let source = a.offset(row: row + panelStart, column: column)
            for p in 0..<depth {
                let from = UnsafeRawPointer(source + p * a.columnStride), to = UnsafeMutableRawPointer(out + p * mr)
                to.storeBytes(of: from.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: 16,
                              as: SIMD2<Float>.self)
            }
        } else {
            packStridedPanel(a.offset(row: row + panelStart, column: column), lanes: panelRows, width: mr,
                             depth: depth, laneStride: a.rowStride, depthStride: a.columnStride, into: out)
        }
        out += mr * depth
        panelStart += mr
    }
}

/// Packs rows `row ..< row + depth`, columns `column ..< column + columns` of
/// B into NR-column micro-panels: panel q holds element (p, q·NR + j) at
/// `q·NR·depth + p·NR + j`. Columns past the end of the last panel are zero.
func packB(_ b: StridedMatrix, row: Int, depth: Int, column: Int, columns: Int,
           into destination: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr
    var panelStart = 0
    var out = destination
    while panelStart < columns {
        let panelColumns = min(nr, columns - panelStart)
        let source = b.offset(row: row, column: column + panelStart)
        let vectorWidth = TileVector.scalarCount
        if b.columnStride == 1 && panelColumns == nr {
            for p in 0..<depth {
                for j in stride(from: 0, to: nr, by: vectorWidth) {
                    let value = UnsafeRawPointer(source + p * b.rowStride + j).loadUnaligned(as: TileVector.self)
                    UnsafeMutableRawPointer(out + p * nr + j).storeBytes(of: value, as: TileVector.self)
                }
            }
        } else if b.columnStride == 1 {
            // A ragged panel: load whole vectors where the storage allows
            // (past the row's end lies the next row) and zero the extra lanes
            // with a bit mask made once per vector (a SIMDMask comparison in
            // the loop compiled to a lane-by-lane loop: 16% of a 60×10×100
            // product).
            for j in stride(from: 0, to: nr, by: vectorWidth) {
                var keep = SIMD16<UInt32>()
                for l in 0..<vectorWidth where j + l < panelColumns { keep[l] = .max }
                for p in 0..<depth {
                    let rowPointer = source + p * b.rowStride
                    let target = out + p * nr + j
                    if rowPointer + j + vectorWidth <= b.end {
                        let value = UnsafeRawPointer(rowPointer + j).loadUnaligned(as: SIMD16<UInt32>.self)
                        UnsafeMutableRawPointer(target).storeBytes(of: value & keep, as: SIMD16<UInt32>.self)
                    } else {
                        for l in 0..<vectorWidth { target[l] = j + l < panelColumns ? rowPointer[j + l] : 0 }
                    }
                }
            }
        } else if b.rowStride == 1 && panelColumns == nr {
            // B is transposed and the panel full: 4 × 4 blocks transposed in
            // registers, so both the reads (along p) and the writes (along j)
            // are vectors. The scalar loop below cost as much as 15% of the
            // trainer's forward products.
            packTransposedPanel(source, columnStride: b.columnStride, depth: depth, into: out)
        } else {
            // B is transposed and the panel ragged: element by element.
            packStridedPanel(source, lanes: panelColumns, width: nr, depth: depth,
                             laneStride: b.columnStride, depthStride: b.rowStride, into: out)
        }
        out += nr * depth
        panelStart += nr
    }
}

/// One full MR-row panel of an A whose rows are contiguous:
/// `out[p·MR + i] = source[i·rowStride + p]`, through 8 × 8 register
/// transposes of the panel's rows (two of the eight unused); element by
/// element this loop was 10% of a 1024³ product.
@inline(__always)
private func packRowPanel(_ source: UnsafePointer<Float>, rowStride: Int, depth: Int,
                          into out: UnsafeMutablePointer<Float>) {
    let mr = Blocking.mr
    var p = 0
    while p + 8 <= depth {
        @inline(__always) func load(_ i: Int) -> SIMD8<Float> {
            i < mr ? UnsafeRawPointer(source + i * rowStride + p).loadUnaligned(as: SIMD8<Float>.self) : SIMD8()
        }
        let t = transposed8x8((load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7)))
        // Eight floats per store, of which MR (= 6) are this column's: each
        // store's two extra lanes are overwritten by the next one, and the
        // last is stored as 4 + 2.
        store(t, to: out + p * mr, rowStride: mr, lastRowIsSix: true)
        p += 8
    }
    while p < depth {
        for i in 0..<mr { out[p * mr + i] = source[i * rowStride + p] }
        p += 1
    }
}

/// One full NR-column panel of a B whose columns are contiguous:
/// `out[p·NR + j] = source[j·columnStride + p]`.
@inline(__always)
private func packTransposedPanel(_ source: UnsafePointer<Float>, columnStride: Int, depth: Int,
                                 into out: UnsafeMutablePointer<Float>) {
    let nr = Blocking.nr
    var p = 0
    // 16 × 16 blocks with 512-bit registers (64 shuffles move 256 floats).
    if InstructionSet.has512BitVectors {
        while p + 16 <= depth {
            for j in stride(from: 0, to: nr, by: 16) {
                let column = source + j * columnStride + p
                @inline(__always) func load(_ l: Int) -> SIMD16<Float> {
                    UnsafeRawPointer(column + l * columnStride).loadUnaligned(as: SIMD16<Float>.self)
                }
                let t = transposed16((load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7),
                                      load(8), load(9), load(10), load(11), load(12), load(13), load(14), load(15)))
                let row = UnsafeMutableRawPointer(out + p * nr + j)
                let step = nr * MemoryLayout<Float>.stride
                withUnsafeBytes(of: t) { rows in
                    for q in 0..<16 {
                        row.storeBytes(of: rows.loadUnaligned(fromByteOffset: q * 64, as: SIMD16<Float>.self),
                                       toByteOffset: q * step, as: SIMD16<Float>.self)
                    }
                }
            }
            p += 16
        }
    }
    // 8 × 8 blocks: 24 two-source shuffles move 64 floats (see `transposed8x8`).
    while p + 8 <= depth {
        for j in stride(from: 0, to: nr, by: 8) {
            let column = source + j * columnStride + p
            @inline(__always) func load(_ l: Int) -> SIMD8<Float> {
                UnsafeRawPointer(column + l * columnStride).loadUnaligned(as: SIMD8<Float>.self)
            }
            let rows = transposed8x8((load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7)))
            store(rows, to: out + p * nr + j, rowStride: nr)
        }
        p += 8
    }
    while p + 4 <= depth {
        var j = 0
        while j < nr {
            let column = source + j * columnStride + p
            let c0 = UnsafeRawPointer(column).loadUnaligned(as: SIMD4<Float>.self)
            let c1 = UnsafeRawPointer(column + columnStride).loadUnaligned(as: SIMD4<Float>.self)
            let c2 = UnsafeRawPointer(column + 2 * columnStride).loadUnaligned(as: SIMD4<Float>.self)
            let c3 = UnsafeRawPointer(column + 3 * columnStride).loadUnaligned(as: SIMD4<Float>.self)
            let row = out + p * nr + j
            UnsafeMutableRawPointer(row).storeBytes(of: SIMD4(c0[0], c1[0], c2[0], c3[0]), as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(row + nr).storeBytes(of: SIMD4(c0[1], c1[1], c2[1], c3[1]), as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(row + 2 * nr).storeBytes(of: SIMD4(c0[2], c1[2], c2[2], c3[2]), as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(row + 3 * nr).storeBytes(of: SIMD4(c0[3], c1[3], c2[3], c3[3]), as: SIMD4<Float>.self)
            j += 4
        }
        p += 4
    }
    while p < depth {
        for j in 0..<nr { out[p * nr + j] = source[j * columnStride + p] }
        p += 1
    }
}

/// One micro-panel packed element by element, for either operand:
/// `out[p·width + l] = source[l·laneStride + p·depthStride]` for the first
/// `lanes` lanes (rows of an A panel, columns of a B panel) and 0 for the
/// rest up to `width`. The loop runs along whichever stride is contiguous.
@inline(__always)
private func packStridedPanel(_ source: UnsafePointer<Float>, lanes: Int, width: Int, depth: Int,
                              laneStride: Int, depthStride: Int, into out: UnsafeMutablePointer<Float>) {
    // Zeroing a ragged panel first (one memset) beats storing its unused
    // lanes' zeros one by one after each depth step.
    if lanes < width { out.update(repeating: 0, count: depth * width) }
    if depthStride == 1 {
        for l in 0..<lanes {
            let lane = source + l * laneStride
            for p in 0..<depth { out[p * width + l] = lane[p] }
        }
    } else {
        for p in 0..<depth {
            let line = source + p * depthStride
            for l in 0..<lanes { out[p * width + l] = line[l * laneStride] }
        }
    }
}

/// Stores the eight vectors of `t` at `target`, `rowStride` floats apart;
/// with `lastRowIsSix` the last one as 4 + 2 floats (an MR = 6 panel's
/// final depth step, whose two extra lanes would fall past it).
@inline(__always)
private func store(_ t: Block8, to target: UnsafeMutablePointer<Float>, rowStride: Int, lastRowIsSix: Bool = false) {
    let row = UnsafeMutableRawPointer(target), step = rowStride * MemoryLayout<Float>.stride
    row.storeBytes(of: t.0, as: SIMD8<Float>.self)
    row.storeBytes(of: t.1, toByteOffset: step, as: SIMD8<Float>.self)
    row.storeBytes(of: t.2, toByteOffset: 2 * step, as: SIMD8<Float>.self)
    row.storeBytes(of: t.3, toByteOffset: 3 * step, as: SIMD8<Float>.self)
    row.storeBytes(of: t.4, toByteOffset: 4 * step, as: SIMD8<Float>.self)
    row.storeBytes(of: t.5, toByteOffset: 5 * step, as: SIMD8<Float>.self)
    row.storeBytes(of: t.6, toByteOffset: 6 * step, as: SIMD8<Float>.self)
    if lastRowIsSix {
        row.storeBytes(of: t.7.lowHalf, toByteOffset: 7 * step, as: SIMD4<Float>.self)
        row.storeBytes(of: SIMD2(t.7[4], t.7[5]), toByteOffset: 7 * step + 16, as: SIMD2<Float>.self)
    } else {
        row.storeBytes(of: t.7, toByteOffset: 7 * step, as: SIMD8<Float>.self)
    }
}
