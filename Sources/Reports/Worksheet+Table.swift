import Foundation

/// A table of rows (`runs.csv`, `summary.csv`, ...) as a sheet of typed cells,
/// for spreadsheets whose CSV import depends on the locale (a comma-decimal
/// locale reads `0.125` as text or as 125).
extension Worksheet {
    /// The sheet of a table, named after its file (`runs.csv` → `runs`),
    /// holding the same fields as the CSV.
    public init<Row: CSVRow>(file: String, rows: [Row]) {
        let numeric = Row.columns.map { !Worksheet.textColumns.contains($0) }
        self.init(name: (file as NSString).deletingPathExtension, header: Row.columns, rows: rows.map { row in
            zip(row.fields, numeric).map { field, isNumeric in Worksheet.cell(field, numeric: isNumeric) }
        })
    }

    /// Columns whose fields are names or codes, never numbers (a config hash
    /// may be all digits). Every other column is numeric.
    static let textColumns: Set<String> = [
        "model", "dataset", "criterion", "schedule", "status", "config_hash", "git_commit", "data_note", "layer",
        "collapsed", "criterion_a", "criterion_b", "diverged_loss", "setup_hash", "criterion_hash", "diff_method",
    ]

    /// A field as a cell: empty stays empty; in a numeric column the CSV's
    /// canonical digits become a number (they read back as exactly the same
    /// double), unless it is a whole number a double cannot hold exactly (a
    /// seed above 2^53) or not a number at all: then it is kept as text, so
    /// nothing is lost.
    static func cell(_ field: String, numeric: Bool) -> Cell {
        guard !field.isEmpty else { return .empty }
        guard numeric, let value = Double(field), value.isFinite else { return .text(field) }
        if let whole = Int64(field), whole.magnitude > 1 << 53 { return .text(field) }
        if UInt64(field) != nil, Int64(field) == nil { return .text(field) }
        return .number(value)
    }
}
