import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// Runs the built `ticket` executable, which sits next to the test bundle.
private func ticket(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try runToCompletion(ticketExecutable(nextTo: Bundle(for: CLICommandTests.self)), arguments)
    return (result.status, result.stdout, result.stderr)
}

final class CLICommandTests: XCTestCase {
    func testCompareExitStatus() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = [SummaryRow(model: "lenet", dataset: "mnist", criterion: "magnitude", schedule: "iterative",
                               density: "0.5", n: 4, mean: 0.8, std: 0.01, ciLow: 0.79, ciHigh: 0.81)]
        var moved = rows
        moved[0].mean = 0.8 + 0.016  // 3.2 standard errors of 0.005
        let baseline = dir.appendingPathComponent("baseline.csv"), candidate = dir.appendingPathComponent("candidate.csv")
        try AtomicFile.write(CSV.document(rows), to: baseline)
        try AtomicFile.write(CSV.document(moved), to: candidate)

        let same = try ticket(["compare", baseline.path, baseline.path])
        XCTAssertEqual(same.status, 0, same.stdout + same.stderr)
        XCTAssertTrue(same.stdout.hasPrefix("ok: "), same.stdout)

        let failing = try ticket(["compare", baseline.path, candidate.path])
        XCTAssertEqual(failing.status, 1)
        XCTAssertTrue(failing.stdout.hasPrefix("FAIL: lenet, mnist, magnitude, iterative, 0.5: mean 0.8 -> 0.816"), failing.stdout)

        XCTAssertEqual(try ticket(["compare", baseline.path, candidate.path, "--max-se", "4"]).status, 0)

        let missing = try ticket(["compare", baseline.path, dir.appendingPathComponent("none.csv").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("error: \(dir.path)/none.csv:"), missing.stderr)
    }

    /// A directory holding a finished fake sweep of `runnerManifest`.
    private func sweptDirectory(_ name: String = #function) throws -> (URL, [RunConfig]) {
        let dir = try makeTemporaryDirectory(name)
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        _ = try SweepRunner(runs: runs, output: dir, gitCommit: "c", executor: FakeExecutor(), log: { _ in },
                            makeReporter: nil).run()
        return (dir, runs)
    }

    /// `ticket report` must not write tables under a live sweep process:
    /// it refuses naming the holder, exits 1 and writes nothing.
    func testReportIsRefusedWhileASweepProcessUsesTheDirectory() throws {
        let (dir, runs) = try sweptDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("summary.csv")
        try FileManager.default.removeItem(at: summary)
        let worker = try DirectoryLock.join(dir, plan: SweepPlan(name: "x", runs: runs), role: "worker")
        let refused = try ticket(["report", dir.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("error: \(dir.path): in use by a live sweep (pid \(getpid()) on host "),
                      refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: summary.path), "nothing written")
        worker.release()
        XCTAssertEqual(try ticket(["report", dir.path]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: summary.path))
    }

    func testReportRebuildsTablesOfASweepDirectory() throws {
        let (dir, _) = try sweptDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("summary.csv"), workbook = dir.appendingPathComponent("tables.xlsx")
        let written = try Data(contentsOf: summary), writtenWorkbook = try Data(contentsOf: workbook)
        try FileManager.default.removeItem(at: summary)
        try FileManager.default.removeItem(at: workbook)
        let result = try ticket(["report", dir.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try Data(contentsOf: summary), written)
        XCTAssertEqual(try Data(contentsOf: workbook), writtenWorkbook, "the workbook is rebuilt byte for byte")
        // The printed table is the summary's rendering, after the one-line count.
        let rows = try CSVTable.read(summary).rows(SummaryRow.self)
        XCTAssertTrue(result.stdout.hasSuffix("\n\n" + SummaryText.render(rows)), result.stdout)
        let notADirectory = try ticket(["report", dir.appendingPathComponent("nothing").path])
        XCTAssertEqual(notADirectory.status, 1)
        XCTAssertTrue(notADirectory.stderr.contains("no runs directory"), notADirectory.stderr)
    }

    /// The workloads `make bench-check` counts: listed by name, repeatable
    /// (a count is only comparable if the work is the same bits each time),
    /// and an unknown name is refused with the list.
    func testInstructionWorkloadsAreListedRepeatableAndChecked() throws {
        let list = try ticket(["instruction-workload", "--list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.stdout.split(separator: "\n"),
                       ["train-lenet-300-100", "train-conv-2", "train-resnet-20",
                        "train-lenet-300-100-at-1/64", "train-conv-2-at-1/16",
                        "gemm-256x256x256", "gemm-60x300x784-nt", "gemm-16x1024x144"])
        for name in ["train-lenet-300-100", "train-lenet-300-100-at-1/64", "gemm-16x1024x144"] {
            let first = try ticket(["instruction-workload", name]), second = try ticket(["instruction-workload", name])
            XCTAssertEqual(first.status, 0, first.stderr)
            XCTAssertTrue(first.stdout.hasPrefix("\(name): checksum "), first.stdout)
            XCTAssertFalse(first.stdout.contains("nan"), first.stdout)
            XCTAssertEqual(first.stdout, second.stdout)
        }
        let unknown = try ticket(["instruction-workload", "train-nothing"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown or missing workload train-nothing; known: train-lenet-300-100"),
                      unknown.stderr)
    }
}
