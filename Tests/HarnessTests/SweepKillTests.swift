import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// A fake executor slow enough to be killed in the middle of a run.
private final class SlowExecutor: RunExecutor {
    let inner = FakeExecutor()
    func execute(_ config: RunConfig, in directory: URL, progress: (RunProgress) -> Void) throws -> RunOutcome {
        try inner.execute(config, in: directory) { update in
            usleep(15_000)
            progress(update)
        }
    }
}

/// A real `kill -9` in the middle of a sweep: the test bundle runs itself as
/// a child process doing the sweep, the parent kills it while a run is in
/// flight, reruns the sweep and compares the tables with an uninterrupted one.
final class SweepKillTests: XCTestCase {
    static let childVariable = "HARNESS_KILL_TEST_CHILD_DIR"

    /// In the child: the sweep to be killed. In a normal test run: nothing.
    func testChildSweep() throws {
        guard let path = ProcessInfo.processInfo.environment[SweepKillTests.childVariable] else { return }
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        _ = try SweepRunner(runs: runs, output: URL(fileURLWithPath: path), gitCommit: "abc123",
                            executor: SlowExecutor(), log: { _ in }, makeReporter: nil).run()
    }

    func testSweepKilledWithSIGKILLResumesToTheSameTables() throws {
        #if !os(Linux)
        throw XCTSkip("runs the test bundle as a child process, which is Linux-specific here")
        #else
        let killed = try makeTemporaryDirectory("killed"), clean = try makeTemporaryDirectory("clean")
        defer {
            try? FileManager.default.removeItem(at: killed)
            try? FileManager.default.removeItem(at: clean)
        }
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
        child.arguments = ["HarnessTests.SweepKillTests/testChildSweep"]
        child.environment = ProcessInfo.processInfo.environment.merging([SweepKillTests.childVariable: killed.path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Wait until a few runs are complete and the next one has started.
        let deadline = Date().addingTimeInterval(60)
        func completed() -> Int { runs.filter { RunDirectory(output: killed, config: $0).isComplete(for: $0) }.count }
        while completed() < 3 && Date() < deadline && child.isRunning { usleep(5_000) }
        usleep(40_000)
        XCTAssertTrue(child.isRunning, "the child sweep finished or died before it could be killed")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        let done = completed()
        XCTAssertGreaterThanOrEqual(done, 3)
        XCTAssertLessThan(done, runs.count, "killed mid-sweep")

        // The dead child's lock is taken over; the rerun finishes the sweep.
        var warnings: [String] = []
        let resumed = try SweepRunner(runs: runs, output: killed, gitCommit: "abc123", executor: FakeExecutor(),
                                      log: { warnings.append($0) }, makeReporter: nil).run()
        XCTAssertEqual(resumed.skipped, done)
        XCTAssertTrue(warnings.contains { $0.contains("pid \(child.processIdentifier)") }, "\(warnings)")
        _ = try SweepRunner(runs: runs, output: clean, gitCommit: "abc123", executor: FakeExecutor(),
                            log: { _ in }, makeReporter: nil).run()

        func table(_ directory: URL, _ name: String) throws -> CSVTable {
            try CSVTable.read(directory.appendingPathComponent(name))
        }
        let a = try table(killed, "runs.csv"), b = try table(clean, "runs.csv")
        let wall = a.header.firstIndex(of: "wall_seconds")!
        func dropWall(_ t: CSVTable) -> [[String]] {
            t.records.map { record in record.fields.enumerated().filter { $0.offset != wall }.map(\.element) }
        }
        XCTAssertEqual(dropWall(a), dropWall(b))
        for name in ["summary.csv", "layers.csv", "overlap.csv"] {
            XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent(name)),
                           try Data(contentsOf: clean.appendingPathComponent(name)), name)
        }
        try assertWorkbooksMatch(killed, clean)
        // Every run directory is complete, with all its files.
        for config in runs {
            let directory = RunDirectory(output: killed, config: config)
            XCTAssertTrue(directory.isComplete(for: config))
            for file in [directory.config, directory.rows, directory.layers] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path)
            }
        }
        #endif
    }
}
