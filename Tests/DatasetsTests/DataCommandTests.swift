import Foundation
import TicketTestSupport
import XCTest

/// Runs the built `ticket` executable (it sits next to the test bundle).
func runTicket(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let executable = try ticketExecutable(nextTo: Bundle(for: DataCommandTests.self))
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit, "ticket must exit, not die from a signal")
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

final class DataCommandTests: XCTestCase {
    func testInfoOnTheVendoredMNISTPrintsBothSplits() throws {
        let result = try runTicket(["data", "info", "datasets/mnist"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("mnist train: count=60000 shape=28x28x1 classes=10"), String(lines[0]))
        XCTAssertTrue(lines[0].contains("mean=0.1307 std=0.3081"), String(lines[0]))
        XCTAssertTrue(lines[1].hasPrefix("mnist test: count=10000"), String(lines[1]))
    }

    func testBadFileGivesOneErrorLineNamingItAndExitStatusOne() throws {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("train-images-idx3-ubyte.gz", gzipped(idxImages(count: 3, rows: 2, columns: 2)).dropLast(9))
        let result = try runTicket(["data", "info", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("error: \(path): ") ?? false, result.stderr)
    }

    func testMissingPathIsAnErrorNotACrash() throws {
        let result = try runTicket(["data", "info", "/nonexistent/ticketbench"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "error: /nonexistent/ticketbench: cannot open (no such file or directory)\n")
    }
}
