import Foundation

/// Why a workbook could not be built.
public struct WorkbookError: Error, CustomStringConvertible, Equatable, Sendable {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// One cell's value. A number is stored as a number (never as text formatted
/// for some locale), so every spreadsheet reads it the same way.
public enum Cell: Equatable, Sendable {
    case number(Double)
    case text(String)
    /// No value: the cell is left out of the sheet.
    case empty
}

/// A table: a header row (frozen, bold) and rows of typed cells.
public struct Worksheet: Equatable, Sendable {
    /// The tab's name: 1-31 characters, none of `[ ] : * ? / \`.
    public var name: String
    public var header: [String]
    public var rows: [[Cell]]

    public init(name: String, header: [String], rows: [[Cell]]) {
        self.name = name
        self.header = header
        self.rows = rows
    }
}

/// A spreadsheet workbook (Office Open XML, `.xlsx`) of worksheets.
///
/// What it writes: one sheet per `Worksheet`, numbers as numeric cells
/// (`<c><v>0.125</v></c>`), text as inline strings, empty cells absent, the
/// header row bold and frozen, column widths from the content. The bytes
/// depend only on the sheets (see `ZipArchive`), so writing the same tables
/// twice gives the same file.
///
/// ```swift
/// let sheet = Worksheet(name: "summary", header: ["density", "mean"], rows: [[.number(0.125), .number(0.97)]])
/// let bytes = try Workbook(sheets: [sheet]).xlsx()
/// ```
public struct Workbook: Equatable, Sendable {
    public var sheets: [Worksheet]

    public init(sheets: [Worksheet]) {
        self.sheets = sheets
    }

    /// The `.xlsx` file's bytes.
    ///
    /// - Throws: `WorkbookError` for an invalid or repeated sheet name, a row
    ///   wider than its header, a non-finite number, or a workbook over zip's
    ///   4 GiB.
    public func xlsx() throws -> Data {
        guard !sheets.isEmpty else { throw WorkbookError(reason: "a workbook needs at least one sheet") }
        var seen: Set<String> = []
        for sheet in sheets {
            try SpreadsheetML.validate(sheet)
            // Spreadsheets compare sheet names case-insensitively.
            guard seen.insert(sheet.name.lowercased()).inserted else {
                throw WorkbookError(reason: "sheet name \"\(sheet.name)\" appears twice")
            }
        }
        var zip = ZipArchive()
        zip.add("[Content_Types].xml", Data(SpreadsheetML.contentTypes(sheetCount: sheets.count).utf8))
        zip.add("_rels/.rels", Data(SpreadsheetML.packageRelationships.utf8))
        zip.add("xl/workbook.xml", Data(SpreadsheetML.workbook(sheetNames: sheets.map(\.name)).utf8))
        zip.add("xl/_rels/workbook.xml.rels", Data(SpreadsheetML.workbookRelationships(sheetCount: sheets.count).utf8))
        zip.add("xl/styles.xml", Data(SpreadsheetML.styles.utf8))
        for (index, sheet) in sheets.enumerated() {
            zip.add("xl/worksheets/sheet\(index + 1).xml", Data(SpreadsheetML.worksheet(sheet, selected: index == 0).utf8))
        }
        return try zip.bytes()
    }
}
