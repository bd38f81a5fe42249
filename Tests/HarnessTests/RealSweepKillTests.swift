import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// Starts the real `ticket sweep MANIFEST --out OUTPUT --threads 1` (plus
/// `extra` arguments) from the repository root, where the vendored MNIST is.
func startTicketSweep(_ manifest: URL, into output: URL, extra: [String] = []) throws -> Process {
    let process = Process()
    process.executableURL = try ticketExecutable(nextTo: Bundle(for: RealSweepKillTests.self))
    process.arguments = ["sweep", manifest.path, "--out", output.path, "--threads", "1"] + extra
    process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Sends SIGKILL to `process` as soon as `condition` holds (polled every
/// 2 ms, for at most 120 s) and waits for it; false if it ended first.
func killDashNine(_ process: Process, when condition: () -> Bool) -> Bool {
    var killed = false
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning, Date() < deadline, !killed {
        if condition() {
            kill(process.processIdentifier, SIGKILL)
            killed = true
        } else {
            usleep(2_000)
        }
    }
    process.waitUntilExit()
    if killed { XCTAssertEqual(process.terminationReason, .uncaughtSignal) }
    return killed
}

/// The real `ticket sweep` (trainer and pruning included), SIGKILLed in the
/// middle of a run and rerun, must give the tables of an uninterrupted sweep.
final class RealSweepKillTests: XCTestCase {
    private let manifest = """
    {"models": ["lenet-300-100"], "datasets": ["mnist"],
     "criteria": [{"name": "magnitude"}, {"name": "data-dependent"}],
     "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 3, "rewindIteration": 0}],
     "seeds": [1],
     "training": {"optimizer": "sgd", "learningRate": 0.05, "momentum": 0.9, "batchSize": 60,
                  "epochsPerRound": 1, "trainExamples": 600}}
    """

    private func sweep(_ manifest: URL, into output: URL) throws -> Process {
        try startTicketSweep(manifest, into: output)
    }

    /// runs.csv with the wall-time column blanked.
    private func runsWithoutWallTime(_ directory: URL) throws -> [[String]] {
        let table = try CSVTable.read(directory.appendingPathComponent("runs.csv"))
        let wall = try XCTUnwrap(table.header.firstIndex(of: "wall_seconds"))
        return try String(contentsOf: directory.appendingPathComponent("runs.csv"), encoding: .utf8)
            .split(separator: "\r\n").map { line in
                var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if fields.count > wall { fields[wall] = "" }
                return fields
            }
    }

    func testKillDashNineMidRunThenRerunGivesTheUninterruptedTables() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifestURL = dir.appendingPathComponent("m.json")
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        let clean = dir.appendingPathComponent("clean"), killed = dir.appendingPathComponent("killed")

        let reference = try sweep(manifestURL, into: clean)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        // Kill as soon as some run has a round checkpoint but is not done.
        let victim = try sweep(manifestURL, into: killed)
        let runs = killed.appendingPathComponent("runs")
        let killedMidRun = killDashNine(victim) {
            let directories = (try? FileManager.default.contentsOfDirectory(at: runs, includingPropertiesForKeys: nil)) ?? []
            return directories.contains(where: {
                FileManager.default.fileExists(atPath: $0.appendingPathComponent("checkpoint.json").path)
                    && !FileManager.default.fileExists(atPath: $0.appendingPathComponent("done.json").path)
            })
        }
        XCTAssertTrue(killedMidRun, "the sweep finished before it could be killed mid-run")

        let rerun = try sweep(manifestURL, into: killed)
        rerun.waitUntilExit()
        XCTAssertEqual(rerun.terminationStatus, 0)

        for table in ["summary.csv", "layers.csv", "overlap.csv"] {
            XCTAssertEqual(try Data(contentsOf: clean.appendingPathComponent(table)),
                           try Data(contentsOf: killed.appendingPathComponent(table)), "\(table) differs")
        }
        XCTAssertEqual(try runsWithoutWallTime(clean), try runsWithoutWallTime(killed))
        try assertWorkbooksMatch(clean, killed)
    }
}
