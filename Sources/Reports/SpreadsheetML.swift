import Foundation

/// The XML parts of a minimal `.xlsx` package (ECMA-376, SpreadsheetML):
/// content types, relationships, the workbook, one style sheet (normal and
/// bold) and the worksheets.
enum SpreadsheetML {
    static let mainNamespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let relationshipNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    /// The `cellXfs` index of the bold header style in `styles`.
    static let headerStyle = 1
    /// Column widths, in characters, are kept within these bounds.
    static let narrowestColumn = 6, widestColumn = 60

    static func validate(_ sheet: Worksheet) throws {
        let forbidden: Set<Character> = ["[", "]", ":", "*", "?", "/", "\\"]
        guard (1...31).contains(sheet.name.count), !sheet.name.contains(where: forbidden.contains),
              !sheet.name.hasPrefix("'"), !sheet.name.hasSuffix("'") else {
            throw WorkbookError(reason: "sheet name \"\(sheet.name)\" must be 1-31 characters without [ ] : * ? / \\ "
                                + "or an apostrophe at either end")
        }
        for (index, row) in sheet.rows.enumerated() {
            guard row.count <= sheet.header.count else {
                throw WorkbookError(reason: "sheet \(sheet.name), row \(index + 1): \(row.count) cells but "
                                    + "\(sheet.header.count) columns")
            }
            for case let .number(value) in row where !value.isFinite {
                throw WorkbookError(reason: "sheet \(sheet.name), row \(index + 1): \(value) is not a finite number "
                                    + "(leave the cell empty instead)")
            }
        }
    }

    static func contentTypes(sheetCount: Int) -> String {
        var xml = declaration
            + "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
            + "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
            + "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
            + "<Override PartName=\"/xl/workbook.xml\" "
            + "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
            + "<Override PartName=\"/xl/styles.xml\" "
            + "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
        for index in 1...sheetCount {
            xml += "<Override PartName=\"/xl/worksheets/sheet\(index).xml\" "
                + "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        return xml + "</Types>"
    }

    static let packageRelationships = declaration
        + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        + "<Relationship Id=\"rId1\" Type=\"\(relationshipNamespace)/officeDocument\" Target=\"xl/workbook.xml\"/>"
        + "</Relationships>"

    static func workbook(sheetNames: [String]) -> String {
        var xml = declaration + "<workbook xmlns=\"\(mainNamespace)\" xmlns:r=\"\(relationshipNamespace)\">"
            + "<bookViews><workbookView activeTab=\"0\"/></bookViews><sheets>"
        for (index, name) in sheetNames.enumerated() {
            xml += "<sheet name=\"\(escaped(name))\" sheetId=\"\(index + 1)\" r:id=\"rId\(index + 1)\"/>"
        }
        return xml + "</sheets></workbook>"
    }

    static func workbookRelationships(sheetCount: Int) -> String {
        var xml = declaration + "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        for index in 1...sheetCount {
            xml += "<Relationship Id=\"rId\(index)\" Type=\"\(relationshipNamespace)/worksheet\" "
                + "Target=\"worksheets/sheet\(index).xml\"/>"
        }
        return xml + "<Relationship Id=\"rId\(sheetCount + 1)\" Type=\"\(relationshipNamespace)/styles\" "
            + "Target=\"styles.xml\"/></Relationships>"
    }

    /// Font 0 normal, font 1 bold; `cellXfs` 0 the default, 1 the header.
    static let styles = declaration + "<styleSheet xmlns=\"\(mainNamespace)\">"
        + "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font>"
        + "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>"
        + "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
        + "<fill><patternFill patternType=\"gray125\"/></fill></fills>"
        + "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
        + "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>"
        + "<cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
        + "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>"
        + "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
        + "</styleSheet>"

    static func worksheet(_ sheet: Worksheet, selected: Bool) -> String {
        let lastColumn = max(sheet.header.count, 1)
        var xml = declaration + "<worksheet xmlns=\"\(mainNamespace)\">"
        xml += "<dimension ref=\"A1:\(columnName(lastColumn - 1))\(sheet.rows.count + 1)\"/>"
        // The header stays in view: a frozen pane below row 1.
        xml += "<sheetViews><sheetView workbookViewId=\"0\"\(selected ? " tabSelected=\"1\"" : "")>"
            + "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"
            + "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>"
        if !sheet.header.isEmpty {
            xml += "<cols>"
            for (column, width) in columnWidths(sheet).enumerated() {
                xml += "<col min=\"\(column + 1)\" max=\"\(column + 1)\" width=\"\(width)\" customWidth=\"1\"/>"
            }
            xml += "</cols>"
        }
        xml += "<sheetData><row r=\"1\">"
        for (column, title) in sheet.header.enumerated() {
            xml += "<c r=\"\(columnName(column))1\" s=\"\(headerStyle)\" t=\"inlineStr\">\(inlineString(title))</c>"
        }
        xml += "</row>"
        for (index, row) in sheet.rows.enumerated() {
            let number = index + 2
            xml += "<row r=\"\(number)\">"
            for (column, cell) in row.enumerated() {
                let reference = "\(columnName(column))\(number)"
                switch cell {
                case .number(let value): xml += "<c r=\"\(reference)\"><v>\(numeral(value))</v></c>"
                case .text(let text) where !text.isEmpty:
                    xml += "<c r=\"\(reference)\" t=\"inlineStr\">\(inlineString(text))</c>"
                case .text, .empty: continue
                }
            }
            xml += "</row>"
        }
        return xml + "</sheetData></worksheet>"
    }

    /// Widths from the longest entry of each column (a number as a
    /// spreadsheet shows it in the General format: about 11 characters at most).
    static func columnWidths(_ sheet: Worksheet) -> [Int] {
        var longest = sheet.header.map(\.count)
        for row in sheet.rows {
            for (column, cell) in row.enumerated() {
                let length: Int
                switch cell {
                case .number(let value): length = min(numeral(value).count, 11)
                case .text(let text): length = text.count
                case .empty: length = 0
                }
                longest[column] = max(longest[column], length)
            }
        }
        return longest.map { min(max($0 + 2, narrowestColumn), widestColumn) }
    }

    /// The shortest decimal that reads back as exactly `value`, with `.`
    /// (the XML Schema `double` form every spreadsheet reads, whatever its locale).
    static func numeral(_ value: Double) -> String {
        let text = "\(value)"
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// A, B, ..., Z, AA, AB, ... for 0, 1, ...
    static func columnName(_ index: Int) -> String {
        var name = "", rest = index + 1
        while rest > 0 {
            let digit = (rest - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + digit))) + name
            rest = (rest - 1) / 26
        }
        return name
    }

    private static func inlineString(_ text: String) -> String {
        let preserve = text.first?.isWhitespace == true || text.last?.isWhitespace == true
        return "<is><t\(preserve ? " xml:space=\"preserve\"" : "")>\(escaped(text))</t></is>"
    }

    /// `text` as XML character data or attribute value; characters XML 1.0
    /// cannot carry (most control characters) become U+FFFD.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            case "\r": out += "&#13;"
            default:
                let value = scalar.value
                let allowed = value >= 0x20 && !(0xFFFE...0xFFFF).contains(value)
                out.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return out
    }
}
