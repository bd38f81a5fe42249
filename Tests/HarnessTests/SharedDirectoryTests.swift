import Foundation
import XCTest
@testable import Harness

/// A fake executor slow enough for several processes to overlap, that
/// appends "<hash> <pid>" to a shared log each time it starts a run.
private final class LoggingExecutor: RunExecutor {
    let inner = FakeExecutor()
    let log: String

    init(log: String) { self.log = log }

    func execute(_ config: RunConfig, in directory: URL, progress: (RunProgress) -> Void) throws -> RunOutcome {
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        let line = Array("\(config.hash) \(getpid())\n".utf8)
        _ = line.withUnsafeBytes { posixWrite(fd, $0.baseAddress!, $0.count) }
        close(fd)
        return try inner.execute(config, in: directory) { update in
            usleep(10_000)
            progress(update)
        }
    }
}

/// Several real processes share one sweep directory, as Slurm array tasks
/// on a cluster would: the test bundle runs itself as the children.
final class SharedDirectoryTests: XCTestCase {
    static let directoryVariable = "HARNESS_SHARED_TEST_DIR", roleVariable = "HARNESS_SHARED_TEST_ROLE"

    /// In a child: one sweep process (`worker` or `shard I/N`). In a normal test run: nothing.
    func testChildSweepProcess() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment[SharedDirectoryTests.directoryVariable],
              let role = environment[SharedDirectoryTests.roleVariable] else { return }
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        let output = URL(fileURLWithPath: path)
        let shard = role == "worker" ? Shard.whole : try Shard(parsing: String(role.dropFirst("shard ".count)))
        _ = try SweepRunner(runs: runs, output: output, shard: shard, worker: role == "worker", gitCommit: "abc123",
                            executor: LoggingExecutor(log: output.appendingPathComponent("executions.log").path),
                            log: { _ in }, makeReporter: nil).run()
    }

    /// Two workers and the two shardings of the issue (`--shard 1/2` and
    /// `--shard 1/3`, which used to run the same run at once) start together
    /// on one directory: every run executes exactly once, both workers take
    /// runs, and the tables equal a serial sweep's.
    func testTwoWorkersAndTwoShardingsTogetherRunEachRunOnceAndEqualASerialSweep() throws {
        #if !os(Linux)
        throw XCTSkip("runs the test bundle as child processes, which is Linux-specific here")
        #else
        let shared = try makeTemporaryDirectory("shared"), serial = try makeTemporaryDirectory("serial")
        defer {
            try? FileManager.default.removeItem(at: shared)
            try? FileManager.default.removeItem(at: serial)
        }
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        let roles = ["worker", "worker", "shard 1/2", "shard 1/3"]
        let children = try roles.map { role -> Process in
            let child = Process()
            child.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
            child.arguments = ["HarnessTests.SharedDirectoryTests/testChildSweepProcess"]
            child.environment = ProcessInfo.processInfo.environment.merging(
                [SharedDirectoryTests.directoryVariable: shared.path, SharedDirectoryTests.roleVariable: role]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            return child
        }
        for child in children { child.waitUntilExit() }
        XCTAssertEqual(children.map(\.terminationStatus), [0, 0, 0, 0])

        let log = try String(contentsOf: shared.appendingPathComponent("executions.log"), encoding: .utf8)
        let executions = log.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(executions.map { $0[0] }.sorted(), runs.map(\.hash).sorted(), "every run executed exactly once")
        let byPID = Dictionary(grouping: executions, by: { $0[1] }).mapValues(\.count)
        for worker in children.prefix(2) {
            XCTAssertGreaterThan(byPID["\(worker.processIdentifier)"] ?? 0, 0, "each worker took runs: \(byPID)")
        }

        _ = try SweepRunner(runs: runs, output: serial, gitCommit: "abc123", executor: FakeExecutor(),
                            log: { _ in }, makeReporter: nil).run()
        XCTAssertEqual(try runsTableWithoutWallTime(shared), try runsTableWithoutWallTime(serial))
        for name in ["summary.csv", "layers.csv", "overlap.csv"] {
            XCTAssertEqual(try Data(contentsOf: shared.appendingPathComponent(name)),
                           try Data(contentsOf: serial.appendingPathComponent(name)), name)
        }
        XCTAssertEqual(DirectoryLock.liveWorkers(of: shared), [], "every process left the directory")
        #endif
    }
}
