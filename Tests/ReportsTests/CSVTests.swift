import Foundation
import TicketTestSupport
import XCTest
@testable import Reports

final class CSVTests: XCTestCase {
    func parse(_ text: String) throws -> CSVTable {
        try CSVTable.parse(Data(text.utf8), file: "t.csv")
    }

    func problem(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testWriterQuotesOnlyWhatMustBeQuoted() {
        XCTAssertEqual(CSV.record(["plain", "a,b", "say \"hi\"", "two\nlines", "cr\rx", "", " pad "]),
                       "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rx\",, pad \r\n")
        XCTAssertEqual(CSV.number(0.5), "0.5")
        XCTAssertEqual(CSV.number(nil), "")
        XCTAssertEqual(CSV.number(.nan), "")
        XCTAssertEqual(CSV.number(1234567.25), "1234567.25", "no thousands separators")
    }

    func testRoundTripOfAwkwardFields() throws {
        let header = ["a", "b,c", "d\"e"]
        let rows = [["x", "", "\"\""], ["multi\r\nline", ",", "ünïcödé"], ["", "", ""]]
        let table = try parse(CSV.document(header: header, rows: rows))
        XCTAssertEqual(table.header, header)
        XCTAssertEqual(table.records.map(\.fields), rows)
        XCTAssertEqual(table.records.map(\.line), [2, 3, 5], "lines count CRLFs inside quoted fields")
    }

    func testFinalLineBreakIsOptional() throws {
        XCTAssertEqual(try parse("a,b\r\n1,2").records.map(\.fields), [["1", "2"]])
        XCTAssertEqual(try parse("a,b\r\n1,2\r\n").records.map(\.fields), [["1", "2"]])
        XCTAssertEqual(try parse("a,b\r\n1,\r\n").records.map(\.fields), [["1", ""]])
    }

    func testStrictErrorsNameFileLineAndProblem() {
        XCTAssertEqual(problem(""), "t.csv:1: empty file: expected a header row")
        XCTAssertEqual(problem("a,b\n1,2\n"), "t.csv:1: bare LF line ending (RFC 4180 records end with CRLF)")
        XCTAssertEqual(problem("a,b\r\n1,2\r3,4\r\n"), "t.csv:2: bare CR line ending (RFC 4180 records end with CRLF)")
        XCTAssertEqual(problem("a,b\r\n1,2,3\r\n"), "t.csv:2: record has 3 fields, the header has 2")
        XCTAssertEqual(problem("a,b\r\n1,2\r\n\r\n"), "t.csv:3: record has 1 fields, the header has 2")
        XCTAssertEqual(problem("a,b\r\n1,x\"y\r\n"), "t.csv:2: double quote inside an unquoted field")
        XCTAssertEqual(problem("a,b\r\n1,\"x\"y\r\n"),
                       "t.csv:2: unexpected character after a closing quote (quotes inside a field must be doubled)")
        XCTAssertEqual(problem("a,b\r\n1,2\r\n3,\"open\r\nstill\r\n"), "t.csv:3: quoted field is never closed")
        XCTAssertEqual(problem("a,a\r\n1,2\r\n"), "t.csv:1: column \"a\" appears twice in the header")
        XCTAssertEqual(problem("a,\r\n1,2\r\n"), "t.csv:1: empty column name in the header")
        XCTAssertEqual(problem("\u{FEFF}a\r\n1\r\n"), "t.csv:1: starts with a byte order mark; expected plain UTF-8")
        var bad = Data("a\r\nok\r\n".utf8)
        bad.append(contentsOf: [0xC3, 0x28, 0x0D, 0x0A])
        XCTAssertEqual((try? CSVTable.parse(bad, file: "t.csv")) == nil, true)
        XCTAssertThrowsError(try CSVTable.parse(bad, file: "t.csv")) { error in
            XCTAssertEqual("\(error)", "t.csv:3: not valid UTF-8")
        }
    }

    func testTypedRowsRoundTripAndReportBadCells() throws {
        let row = RunRow(model: "lenet-300-100", dataset: "mnist", criterion: "magnitude", schedule: "iterative",
                         seed: 3, round: 2, densityRequested: 0.25, densityAchieved: 0.2500038,
                         testAccuracyFinal: 0.9812, testAccuracyBest: 0.9833, testLoss: nil, trainLoss: 0.05,
                         epochs: 2, wallSeconds: 1.5, status: .ok, configHash: "0123456789abcdef", gitCommit: "abc123")
        let text = CSV.document([row])
        XCTAssertTrue(text.hasPrefix(RunRow.columns.joined(separator: ",") + "\r\n"))
        XCTAssertEqual(try parse(text).rows(RunRow.self), [row])

        let broken = text.replacingOccurrences(of: ",0.9812,", with: ",0,9812,")
        XCTAssertThrowsError(try parse(broken).rows(RunRow.self))
        let badStatus = text.replacingOccurrences(of: ",ok,", with: ",fine,")
        XCTAssertThrowsError(try parse(badStatus).rows(RunRow.self)) { error in
            XCTAssertEqual("\(error)", "t.csv:2: column status: \"fine\" is not one of ok, collapsed, diverged")
        }
        XCTAssertThrowsError(try parse("model,seed\r\nx,1\r\n").rows(RunRow.self)) { error in
            XCTAssertTrue("\(error)".hasPrefix("t.csv:1: header does not match the expected columns; missing: dataset"), "\(error)")
        }
    }

    /// Property: any table of any strings survives write → strict read.
    func testRandomTablesRoundTrip() throws {
        var rng = SplitMix(state: 42)
        let alphabet: [String] = ["a", "Z", "0", ",", "\"", "\r", "\n", "\r\n", " ", "é", "漢", "😀", ";", "\t", "'"]
        for _ in 0..<300 {
            let width = 1 + Int(rng.next() % 5)
            func cell() -> String {
                (0..<Int(rng.next() % 6)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            }
            let header = (0..<width).map { "c\($0)" + cell().filter { $0 != "\r" && $0 != "\n" } }
            guard Set(header).count == width else { continue }
            let rows = (0..<Int(rng.next() % 5)).map { _ in (0..<width).map { _ in cell() } }
            let table = try parse(CSV.document(header: header, rows: rows))
            XCTAssertEqual(table.header, header)
            XCTAssertEqual(table.records.map(\.fields), rows)
        }
    }

    func testLayerRowFlagsCollapse() throws {
        let layer = LayerRow(model: "m", dataset: "d", criterion: "c", schedule: "s", seed: 1, round: 3, layer: "fc2.weight",
                             weights: 100, remaining: 0, configHash: "h")
        XCTAssertTrue(layer.collapsed)
        XCTAssertEqual(layer.fields[9...11], ["", "0", "yes"])
        XCTAssertEqual(try parse(CSV.document([layer])).rows(LayerRow.self), [layer])
        var kept = layer
        kept.remaining = 25
        kept.densityRequested = 0.25
        XCTAssertFalse(kept.collapsed)
        XCTAssertEqual(kept.fields[9...11], ["0.25", "0.25", "no"])
    }
}
