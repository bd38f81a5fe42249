import Foundation
import Datasets
import Pruning
import TicketTestSupport
import XCTest
@testable import Harness

/// The real `ticket sweep` stopped by SIGTERM (what Slurm sends on scancel,
/// preemption and before the time limit) inside runs, again and again, then
/// resumed, must give the tables of an uninterrupted sweep; and a round's
/// periodic in-round checkpoint must let a `kill -9` resume mid-round.
final class RealSweepStopTests: XCTestCase {
    /// Late rewinding (a capture to keep), the data-dependent criterion (Σ|∂L/∂w| to keep)
    /// and an early one-shot run (pruned mid-run): every piece of in-round state.
    private let manifest = """
    {"models": ["lenet-300-100"], "datasets": ["mnist"],
     "criteria": [{"name": "magnitude"}, {"name": "data-dependent"}],
     "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 2, "rewindIteration": 5},
                   {"kind": "early-one-shot", "denseEpochs": 1, "densities": [0.25]}],
     "seeds": [1],
     "training": {"optimizer": "sgd", "learningRate": 0.05, "momentum": 0.9, "batchSize": 60,
                  "epochsPerRound": 2, "trainExamples": 12000}}
    """

    /// The runs as the CLI expands them: their hashes include the vendored MNIST's fingerprint.
    private func expandedRuns() throws -> [RunConfig] {
        let plan = try SweepManifest.parse(Data(manifest.utf8))
        var data = try SweepData.load(for: plan, file: "m.json",
                                      locator: DataLocator(roots: [repositoryRoot + "/datasets"]))
        return plan.expand(data: try data.fingerprints(for: plan))
    }

    private func inRoundState(_ run: URL) -> InRoundCheckpoint? {
        let file = run.appendingPathComponent("in-round.ckpt")
        return (try? Data(contentsOf: file)).flatMap { try? InRoundCheckpoint(decoding: $0, source: file.path) }
    }

    private func assertSameTables(_ clean: URL, _ other: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        for table in ["summary.csv", "layers.csv", "overlap.csv"] {
            XCTAssertEqual(try Data(contentsOf: clean.appendingPathComponent(table)),
                           try Data(contentsOf: other.appendingPathComponent(table)), "\(table) differs", file: file, line: line)
        }
        XCTAssertEqual(try runsTableWithoutWallTime(clean), try runsTableWithoutWallTime(other), file: file, line: line)
    }

    func testSIGTERMInsideEveryRunThenResumeGivesTheUninterruptedTables() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifestURL = dir.appendingPathComponent("m.json")
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        let clean = dir.appendingPathComponent("clean"), stopped = dir.appendingPathComponent("stopped")
        let reference = try startTicketSweep(manifestURL, into: clean, extra: ["--checkpoint-minutes", "0"])
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        // For each run in order: start the sweep, SIGTERM it while that run trains (a few
        // hundred ms in, at offsets that vary, so stops fall mid-epoch and elsewhere).
        let runs = try expandedRuns()
        var positions: [String] = []
        var midEpoch = 0, oneShotStopped = false, dataDependentStopped = false
        // Up to four attempts per run (a stop can land after a short run ended); complete runs are skipped.
        for (index, config) in Array(repeating: runs, count: 4).joined().enumerated() {
            let run = RunDirectory(output: stopped, config: config)
            guard !run.isComplete(for: config) else { continue }
            // Every run trains its own dense prefix here, on the dense path, so each lasts long
            // enough to be stopped inside (a shared prefix, or the sparse path at low densities,
            // can finish a run before the signal); the tables must still equal the reference
            // sweep, which shares the prefixes and runs `auto`.
            let process = try startTicketSweep(manifestURL, into: stopped,
                                               extra: ["--checkpoint-minutes", "0", "--no-share-dense-prefixes",
                                                       "--execution", "dense"])
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: run.config.path) { usleep(2_000) }
            // A one-shot run lasts a few hundred ms here (sparse rounds and the
            // AVX-512 GEMM made them 2-3x shorter), so the offsets are short.
            usleep(UInt32(20_000 + 50_000 * (index % 4)))
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit)
            let allDone = runs.allSatisfy { RunDirectory(output: stopped, config: $0).isComplete(for: $0) }
            XCTAssertEqual(process.terminationStatus, allDone ? 0 : 3, "status 3: stopped with its state saved")
            guard let state = inRoundState(run.url) else { continue }
            XCTAssertFalse(run.isComplete(for: config))
            positions.append("round \(state.header.round) epoch \(state.trainer.header.epoch) step \(state.trainer.header.stepInEpoch)")
            if state.trainer.header.stepInEpoch > 0 { midEpoch += 1 }
            if config.schedule.kind == "early-one-shot" { oneShotStopped = true }
            if config.criterionLabel == "data-dependent" { dataDependentStopped = true }
        }
        XCTAssertGreaterThanOrEqual(midEpoch, 1, "stopped mid-epoch at least once: \(positions)")
        XCTAssertTrue(oneShotStopped && dataDependentStopped, "stopped inside a one-shot and a data-dependent run: \(positions)")
        print("stopped at: \(positions)")

        let rerun = try startTicketSweep(manifestURL, into: stopped)
        rerun.waitUntilExit()
        XCTAssertEqual(rerun.terminationStatus, 0)
        try assertSameTables(clean, stopped)
        for config in runs {
            XCTAssertNil(inRoundState(RunDirectory(output: stopped, config: config).url), "stale in-round state removed")
        }
    }

    func testPeriodicInRoundCheckpointThenKillDashNineResumesToTheSameTables() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifestURL = dir.appendingPathComponent("m.json")
        try manifest.write(to: manifestURL, atomically: true, encoding: .utf8)
        let clean = dir.appendingPathComponent("clean"), killed = dir.appendingPathComponent("killed")
        let reference = try startTicketSweep(manifestURL, into: clean)
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        // Every 60 ms; kill -9 once a run has an in-round checkpoint past its first epoch's start.
        let victim = try startTicketSweep(manifestURL, into: killed, extra: ["--checkpoint-minutes", "0.001"])
        let runs = try expandedRuns().map { RunDirectory(output: killed, config: $0).url }
        let wasKilled = killDashNine(victim) {
            runs.lazy.compactMap(self.inRoundState).contains { $0.trainer.header.globalStep > 0 }
        }
        XCTAssertTrue(wasKilled, "no in-round checkpoint was written before the sweep ended")

        let rerun = try startTicketSweep(manifestURL, into: killed)
        rerun.waitUntilExit()
        XCTAssertEqual(rerun.terminationStatus, 0)
        try assertSameTables(clean, killed)
    }
}
