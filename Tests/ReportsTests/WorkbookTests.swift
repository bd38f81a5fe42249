import Foundation
import TicketTestSupport
import XCTest
@testable import Reports

final class WorkbookTests: XCTestCase {
    private let sheet = Worksheet(name: "summary", header: ["density", "criterion", "note", "a long column title here"], rows: [
        [.number(0.125), .text("a<b & \"c\""), .empty, .number(3)],
        [.number(1e-7), .text(""), .text(" padded "), .number(-2.5)],
        [.number(0.9431333333333334)],
    ])

    private func read(_ workbook: Workbook) throws -> ZipReader { try ZipReader(workbook.xlsx()) }

    func testPackageHoldsEveryPartAsWellFormedXMLWithFixedTimestamps() throws {
        let zip = try read(Workbook(sheets: [sheet, Worksheet(name: "runs", header: ["x"], rows: [])]))
        XCTAssertEqual(zip.entries.map(\.path), [
            "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
            "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
        ])
        for entry in zip.entries {
            _ = try ParsedXML(entry.contents, name: entry.path)
            XCTAssertEqual(entry.dosDate, 0x21, "\(entry.path): 1980-01-01, not the clock")
            XCTAssertEqual(entry.dosTime, 0, entry.path)
        }
        XCTAssertTrue(zip.entries.contains { $0.method == 8 }, "large parts are deflated")
        let workbook = try ParsedXML(zip["xl/workbook.xml"]!, name: "workbook")
        XCTAssertEqual(workbook.all("sheet").map { $0.attributes["name"] }, ["summary", "runs"])
        let types = try ParsedXML(zip["[Content_Types].xml"]!, name: "types")
        XCTAssertEqual(types.all("Override").compactMap { $0.attributes["PartName"] }.filter { $0.contains("worksheets") },
                       ["/xl/worksheets/sheet1.xml", "/xl/worksheets/sheet2.xml"])
    }

    func testNumbersAreNumericCellsTextIsInlineAndEmptyCellsAreAbsent() throws {
        let zip = try read(Workbook(sheets: [sheet]))
        let cells = try ParsedXML(zip["xl/worksheets/sheet1.xml"]!, name: "sheet1").cells()
        XCTAssertNil(cells["A2"]?.type, "a number cell has no type attribute (n is the default)")
        XCTAssertEqual(cells["A2"]?.value, "0.125")
        XCTAssertEqual(Double(cells["A3"]?.value ?? ""), 1e-7)
        XCTAssertEqual(cells["A4"]?.value, "0.9431333333333334", "shortest digits that read back exactly")
        XCTAssertEqual(cells["D2"]?.value, "3")
        XCTAssertEqual(cells["D3"]?.value, "-2.5")
        XCTAssertEqual(cells["B2"]?.type, "inlineStr")
        XCTAssertEqual(cells["B2"]?.value, "a<b & \"c\"", "escaped and read back")
        XCTAssertEqual(cells["C3"]?.value, " padded ", "leading and trailing spaces kept")
        XCTAssertNil(cells["C2"], "an empty cell is left out")
        XCTAssertNil(cells["B3"], "an empty string is left out too")
        XCTAssertNil(cells["B4"])
        XCTAssertEqual(cells.count, 4 + 3 + 3 + 1)
    }

    func testHeaderIsBoldFrozenAndColumnsAreSizedFromTheirContent() throws {
        let zip = try read(Workbook(sheets: [sheet]))
        let xml = try ParsedXML(zip["xl/worksheets/sheet1.xml"]!, name: "sheet1")
        let pane = try XCTUnwrap(xml.all("pane").first)
        XCTAssertEqual(pane.attributes["state"], "frozen")
        XCTAssertEqual(pane.attributes["ySplit"], "1")
        XCTAssertEqual(pane.attributes["topLeftCell"], "A2")
        let cells = xml.cells()
        XCTAssertEqual(["A1", "B1", "C1", "D1"].map { cells[$0]?.style }, ["1", "1", "1", "1"])
        XCTAssertEqual(cells["D1"]?.value, "a long column title here")
        let styles = try ParsedXML(zip["xl/styles.xml"]!, name: "styles")
        XCTAssertEqual(styles.all("xf").filter { $0.ancestors.last == "cellXfs" }[1].attributes["fontId"], "1")
        XCTAssertEqual(styles.all("b").count, 1, "font 1 is the bold one")
        let widths = xml.all("col").map { Int($0.attributes["width"] ?? "") ?? -1 }
        XCTAssertEqual(widths.count, 4)
        XCTAssertEqual(widths[3], "a long column title here".count + 2)
        XCTAssertEqual(widths[1], "a<b & \"c\"".count + 2, "text width counts characters, not escapes")
        XCTAssertEqual(widths[0], 13, "a long number counts as the ~11 characters a spreadsheet shows")
        XCTAssertEqual(xml.all("dimension").first?.attributes["ref"], "A1:D4")
    }

    func testSameSheetsGiveTheSameBytesAndADifferentValueDifferentBytes() throws {
        let first = try Workbook(sheets: [sheet]).xlsx(), second = try Workbook(sheets: [sheet]).xlsx()
        XCTAssertEqual(first, second)
        var changed = sheet
        changed.rows[0][0] = .number(0.25)
        XCTAssertNotEqual(try Workbook(sheets: [changed]).xlsx(), first)
    }

    func testColumnNamesPastZ() {
        XCTAssertEqual([0, 25, 26, 27, 51, 52, 701, 702].map(SpreadsheetML.columnName),
                       ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"])
    }

    func testInvalidWorkbooksAreRefusedWithTheReason() {
        func reason(_ sheets: [Worksheet]) -> String {
            do {
                _ = try Workbook(sheets: sheets).xlsx()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(reason([]).contains("at least one sheet"))
        XCTAssertTrue(reason([Worksheet(name: "a/b", header: [], rows: [])]).contains("a/b"))
        XCTAssertTrue(reason([Worksheet(name: String(repeating: "x", count: 32), header: [], rows: [])]).contains("1-31"))
        XCTAssertTrue(reason([sheet, Worksheet(name: "Summary", header: [], rows: [])]).contains("appears twice"))
        XCTAssertTrue(reason([Worksheet(name: "s", header: ["a"], rows: [[.empty, .empty]])]).contains("row 1: 2 cells"))
        XCTAssertTrue(reason([Worksheet(name: "s", header: ["a"], rows: [[.number(.nan)]])]).contains("not a finite number"))
    }

    func testControlCharactersCannotBreakTheXML() throws {
        let odd = Worksheet(name: "odd", header: ["t"], rows: [[.text("bell\u{07}, tab\t, cr\r")]])
        let zip = try read(Workbook(sheets: [odd]))
        let cells = try ParsedXML(zip["xl/worksheets/sheet1.xml"]!, name: "odd").cells()
        XCTAssertEqual(cells["A2"]?.value, "bell\u{FFFD}, tab\t, cr\r")
    }
}
