import Foundation
@testable import Reports
import TicketTestSupport
import XCTest
@testable import Harness

/// Tables with the awkward cases: a density of 0.125, a missing accuracy (a
/// diverged run), n = 1 (empty std and CI), a config hash of digits only
/// with a leading zero, a seed a double cannot hold, a layer excluded from
/// pruning (empty requested density), a text field with a comma and quotes.
private func awkwardTables() throws -> SweepTables {
    var runs = [
        runRow("magnitude", seed: 1, density: 0.125, accuracy: 0.9431333333333334),
        runRow("magnitude", seed: 2, density: 0.125, accuracy: 0.95),
        runRow("data-dependent", seed: 1, density: 0.125, accuracy: 0.96),
        runRow("data-dependent", seed: 2, density: 0.125, accuracy: 0.97),
        runRow("random", seed: UInt64.max, density: 0.125, accuracy: nil, status: .diverged),
    ]
    runs[0].configHash = "0123456789012345"
    runs[1].dataNote = "partial training set: \"1, of 5\" files"
    let layers = [
        LayerRow(model: "lenet", dataset: "mnist", criterion: "magnitude", schedule: "iterative", seed: 1, round: 1,
                 layer: "fc1", weights: 235_200, remaining: 29_400, densityRequested: 0.125, configHash: "0123456789012345"),
        LayerRow(model: "lenet", dataset: "mnist", criterion: "magnitude", schedule: "iterative", seed: 1, round: 1,
                 layer: "fc3", weights: 1000, remaining: 1000, densityRequested: nil, configHash: "0123456789012345"),
    ]
    return SweepTables(runs: runs, layers: layers, summary: try Summary.aggregate(runs), overlap: [], incompleteRuns: 0)
}

/// What a spreadsheet must show for each CSV field of `Row`: the number for
/// a numeric column, the text for a text column, nothing for an empty field.
private func expectedCells<Row: CSVRow>(_ rows: [Row]) -> [[Cell]] {
    rows.map { row in
        zip(Row.columns, row.fields).map { column, field in
            if field.isEmpty { return .empty }
            let integerTooLarge = UInt64(field).map { $0 > 1 << 53 } ?? false
            if Worksheet.textColumns.contains(column) || integerTooLarge { return .text(field) }
            return .number(Double(field)!)
        }
    }
}

private let sheetFiles = [("runs", "xl/worksheets/sheet1.xml"), ("summary", "xl/worksheets/sheet2.xml"),
                          ("layers", "xl/worksheets/sheet3.xml"), ("overlap", "xl/worksheets/sheet4.xml")]

final class WorkbookTableTests: XCTestCase {
    /// The always-running structural test: unzip `tables.xlsx` as written by
    /// `SweepTables.write(to:)` and check every cell against the CSV fields.
    func testTablesXLSXHoldsEveryTableWithNumbersAsNumbersAndIsRewrittenIdentically() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tables = try awkwardTables()
        try tables.write(to: dir)
        let file = dir.appendingPathComponent(SweepTables.workbookFile)
        let bytes = try Data(contentsOf: file)
        let zip = try ZipReader(bytes)
        let workbook = try ParsedXML(zip["xl/workbook.xml"]!, name: "workbook.xml")
        XCTAssertEqual(workbook.all("sheet").compactMap { $0.attributes["name"] }, sheetFiles.map(\.0))

        func check<Row: CSVRow>(_ rows: [Row], _ part: String) throws {
            let cells = try ParsedXML(zip[part]!, name: part).cells()
            for (column, title) in Row.columns.enumerated() {
                XCTAssertEqual(cells[SpreadsheetML.columnName(column) + "1"]?.value, title, part)
            }
            var count = Row.columns.count
            for (r, expected) in expectedCells(rows).enumerated() {
                for (column, cell) in expected.enumerated() {
                    let reference = SpreadsheetML.columnName(column) + String(r + 2)
                    let found = cells[reference]
                    switch cell {
                    case .empty: XCTAssertNil(found, "\(part) \(reference) should be absent")
                    case .text(let text):
                        XCTAssertEqual(found?.type, "inlineStr", "\(part) \(reference)")
                        XCTAssertEqual(found?.value, text, "\(part) \(reference)")
                        count += 1
                    case .number(let value):
                        XCTAssertNil(found?.type, "\(part) \(reference) should be a number")
                        XCTAssertEqual(found.flatMap { Double($0.value) }, value, "\(part) \(reference)")
                        count += 1
                    }
                }
            }
            XCTAssertEqual(cells.count, count, "\(part): no cells besides the header and the fields")
        }
        try check(tables.runs, sheetFiles[0].1)
        try check(tables.summary, sheetFiles[1].1)
        try check(tables.layers, sheetFiles[2].1)
        try check(tables.overlap, sheetFiles[3].1)

        let summary = try ParsedXML(zip[sheetFiles[1].1]!, name: "summary").cells()
        XCTAssertEqual(summary["E2"]?.value, "0.125", "density is the number 0.125")
        XCTAssertNil(summary["E2"]?.type)
        let runs = try ParsedXML(zip[sheetFiles[0].1]!, name: "runs").cells()
        XCTAssertEqual(runs["T2"]?.type, "inlineStr", "a config hash of digits stays text")
        XCTAssertEqual(runs["T2"]?.value, "0123456789012345")

        // Same tables, same bytes (the resumed-sweep identity checks rely on it), and no temporary file left.
        try tables.write(to: dir)
        XCTAssertEqual(try Data(contentsOf: file), bytes)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir.path).contains { $0.contains(".tmp-") })
    }

    /// LibreOffice (`soffice`, Debian's libreoffice-calc-nogui) opens
    /// `tables.xlsx` under a German locale, where `.` is not the decimal
    /// separator, and every number comes back as a number: converted to flat
    /// ODF, whose cells say their type (`office:value-type="float"`).
    func testLibreOfficeInAGermanLocaleReadsNumbersAsNumbers() throws {
        guard let soffice = ["/usr/bin/soffice", "/usr/local/bin/soffice"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else {
            print("skipped: soffice is absent (apt-get install libreoffice-calc-nogui to run this test)")
            throw XCTSkip("soffice is absent (apt-get install libreoffice-calc-nogui)")
        }
        let locales = try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), ["locale", "-a"]).stdout.lowercased()
        guard locales.contains("de_de.utf8") else {
            print("skipped: the de_DE.UTF-8 locale is not installed (locale-gen it to run this test)")
            throw XCTSkip("the de_DE.UTF-8 locale is not installed")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tables = try awkwardTables()
        try tables.write(to: dir)
        // Its own profile, so it neither waits for nor disturbs another LibreOffice.
        let converted = try runToCompletion(URL(fileURLWithPath: soffice), [
            "-env:UserInstallation=file://\(dir.path)/profile", "--headless", "--convert-to", "fods",
            "--outdir", dir.path, dir.appendingPathComponent(SweepTables.workbookFile).path,
        ], environment: ["LC_ALL": "de_DE.UTF-8", "HOME": dir.path])
        let fods = dir.appendingPathComponent("tables.fods")
        guard FileManager.default.fileExists(atPath: fods.path) else {
            return XCTFail("soffice wrote no tables.fods: \(converted.stdout)\(converted.stderr)")
        }
        let sheets = try FlatODS(ParsedXML(Data(contentsOf: fods), name: "tables.fods"))
        XCTAssertEqual(sheets.names, sheetFiles.map(\.0))
        func check<Row: CSVRow>(_ rows: [Row], _ name: String) throws {
            let found = sheets.tables[name] ?? []
            XCTAssertEqual(found.first?.map(\.text), Row.columns, "\(name) header")
            let expected = expectedCells(rows)
            XCTAssertEqual(found.count, expected.count + 1, "\(name): rows")
            for (r, row) in expected.enumerated() where r + 1 < found.count {
                for (column, cell) in row.enumerated() {
                    let got = column < found[r + 1].count ? found[r + 1][column] : FlatODS.Cell(type: nil, value: nil, text: "")
                    let place = "\(name) row \(r + 2) \(Row.columns[column])"
                    switch cell {
                    case .empty: XCTAssertNil(got.type, "\(place) should be empty, is \(got)")
                    case .text(let text):
                        XCTAssertEqual(got.type, "string", place)
                        XCTAssertEqual(got.text, text, place)
                    case .number(let value):
                        XCTAssertEqual(got.type, "float", "\(place): \(got)")
                        // LibreOffice 7.4 writes 15 significant digits into .fods (it holds the full double).
                        let read = try XCTUnwrap(got.value.flatMap(Double.init), place)
                        XCTAssertEqual(read, value, accuracy: 1e-14 * max(1, abs(value)), place)
                    }
                }
            }
        }
        try check(tables.runs, "runs")
        try check(tables.summary, "summary")
        try check(tables.layers, "layers")
        try check(tables.overlap, "overlap")
        // The locale was in force: LibreOffice displays the number 0.125 with a decimal comma.
        let density = sheets.tables["summary"]?[1][4]
        XCTAssertEqual(density?.text, "0,125", "displayed in the German locale")
    }
}

/// The tables of a flat OpenDocument spreadsheet (`.fods`), each a list of
/// rows of cells with the type LibreOffice gave them; trailing empty cells
/// and rows are dropped.
private struct FlatODS {
    struct Cell: CustomStringConvertible {
        var type: String?
        var value: String?
        var text: String
        var description: String { "\(type ?? "empty") \(value ?? "") \"\(text)\"" }
    }

    var names: [String] = []
    var tables: [String: [[Cell]]] = [:]

    init(_ xml: ParsedXML) {
        var table = "", rows: [[Cell]] = []
        func finishTable() {
            guard !table.isEmpty else { return }
            rows = rows.map { row in
                var row = row
                while let cell = row.last, cell.type == nil, cell.text.isEmpty { row.removeLast() }
                return row
            }
            while let last = rows.last, last.isEmpty { rows.removeLast() }
            tables[table] = rows
        }
        for element in xml.elements {
            switch element.name {
            case "table:table":
                finishTable()
                table = element.attributes["table:name"] ?? "?"
                names.append(table)
                rows = []
            case "table:table-row":
                rows.append([])
            case "table:table-cell", "table:covered-table-cell":
                let type = element.attributes["office:value-type"]
                let repeats = Int(element.attributes["table:number-columns-repeated"] ?? "1") ?? 1
                let cell = Cell(type: type, value: element.attributes["office:value"], text: "")
                rows[rows.count - 1].append(contentsOf: repeatElement(cell, count: type == nil ? min(repeats, 64) : repeats))
            case "text:p":
                if !rows.isEmpty, !rows[rows.count - 1].isEmpty {
                    rows[rows.count - 1][rows[rows.count - 1].count - 1].text += element.text
                }
            default: break
            }
        }
        finishTable()
    }
}

/// For the resumed-sweep identity checks: the `tables.xlsx` of two sweep
/// directories agree part for part, except the runs sheet (its wall-time
/// column differs between executions, as in runs.csv), and each equals,
/// byte for byte, the workbook rebuilt from its directory's runs.
func assertWorkbooksMatch(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let bytesA = try Data(contentsOf: a.appendingPathComponent(SweepTables.workbookFile))
    let bytesB = try Data(contentsOf: b.appendingPathComponent(SweepTables.workbookFile))
    let zipA = try ZipReader(bytesA), zipB = try ZipReader(bytesB)
    XCTAssertEqual(zipA.entries.map(\.path), zipB.entries.map(\.path), file: file, line: line)
    for entry in zipA.entries where entry.path != sheetFiles[0].1 {
        XCTAssertEqual(entry.contents, zipB[entry.path], "tables.xlsx: \(entry.path) differs", file: file, line: line)
    }
    for (directory, bytes) in [(a, bytesA), (b, bytesB)] {
        XCTAssertEqual(try SweepTables.collect(from: [directory]).workbook().xlsx(), bytes,
                       "\(directory.path)/tables.xlsx is not the workbook of its runs", file: file, line: line)
    }
}
