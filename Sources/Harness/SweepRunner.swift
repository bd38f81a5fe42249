import Foundation
import Reports

/// Why a sweep stopped.
public enum SweepError: Error, CustomStringConvertible, Sendable {
    /// The executor returned rounds that do not match the schedule.
    case badOutcome(run: String, reason: String)
    /// The executor failed; `underlying` is its error.
    case runFailed(run: String, directory: String, underlying: String)
    /// Some runs failed (each error in its run's `failed.txt`); the others ran and the tables were written.
    case runsFailed(count: Int, first: String)
    /// A stop was requested (SIGTERM, SIGINT): the current run saved its
    /// state and released its claim; a rerun resumes it.
    case interrupted(run: String?)

    public var description: String {
        switch self {
        case let .badOutcome(run, reason): return "run \(run): executor returned a bad outcome: \(reason)"
        case let .runFailed(run, directory, underlying):
            return "\(directory): run \(run) failed: \(underlying) (rerun the sweep to resume it)"
        case let .runsFailed(count, first):
            return "\(count) run(s) failed; the others are in the tables (each error is in its run's failed.txt; "
                + "rerun the sweep to retry them). First: \(first)"
        case let .interrupted(run):
            return "stopped by a signal\(run.map { " during run \($0), which saved its state" } ?? " between runs"); "
                + "rerun (or resubmit) to resume"
        }
    }
}

/// An executor throws this when `shouldStop` asked it to stop and it saved
/// everything needed to resume exactly.
public struct RunInterrupted: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "interrupted (state saved)" }
}

/// Runs a sweep into an output directory that any number of sweep processes
/// of the same manifest may share: joins the directory (`DirectoryLock`),
/// claims each run before executing it (`RunClaim`), skips runs that are
/// complete or claimed elsewhere, records a failing run in its `failed.txt`
/// and goes on, and rebuilds the tables from all complete run directories
/// under the table lock.
///
/// ```swift
/// let runs = try SweepManifest.load(from: manifestURL).expand()
/// let runner = SweepRunner(runs: runs, output: dir, gitCommit: commit, executor: trainer)
/// let result = try runner.run()
/// ```
public struct SweepRunner {
    public var runs: [RunConfig]
    public var output: URL
    public var shard: Shard
    /// Pull runs until none is left to take (`--worker`): after each run the
    /// list is scanned again, so a run released by a stopped process is
    /// picked up. Otherwise the shard's slice is passed over once.
    public var worker: Bool
    /// The manifest's name, for `plan.json`.
    public var planName: String
    /// Recorded in every row (`git_commit`).
    public var gitCommit: String
    public var executor: RunExecutor
    /// Polled between runs; the executor gets its own copy to poll within a run.
    public var shouldStop: () -> Bool
    /// Receives warnings (e.g. a stale lock taken over) and notes.
    public var log: (String) -> Void
    /// Builds the progress display for (total runs, epochs to execute);
    /// `nil` for none.
    public var makeReporter: ((Int, Int) -> ProgressReporter)?

    public init(runs: [RunConfig], output: URL, shard: Shard = .whole, worker: Bool = false, planName: String = "sweep",
                gitCommit: String, executor: RunExecutor, shouldStop: @escaping () -> Bool = { false },
                log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
                makeReporter: ((Int, Int) -> ProgressReporter)? = { ProgressReporter(totalRuns: $0, plannedEpochs: $1) }) {
        self.runs = runs
        self.output = output
        self.shard = shard
        self.worker = worker
        self.planName = planName
        self.gitCommit = gitCommit
        self.executor = executor
        self.shouldStop = shouldStop
        self.log = log
        self.makeReporter = makeReporter
    }

    /// What a sweep did.
    public struct Result: Sendable {
        public var executed: Int
        public var skipped: Int
        /// Runs left to other live processes that held them.
        public var heldElsewhere: Int
        public var tables: SweepTables
    }

    /// Runs the shard (or, as a worker, every run it can take). A run that
    /// fails (its executor throws) is recorded in its directory's
    /// `failed.txt` and the sweep goes on with the next; the tables are
    /// rebuilt from every complete run, and then `SweepError.runsFailed` is
    /// thrown so the command exits non-zero. Rerunning retries the failed
    /// runs (and resumes interrupted ones). On a stop request the current
    /// run saves its state, its claim is released and
    /// `SweepError.interrupted` is thrown without rebuilding the tables.
    public func run() throws -> Result {
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: output.appendingPathComponent("runs"), withIntermediateDirectories: true)
        } catch {
            throw FileError(output.path, "cannot create output directory: \(error.localizedDescription)")
        }
        let role = worker ? "worker" : shard.count == 1 ? "sweep" : "shard \(shard)"
        let lock = try DirectoryLock.join(output, plan: SweepPlan(name: planName, runs: runs), role: role)
        defer { lock.release() }
        for warning in lock.warnings { log("warning: \(warning)") }

        let started = Date()
        let mine = worker ? runs : shard.slice(runs)
        let pending = mine.filter { !RunDirectory(output: output, config: $0).isComplete(for: $0) }
        let reporter = makeReporter?(mine.count, pending.reduce(0) { $0 + $1.plannedEpochs })
        var executed = 0, skipped = 0
        var attempted = Set<String>(), held = Set<String>()
        var failures: [String] = []
        var pass = mine[...]
        while let config = pass.popFirst() {
            if shouldStop() { throw SweepError.interrupted(run: nil) }
            let directory = RunDirectory(output: output, config: config)
            guard !attempted.contains(config.hash) else { continue }
            guard !directory.isComplete(for: config) else {
                if held.remove(config.hash) == nil { reporter?.skipped(config); skipped += 1 }
                attempted.insert(config.hash)
                continue
            }
            // A failure recorded before this process started is retried (it
            // may have been transient); one recorded since, by another
            // worker, is not retried by every worker in turn.
            if let failedAt = directory.failureDate, failedAt > started {
                attempted.insert(config.hash)
                continue
            }
            try fileManager.createDirectory(at: directory.masks, withIntermediateDirectories: true)
            guard let claim = try RunClaim.take(directory) else {
                held.insert(config.hash)
                continue
            }
            defer { claim.release() }
            attempted.insert(config.hash)
            held.remove(config.hash)
            // Another process may have finished it between the check and the claim.
            guard !directory.isComplete(for: config) else { reporter?.skipped(config); skipped += 1; continue }
            reporter?.started(config)
            do {
                try execute(config, in: directory, claim: claim, reporter: reporter)
                try? fileManager.removeItem(at: directory.failure)
                executed += 1
            } catch is RunInterrupted {
                throw SweepError.interrupted(run: config.hash)
            } catch {
                // Recorded, and the rest of the sweep still runs.
                let failure = error as? SweepError
                    ?? .runFailed(run: config.hash, directory: directory.url.path, underlying: "\(error)")
                let message = "\(failure)"
                try? AtomicFile.write(message + "\n", to: directory.failure)
                log("error: \(message)")
                failures.append(message)
            }
            reporter?.finished(config, plannedEpochs: config.plannedEpochs)
            // After a run, a worker looks again at the runs it passed: one
            // held then may have been released by a stopped process.
            if worker && pass.isEmpty { pass = mine.filter { !attempted.contains($0.hash) }[...] }
        }
        reporter?.finish()
        let tables = try DirectoryLock.withTableLock(output) { () throws -> SweepTables in
            let tables = try SweepTables.collect(from: [output])
            try tables.write(to: output)
            return tables
        }
        if tables.incompleteRuns > 0 {
            log("note: \(tables.incompleteRuns) incomplete run(s) in \(output.path) are not in the tables yet")
        }
        if !held.isEmpty { log("note: \(held.count) run(s) left to the live processes that hold them") }
        if let first = failures.first { throw SweepError.runsFailed(count: failures.count, first: first) }
        return Result(executed: executed, skipped: skipped, heldElsewhere: held.count, tables: tables)
    }

    private func execute(_ config: RunConfig, in directory: RunDirectory, claim: RunClaim,
                         reporter: ProgressReporter?) throws {
        try AtomicFile.write(config.canonical.serialized() + "\n", to: directory.config)
        let outcome: RunOutcome
        var round = -1
        do {
            outcome = try executor.execute(config, in: directory.url) { progress in
                if progress.round != round {
                    round = progress.round
                    claim.update(round: round)
                }
                reporter?.update(progress)
            }
        } catch let interrupted as RunInterrupted {
            throw interrupted
        } catch {
            throw SweepError.runFailed(run: config.hash, directory: directory.url.path, underlying: "\(error)")
        }
        let expected = Array(config.schedule.reportedRounds)
        let reported = outcome.rounds.map(\.round)
        // A run whose loss diverged stops there: a prefix ending in a diverged round is complete.
        let stoppedByDivergence = !reported.isEmpty && reported.count < expected.count
            && Array(expected.prefix(reported.count)) == reported && outcome.rounds.last!.status == .diverged
        guard reported == expected || stoppedByDivergence else {
            throw SweepError.badOutcome(run: config.hash, reason:
                "rounds \(reported) but the \(config.schedule.name) schedule reports \(expected)"
                + " (fewer only when the last one diverged)")
        }
        var rows: [RunRow] = [], layers: [LayerRow] = []
        let setupHash = config.setupHash, criterionHash = config.criterionHash
        for result in outcome.rounds {
            // A diverged round has no accuracy, whatever the executor says.
            let diverged = result.status == .diverged
            rows.append(RunRow(
                model: config.model, dataset: config.dataset, criterion: config.criterionLabel,
                schedule: config.scheduleLabel, seed: config.seeds.run, round: result.round,
                densityRequested: config.requestedDensity(afterRound: result.round),
                densityAchieved: result.densityAchieved,
                testAccuracyFinal: diverged ? nil : result.testAccuracyFinal,
                testAccuracyBest: diverged ? nil : result.testAccuracyBest,
                testLoss: diverged ? nil : result.testLoss, trainLoss: diverged ? nil : result.trainLoss,
                epochs: result.epochs, wallSeconds: result.wallSeconds, status: result.status,
                divergence: result.divergence, nanScores: result.nanScores,
                configHash: config.hash, setupHash: setupHash, criterionHash: criterionHash, gitCommit: gitCommit,
                trainExamples: outcome.trainExamples, dataNote: outcome.dataNote))
            for layer in result.layers {
                guard layer.remaining >= 0 && layer.remaining <= layer.weights else {
                    throw SweepError.badOutcome(run: config.hash, reason:
                        "layer \(layer.name) keeps \(layer.remaining) of \(layer.weights) weights")
                }
                layers.append(LayerRow(
                    model: config.model, dataset: config.dataset, criterion: config.criterionLabel,
                    schedule: config.scheduleLabel, seed: config.seeds.run, round: result.round, layer: layer.name,
                    weights: layer.weights, remaining: layer.remaining, densityRequested: layer.requestedDensity,
                    configHash: config.hash))
            }
            if let mask = result.mask {
                try AtomicFile.write(mask.encoded(), to: directory.mask(round: result.round))
            }
        }
        try AtomicFile.write(CSV.document(rows), to: directory.rows)
        try AtomicFile.write(CSV.document(layers), to: directory.layers)
        // Last: only now does the run count as complete.
        try AtomicFile.write(RunDirectory.marker(for: config), to: directory.done)
    }
}

/// The top-level directory whose changes do not make a tree dirty: it holds
/// the sweeps' outputs (`results/default/` is committed and regenerated by
/// `make bench`), and outputs are not inputs.
public let outputDirectoryName = "results"

/// The current commit of the repository at `directory` (`git rev-parse
/// HEAD`, with `-dirty` when tracked files outside the top-level
/// `results/` are modified), or `"unknown"`.
public func currentGitCommit(in directory: URL) -> String {
    func git(_ arguments: [String]) -> (status: Int32, output: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    guard let head = git(["rev-parse", "HEAD"]), head.status == 0, !head.output.isEmpty else { return "unknown" }
    // `top` anchors the pattern at the repository root whatever `directory` is inside it.
    let outsideOutputs = ":(top,exclude)\(outputDirectoryName)/"
    let dirty = git(["status", "--porcelain", "--untracked-files=no", "--", outsideOutputs]).map { !$0.output.isEmpty } ?? false
    return head.output + (dirty ? "-dirty" : "")
}
