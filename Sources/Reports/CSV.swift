import Foundation

/// Writing RFC 4180 CSV.
///
/// Dialect (the same for every table, documented in the README): UTF-8
/// without byte order mark; records end with CRLF, as RFC 4180 specifies
/// (every spreadsheet and CSV library reads it; `cut`/`awk` users may want
/// `tr -d '\r'`); a header row; fields are quoted only when they contain a
/// comma, a double quote, CR or LF, with inner quotes doubled; numbers are in
/// `CanonicalNumber` form (`.` decimal, no thousands separators, no
/// exponent); a missing or non-finite value is an empty field.
public enum CSV {
    /// The record separator.
    public static let lineEnding = "\r\n"

    /// `text` as one field, quoted if it must be.
    public static func field(_ text: String) -> String {
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record, with its line ending.
    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + lineEnding
    }

    /// A whole table: header, then one record per row.
    public static func document(header: [String], rows: [[String]]) -> String {
        var out = record(header)
        for row in rows {
            precondition(row.count == header.count, "row has \(row.count) fields, header \(header.count)")
            out += record(row)
        }
        return out
    }

    /// A table of typed rows.
    public static func document<Row: CSVRow>(_ rows: [Row]) -> String {
        document(header: Row.columns, rows: rows.map(\.fields))
    }

    /// A number cell: canonical digits, or empty for `nil`, NaN and infinities.
    public static func number(_ value: Double?) -> String {
        value.flatMap { CanonicalNumber.format($0) } ?? ""
    }
}

/// Why a CSV file was rejected: file, 1-based line, problem.
public struct CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// The physical line (counting every CRLF, also inside quoted fields).
    public var line: Int
    public var problem: String

    public init(file: String, line: Int, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(file):\(line): \(problem)" }
}

/// A parsed CSV file: the header and the records, each remembering its line.
public struct CSVTable: Sendable {
    public var file: String
    public var header: [String]
    public var records: [Record]

    /// One data record.
    public struct Record: Sendable {
        /// The line the record starts on.
        public var line: Int
        public var fields: [String]
    }

    /// Parses CSV text strictly by RFC 4180 (see `CSV` for the dialect):
    /// CRLF record ends (a bare LF or CR is an error), quotes only around
    /// whole fields, every record as wide as the header, header names
    /// distinct and non-empty, valid UTF-8 without byte order mark.
    public static func parse(_ data: Data, file: String) throws -> CSVTable {
        let bytes = [UInt8](data)
        func fail(_ line: Int, _ problem: String) -> CSVError { CSVError(file: file, line: line, problem: problem) }
        guard !bytes.isEmpty else { throw fail(1, "empty file: expected a header row") }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw fail(1, "starts with a byte order mark; expected plain UTF-8") }
        guard isValidUTF8(bytes[...]) else { throw fail(firstInvalidUTF8Line(bytes), "not valid UTF-8") }

        var rows: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var i = 0
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endField()
            rows.append(Record(line: recordLine, fields: fields))
            fields.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            // At the start of a field.
            if bytes[i] == quote {
                let openedOn = line
                i += 1
                while true {
                    guard i < bytes.count else { throw fail(openedOn, "quoted field is never closed") }
                    let byte = bytes[i]
                    if byte == quote {
                        if i + 1 < bytes.count && bytes[i + 1] == quote {
                            field.append(quote)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    if byte == lf { line += 1 }
                    field.append(byte)
                    i += 1
                }
                if i < bytes.count && bytes[i] != comma && bytes[i] != cr && bytes[i] != lf {
                    throw fail(line, "unexpected character after a closing quote (quotes inside a field must be doubled)")
                }
            } else {
                while i < bytes.count && bytes[i] != comma && bytes[i] != cr && bytes[i] != lf {
                    if bytes[i] == quote { throw fail(line, "double quote inside an unquoted field") }
                    field.append(bytes[i])
                    i += 1
                }
            }
            // After a field: a comma, a CRLF, or the end.
            if i == bytes.count {
                endRecord()
            } else if bytes[i] == comma {
                endField()
                i += 1
                if i == bytes.count { endRecord() }  // a trailing comma ends with an empty field
            } else if bytes[i] == cr {
                guard i + 1 < bytes.count && bytes[i + 1] == lf else {
                    throw fail(line, "bare CR line ending (RFC 4180 records end with CRLF)")
                }
                endRecord()
                i += 2
                line += 1
                recordLine = line
            } else {
                throw fail(line, "bare LF line ending (RFC 4180 records end with CRLF)")
            }
        }

        guard let header = rows.first else { throw fail(1, "empty file: expected a header row") }
        var seen = Set<String>()
        for name in header.fields {
            if name.isEmpty { throw fail(1, "empty column name in the header") }
            if !seen.insert(name).inserted { throw fail(1, "column \"\(name)\" appears twice in the header") }
        }
        for record in rows.dropFirst() where record.fields.count != header.fields.count {
            throw fail(record.line, "record has \(record.fields.count) fields, the header has \(header.fields.count)")
        }
        return CSVTable(file: file, header: header.fields, records: Array(rows.dropFirst()))
    }

    /// Reads and parses the file at `url`.
    public static func read(_ url: URL) throws -> CSVTable {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CSVError(file: url.path, line: 0, problem: "cannot read (\(error.localizedDescription))")
        }
        return try parse(data, file: url.path)
    }

    /// Decodes every record as `Row`, checking the header first.
    public func rows<Row: CSVRow>(_ type: Row.Type = Row.self) throws -> [Row] {
        guard header == Row.columns else {
            let missing = Row.columns.filter { !header.contains($0) }
            let extra = header.filter { !Row.columns.contains($0) }
            var problem = "header does not match the expected columns"
            if !missing.isEmpty { problem += "; missing: \(missing.joined(separator: ", "))" }
            if !extra.isEmpty { problem += "; unexpected: \(extra.joined(separator: ", "))" }
            if missing.isEmpty && extra.isEmpty { problem += " (wrong order)" }
            throw CSVError(file: file, line: 1, problem: problem)
        }
        return try records.map { try Row(CSVFields(file: file, line: $0.line, header: header, values: $0.fields)) }
    }

    private static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
        var line = 1, start = 0
        for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if !isValidUTF8(bytes[start...i]) { return line }
            line += 1
            start = i + 1
        }
        return line
    }
}

/// The fields of one record, read by column name with typed accessors whose
/// errors name the file, line and column.
public struct CSVFields {
    public let file: String
    public let line: Int
    let header: [String]
    let values: [String]

    func fail(_ column: String, _ problem: String) -> CSVError {
        CSVError(file: file, line: line, problem: "column \(column): \(problem)")
    }

    public func string(_ column: String) throws -> String {
        guard let index = header.firstIndex(of: column) else { throw fail(column, "no such column") }
        return values[index]
    }

    /// A finite number; empty or malformed is an error.
    public func double(_ column: String) throws -> Double {
        let text = try string(column)
        guard let value = CanonicalNumber.parse(text) else { throw fail(column, "\"\(text)\" is not a number") }
        return value
    }

    /// A number, or `nil` for an empty cell.
    public func optionalDouble(_ column: String) throws -> Double? {
        try string(column).isEmpty ? nil : try double(column)
    }

    public func int(_ column: String) throws -> Int {
        let text = try string(column)
        guard let value = Int(text) else { throw fail(column, "\"\(text)\" is not an integer") }
        return value
    }

    public func unsigned(_ column: String) throws -> UInt64 {
        let text = try string(column)
        guard let value = UInt64(text) else { throw fail(column, "\"\(text)\" is not a non-negative integer") }
        return value
    }
}

/// A row type with a fixed header, written and read as one CSV record.
public protocol CSVRow {
    /// Header names, in column order.
    static var columns: [String] { get }
    /// This row's cells, in column order.
    var fields: [String] { get }
    /// Reads a row; throws `CSVError` naming the file, line and column.
    init(_ fields: CSVFields) throws
}

/// Decoding repairs invalid sequences with U+FFFD, so the bytes come back
/// unchanged exactly when they were valid UTF-8.
func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
    Array(String(decoding: bytes, as: UTF8.self).utf8) == Array(bytes)
}
