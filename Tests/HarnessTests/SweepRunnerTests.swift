import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// Produces deterministic results from the config alone, keeps a checkpoint
/// after each round like a real trainer, and can be told to fail in the
/// middle of chosen runs (after a checkpoint), as an interruption would.
final class FakeExecutor: RunExecutor {
    var failOnce: Set<String> = []
    private(set) var calls: [String] = []
    private(set) var resumed: [String] = []
    var wrongRounds = false
    /// Runs whose round 1 diverges (and that stop there).
    var diverge: Set<String> = []

    func execute(_ config: RunConfig, in directory: URL, progress: (RunProgress) -> Void) throws -> RunOutcome {
        calls.append(config.hash)
        let checkpoint = directory.appendingPathComponent("checkpoint.txt")
        let hadCheckpoint = FileManager.default.fileExists(atPath: checkpoint.path)
        if hadCheckpoint { resumed.append(config.hash) }
        var rounds: [RoundOutcome] = []
        var epochsDone = 0
        for round in config.schedule.reportedRounds {
            for epoch in 1...config.experiment.training.epochs {
                epochsDone += 1
                progress(RunProgress(round: round, epoch: epoch, epochsDone: epochsDone))
            }
            try AtomicFile.write("round \(round)\n", to: checkpoint)
            if failOnce.contains(config.hash) && !hadCheckpoint {
                failOnce.remove(config.hash)
                throw FileError(checkpoint.path, "simulated interruption")
            }
            rounds.append(result(config, round: round))
            if diverge.contains(config.hash) && round == 1 {
                rounds[rounds.count - 1].status = .diverged
                rounds[rounds.count - 1].testAccuracyFinal = nil
                break
            }
        }
        if wrongRounds { rounds.removeLast() }
        return RunOutcome(rounds: rounds)
    }

    private func result(_ config: RunConfig, round: Int) -> RoundOutcome {
        let density = config.requestedDensity(afterRound: round)
        let criterionBonus = Double(config.criterionLabel.utf8.reduce(0) { $0 + Int($1) } % 7) * 0.002
        let seedNoise = Double(config.seeds.initialization % 100) * 0.0001
        let accuracy = 0.95 - 0.02 * log2(1 / density) + criterionBonus + seedNoise
        var rng = SplitMix(state: config.seeds.initialization ^ UInt64(config.criterionLabel.count))
        let sizes = [("fc1", 300), ("fc2", 100)]
        let kept = sizes.map { _, n in (0..<n).map { _ in Double(rng.next() % 1_000_000) / 1_000_000 < density } }
        let mask = MaskSet(names: sizes.map(\.0), kept: kept)
        let layers = zip(sizes, kept).map { LayerCount(name: $0.0, weights: $0.1, remaining: $1.filter { $0 }.count) }
        return RoundOutcome(round: round, testAccuracyFinal: accuracy, testAccuracyBest: accuracy + 0.003,
                           testLoss: 1 - accuracy, trainLoss: 0.5 - accuracy / 2, epochs: config.experiment.training.epochs,
                           wallSeconds: Double(calls.count) * 0.25, status: density < 0.1 ? .collapsed : .ok,
                           nanScores: round, layers: layers, mask: round == 0 ? nil : mask)
    }
}

/// runs.csv (header included) without the wall-time column, which may differ between executions.
func runsTableWithoutWallTime(_ directory: URL) throws -> [[String]] {
    let table = try CSVTable.read(directory.appendingPathComponent("runs.csv"))
    let keep = table.header.indices.filter { !RunRow.wallTimeColumns.contains(table.header[$0]) }
    return ([table.header] + table.records.map(\.fields)).map { fields in keep.map { fields[$0] } }
}

let runnerManifest = """
{
  "models": ["lenet-300-100"], "datasets": ["mnist"],
  "criteria": [{"name": "magnitude"}, {"name": "data-dependent"}, {"name": "random"}],
  "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 2},
                {"kind": "early-one-shot", "denseEpochs": 1, "densities": [0.5, 0.0625]}],
  "seeds": [1, 2, 3],
  "training": {"optimizer": "sgd", "learningRate": 0.1, "batchSize": 60, "epochsPerRound": 2}
}
"""

final class SweepRunnerTests: XCTestCase {
    var directories: [URL] = []

    override func tearDown() {
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
    }

    func newDirectory(_ name: String = #function) throws -> URL {
        let url = try makeTemporaryDirectory(name)
        directories.append(url)
        return url
    }

    func runs() throws -> [RunConfig] {
        try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
    }

    func sweep(_ output: URL, _ executor: FakeExecutor, shard: Shard = .whole) throws -> SweepRunner.Result {
        try SweepRunner(runs: runs(), output: output, shard: shard, gitCommit: "abc123", executor: executor,
                        log: { _ in }, makeReporter: nil).run()
    }

    func text(_ directory: URL, _ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    func runsWithoutWallTime(_ directory: URL) throws -> [[String]] { try runsTableWithoutWallTime(directory) }

    func testSweepWritesStrictTablesAndARerunSkipsEveryRun() throws {
        let output = try newDirectory()
        let executor = FakeExecutor()
        let first = try sweep(output, executor)
        XCTAssertEqual(first.executed, 3 * 3 * 3)
        XCTAssertEqual(first.skipped, 0)
        // The executor's count of NaN scores reaches runs.csv (it used to stay inside Pruning).
        let written = try CSVTable.read(output.appendingPathComponent("runs.csv")).rows(RunRow.self)
        XCTAssertEqual(written.map(\.nanScores), written.map(\.round))
        XCTAssertTrue(try text(output, "runs.csv").hasPrefix(RunRow.columns.joined(separator: ",")))
        XCTAssertTrue(RunRow.columns.contains("nan_scores"))
        // Iterative runs report rounds 0...2, one-shot runs round 1.
        XCTAssertEqual(first.tables.runs.count, 9 * 3 + 18 * 1)
        let table = try CSVTable.read(output.appendingPathComponent("runs.csv"))
        XCTAssertEqual(try table.rows(RunRow.self), first.tables.runs)
        XCTAssertEqual(try CSVTable.read(output.appendingPathComponent("layers.csv")).rows(LayerRow.self).count, 45 * 2)
        let summary = try CSVTable.read(output.appendingPathComponent("summary.csv")).rows(SummaryRow.self)
        XCTAssertEqual(summary.count, 3 * 3 + 3 * 2, "iterative 3 densities, one-shot 2, per criterion")
        XCTAssertTrue(summary.allSatisfy { $0.n == 3 })
        XCTAssertNotNil(summary.first { $0.criterion == "random" }?.diffVsMagnitude)
        let overlap = try CSVTable.read(output.appendingPathComponent("overlap.csv")).rows(OverlapRow.self)
        XCTAssertEqual(overlap.count, (2 + 2) * 3 * 3, "(2 pruned iterative rounds + 2 one-shot densities) × 3 seeds × 3 pairs")
        XCTAssertTrue(try text(output, "accuracy.svg").hasPrefix("<svg"))
        XCTAssertEqual(first.tables.runs.map(\.gitCommit), Array(repeating: "abc123", count: 45))

        let before = try ["runs.csv", "summary.csv", "layers.csv", "overlap.csv"].map { try text(output, $0) }
        let second = try sweep(output, executor)
        XCTAssertEqual(second.executed, 0)
        XCTAssertEqual(second.skipped, 27)
        XCTAssertEqual(executor.calls.count, 27, "no run executed twice")
        XCTAssertEqual(try ["runs.csv", "summary.csv", "layers.csv", "overlap.csv"].map { try text(output, $0) }, before)
    }

    func testInterruptedRunIsResumedAndTablesMatchAnUninterruptedSweep() throws {
        let clean = try newDirectory("clean"), interrupted = try newDirectory("interrupted")
        _ = try sweep(clean, FakeExecutor())

        let executor = FakeExecutor()
        let victim = try runs()[4]
        executor.failOnce = [victim.hash]
        XCTAssertThrowsError(try sweep(interrupted, executor)) { error in
            XCTAssertTrue("\(error)".hasPrefix("1 run(s) failed"), "\(error)")
            XCTAssertTrue("\(error)".contains("run \(victim.hash) failed: ") && "\(error)".contains("simulated interruption"), "\(error)")
        }
        let victimDirectory = RunDirectory(output: interrupted, config: victim)
        XCTAssertFalse(victimDirectory.isComplete(for: victim))
        XCTAssertTrue(FileManager.default.fileExists(atPath: victimDirectory.config.path))
        XCTAssertTrue(try String(contentsOf: victimDirectory.failure, encoding: .utf8).contains("simulated interruption"),
                      "the failure is recorded in the run's directory")
        XCTAssertEqual(executor.calls.count, 27, "a failing run does not block the rest of the sweep")
        let partial = try CSVTable.read(interrupted.appendingPathComponent("runs.csv")).rows(RunRow.self)
        XCTAssertFalse(partial.contains { $0.configHash == victim.hash }, "the tables hold the other runs only")

        let result = try sweep(interrupted, executor)
        XCTAssertEqual(result.skipped, 26, "the runs that completed are kept")
        XCTAssertEqual(result.executed, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: victimDirectory.failure.path), "a success clears the failure")
        XCTAssertEqual(executor.resumed, [victim.hash], "the failed run resumes from its checkpoint")
        XCTAssertEqual(try runsWithoutWallTime(interrupted), try runsWithoutWallTime(clean))
        XCTAssertNotEqual(try text(interrupted, "runs.csv"), try text(clean, "runs.csv"), "wall times differ here")
        for file in ["summary.csv", "layers.csv", "overlap.csv", "accuracy.svg"] {
            XCTAssertEqual(try text(interrupted, file), try text(clean, file), file)
        }
    }

    func testReportRebuildsTheSameTablesFromRunDirectories() throws {
        let output = try newDirectory()
        _ = try sweep(output, FakeExecutor())
        let files = ["runs.csv", "summary.csv", "layers.csv", "overlap.csv", "accuracy.svg"]
        let written = try files.map { try text(output, $0) }
        for file in files { try FileManager.default.removeItem(at: output.appendingPathComponent(file)) }
        try SweepTables.collect(from: [output]).write(to: output)
        XCTAssertEqual(try files.map { try text(output, $0) }, written)
    }

    func testShardsIntoOneOrSeveralDirectoriesEqualTheWholeSweep() throws {
        let whole = try newDirectory("whole"), shared = try newDirectory("shared")
        let a = try newDirectory("a"), b = try newDirectory("b")
        _ = try sweep(whole, FakeExecutor())
        let one = try sweep(shared, FakeExecutor(), shard: Shard(index: 1, count: 2))
        let two = try sweep(shared, FakeExecutor(), shard: Shard(index: 2, count: 2))
        XCTAssertEqual(one.executed + two.executed, 27)
        XCTAssertEqual(try runsWithoutWallTime(shared), try runsWithoutWallTime(whole))
        XCTAssertEqual(try text(shared, "summary.csv"), try text(whole, "summary.csv"))

        _ = try sweep(a, FakeExecutor(), shard: Shard(index: 1, count: 2))
        _ = try sweep(b, FakeExecutor(), shard: Shard(index: 2, count: 2))
        let merged = try SweepTables.collect(from: [b, a])
        let wholeTables = try SweepTables.collect(from: [whole])
        XCTAssertEqual(merged.summary, wholeTables.summary)
        XCTAssertEqual(merged.overlap, wholeTables.overlap)
        XCTAssertEqual(merged.runs.map(\.configHash), wholeTables.runs.map(\.configHash))
    }

    func testAnOutcomeWithWrongRoundsIsRejectedAndNotMarkedDone() throws {
        let output = try newDirectory()
        let executor = FakeExecutor()
        executor.wrongRounds = true
        XCTAssertThrowsError(try sweep(output, executor)) { error in
            XCTAssertTrue("\(error)".contains("rounds [0, 1] but the iterative schedule reports [0, 1, 2]"), "\(error)")
        }
        let first = try runs()[0]
        XCTAssertFalse(RunDirectory(output: output, config: first).isComplete(for: first))
    }

    func testARunStoppedByDivergenceIsCompleteAndCounted() throws {
        let output = try newDirectory()
        let executor = FakeExecutor()
        let victim = try runs()[0]
        executor.diverge = [victim.hash]
        let result = try sweep(output, executor)
        XCTAssertEqual(result.executed, 27)
        XCTAssertEqual(result.tables.runs.filter { $0.configHash == victim.hash }.map(\.status), [.ok, .diverged])
        let row = try XCTUnwrap(result.tables.summary.first {
            $0.criterion == victim.criterionLabel && $0.schedule == "iterative" && $0.density == "0.5"
        })
        XCTAssertEqual(row.diverged, 1)
        XCTAssertEqual(row.n, 2, "the diverged run has no final accuracy")
    }

    func testStatusCountsDoneDivergedRunningFailedAndPendingRuns() throws {
        let output = try newDirectory()
        let all = try runs()
        let executor = FakeExecutor()
        executor.diverge = [all[0].hash]
        executor.failOnce = [all[3].hash]
        XCTAssertThrowsError(try sweep(output, executor, shard: Shard(index: 1, count: 3)))
        let claimed = RunDirectory(output: output, config: all[1])
        try FileManager.default.createDirectory(at: claimed.url, withIntermediateDirectories: true)
        let claim = try XCTUnwrap(try RunClaim.take(claimed))
        claim.update(round: 2)
        defer { claim.release() }

        let status = try SweepStatus.read(output)
        XCTAssertEqual(status.runs.map(\.hash), all.map(\.hash), "the plan's runs, in order")
        XCTAssertEqual(status.runs[0].state, .done(diverged: true))
        XCTAssertEqual(status.count { $0 == .done(diverged: false) }, 7)
        guard case .running(let holder) = status.runs[1].state else { return XCTFail("\(status.runs[1].state)") }
        XCTAssertEqual(holder.pid, getpid())
        XCTAssertEqual(holder.role, "round 2")
        guard case .failed(let error) = status.runs[3].state else { return XCTFail("\(status.runs[3].state)") }
        XCTAssertTrue(error.contains("simulated interruption"), error)
        XCTAssertEqual(status.count { $0 == .pending }, 27 - 9 - 1)
        XCTAssertEqual(status.epochsLeft, all.enumerated().filter { $0.offset % 3 != 0 || $0.offset == 3 }
            .reduce(0) { $0 + $1.element.plannedEpochs })
        let measured = try XCTUnwrap(status.secondsPerEpoch)
        XCTAssertEqual(status.estimatedSecondsLeft ?? -1, measured * Double(status.epochsLeft), accuracy: 1e-9)
    }

    func testASweepOfAnotherManifestIsRefusedWhileAWorkerLives() throws {
        let output = try newDirectory()
        let others = Array(try runs().prefix(3))
        let lock = try DirectoryLock.join(output, plan: SweepPlan(name: "other", runs: others), role: "worker")
        defer { lock.release() }
        let executor = FakeExecutor()
        XCTAssertThrowsError(try sweep(output, executor)) { error in
            guard case .otherManifest(_, let holder)? = error as? DirectoryLockError else { return XCTFail("\(error)") }
            XCTAssertTrue(holder.hasPrefix("pid \(getpid()) on host "), holder)
        }
        XCTAssertEqual(executor.calls, [])
    }

    func testARunClaimedByAnotherProcessIsLeftToIt() throws {
        let output = try newDirectory()
        let victim = try runs()[2]
        let directory = RunDirectory(output: output, config: victim)
        try FileManager.default.createDirectory(at: directory.url, withIntermediateDirectories: true)
        let claim = try XCTUnwrap(try RunClaim.take(directory))
        XCTAssertNil(try RunClaim.take(directory), "a claimed run cannot be claimed twice")
        let executor = FakeExecutor()
        let result = try sweep(output, executor)
        XCTAssertEqual(result.executed, 26)
        XCTAssertEqual(result.heldElsewhere, 1)
        XCTAssertFalse(executor.calls.contains(victim.hash))
        claim.release()
        XCTAssertNotNil(try RunClaim.take(directory), "free once released")
    }
}

final class ProgressReporterTests: XCTestCase {
    func testPlainLinesWithETAFromMeasuredSpeed() throws {
        var lines: [String] = []
        var now = 100.0
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        let reporter = ProgressReporter(totalRuns: 3, plannedEpochs: 6 + 6 + 6, interactive: false,
                                        output: { lines.append($0) }, clock: { now })
        reporter.skipped(runs[0])
        reporter.started(runs[1])
        now += 10
        reporter.update(RunProgress(round: 0, epoch: 1, epochsDone: 1))
        reporter.update(RunProgress(round: 0, epoch: 2, epochsDone: 2))
        now += 10
        reporter.update(RunProgress(round: 1, epoch: 1, epochsDone: 3))
        XCTAssertEqual(lines.count, 4, "\(lines)")
        XCTAssertTrue(lines[0].hasPrefix("[1/3] lenet-300-100/mnist magnitude iterative seed 1: already done, skipped"))
        XCTAssertTrue(lines[1].hasSuffix(": started\n"))
        // 3 epochs in 20 s; 15 planned epochs left -> 100 s.
        XCTAssertEqual(lines[3], "[2/3] lenet-300-100/mnist data-dependent iterative seed 1: round 1, ETA 1m40s\n")
    }

    func testInteractiveRedrawsOneLine() throws {
        var output = ""
        var now = 0.0
        let runs = try SweepManifest.parse(Data(runnerManifest.utf8)).expand()
        let reporter = ProgressReporter(totalRuns: 1, plannedEpochs: 6, interactive: true,
                                        output: { output += $0 }, clock: { now })
        reporter.started(runs[0])
        now = 1
        reporter.update(RunProgress(round: 0, epoch: 1, epochsDone: 1))
        now = 1.01
        reporter.update(RunProgress(round: 0, epoch: 2, epochsDone: 2))  // too soon: not drawn
        reporter.finished(runs[0], plannedEpochs: 6)
        reporter.finish()
        XCTAssertFalse(output.contains("epoch 2"))
        XCTAssertTrue(output.contains("\r\u{1B}[Kruns 0/1  lenet-300-100/mnist magnitude iterative seed 1  round 0 epoch 1  ETA 5s"), output)
        XCTAssertTrue(output.hasSuffix("\n"))
        XCTAssertEqual(output.filter { $0 == "\n" }.count, 1)
    }
}
