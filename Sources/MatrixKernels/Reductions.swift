/// Sums each column over the rows: `sums[j] = Σ_i x[i·ld + j]` (for a batch
/// in rows, the bias gradient). With `accumulate`, adds to `sums` instead of
/// overwriting it. The rows are added in order, so the result is reproducible.
public func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                       into sums: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    precondition(rows >= 0 && columns >= 0 && ld >= columns)
    if !accumulate { sums.update(repeating: 0, count: columns) }
    let width = TileVector.scalarCount
    let vectorColumns = columns - columns % width
    for i in 0..<rows {
        let row = x + i * ld
        var j = 0
        // Vectorised over columns; each column still sums its rows in order.
        while j < vectorColumns {
            let total = UnsafeRawPointer(sums + j).loadUnaligned(as: TileVector.self)
                + UnsafeRawPointer(row + j).loadUnaligned(as: TileVector.self)
            UnsafeMutableRawPointer(sums + j).storeBytes(of: total, as: TileVector.self)
            j += width
        }
        while j < columns { sums[j] += row[j]; j += 1 }
    }
}

/// Sums each row over the columns: `sums[i] = Σ_j x[i·ld + j]` (for
/// channel-major data, the per-channel bias gradient). With `accumulate`,
/// adds to `sums` instead of overwriting it.
public func rowSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                    into sums: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    precondition(rows >= 0 && columns >= 0 && ld >= columns)
    let width = TileVector.scalarCount
    let vectorColumns = columns - columns % width
    for i in 0..<rows {
        let row = x + i * ld
        var partial = TileVector()
        var j = 0
        while j < vectorColumns {
            partial += UnsafeRawPointer(row + j).loadUnaligned(as: TileVector.self)
            j += width
        }
        var total = partial.sum()
        while j < columns { total += row[j]; j += 1 }
        sums[i] = accumulate ? sums[i] + total : total
    }
}
