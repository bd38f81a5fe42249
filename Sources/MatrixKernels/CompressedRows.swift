/// The kept positions of a masked `rows × columns` matrix, row by row and
/// column by column: the index halves of its CSR and CSC forms. The values stay in the caller's dense
/// row-major buffer (element (r, c) at `values[r · columns + c]`), so an
/// optimizer that updates them in place needs no copy, and a masked entry is
/// simply absent here.
///
/// Built once when a mask changes (it allocates); the sparse kernels
/// (`sparseMultiply`, `sparseTransposedMultiply`, `sparseGradient`) only read it.
///
/// ```swift
/// let kept = CompressedRows(mask: mask, rows: 300, columns: 784)
/// sparseMultiply(kept, values: w, b: xT, ldb: 128, n: 128, c: yT, ldc: 128)
/// ```
public final class CompressedRows: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// Number of kept entries.
    public let keptCount: Int
    /// Row r's kept columns are `columnIndices[rowStarts[r] ..< rowStarts[r + 1]]`,
    /// in ascending order (`rows + 1` entries).
    public let rowStarts: UnsafeMutablePointer<Int>
    /// Column of each kept entry, row after row.
    public let columnIndices: UnsafeMutablePointer<Int32>
    /// Column c's kept rows are `rowIndices[columnStarts[c] ..< columnStarts[c + 1]]`,
    /// in ascending order (`columns + 1` entries): what `sparseTransposedMultiply`
    /// walks, so that Wᵀ's rows accumulate in registers like W's.
    public let columnStarts: UnsafeMutablePointer<Int>
    /// Row of each kept entry, column after column.
    public let rowIndices: UnsafeMutablePointer<Int32>

    /// The entries of `mask` (`rows × columns`, row-major) that are not 0.
    public init(mask: UnsafePointer<Float>, rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0 && columns <= Int(Int32.max) && rows <= Int(Int32.max))
        self.rows = rows
        self.columns = columns
        var kept = 0
        for i in 0..<(rows * columns) where mask[i] != 0 { kept += 1 }
        keptCount = kept
        rowStarts = .allocate(capacity: rows + 1)
        columnIndices = .allocate(capacity: max(kept, 1))
        var next = 0
        for r in 0..<rows {
            rowStarts[r] = next
            let row = mask + r * columns
            for c in 0..<columns where row[c] != 0 {
                columnIndices[next] = Int32(c)
                next += 1
            }
        }
        rowStarts[rows] = next
        // The CSC form by counting: rows visited in order keep each column's list ascending.
        columnStarts = .allocate(capacity: columns + 1)
        rowIndices = .allocate(capacity: max(kept, 1))
        columnStarts.initialize(repeating: 0, count: columns + 1)
        for t in 0..<kept { columnStarts[Int(columnIndices[t]) + 1] += 1 }
        for c in 0..<columns { columnStarts[c + 1] += columnStarts[c] }
        let fill = UnsafeMutablePointer<Int>.allocate(capacity: max(columns, 1))
        defer { fill.deallocate() }
        fill.update(from: columnStarts, count: columns)
        for r in 0..<rows {
            for t in rowStarts[r]..<rowStarts[r + 1] {
                let c = Int(columnIndices[t])
                rowIndices[fill[c]] = Int32(r)
                fill[c] += 1
            }
        }
    }

    deinit {
        rowStarts.deallocate()
        columnIndices.deallocate()
        columnStarts.deallocate()
        rowIndices.deallocate()
    }

    /// Kept entries over all entries (1 for an empty matrix).
    public var density: Double {
        rows * columns == 0 ? 1 : Double(keptCount) / Double(rows * columns)
    }

    /// The kept entries of row `r` (indices into `columnIndices`).
    @inline(__always)
    public func entries(ofRow r: Int) -> Range<Int> { rowStarts[r]..<rowStarts[r + 1] }

    /// The kept entries of column `c` (indices into `rowIndices`).
    @inline(__always)
    public func entries(ofColumn c: Int) -> Range<Int> { columnStarts[c]..<columnStarts[c + 1] }
}
