import ArgumentParser
import Datasets
import Foundation
import Harness
import Reports
import Networks
import Pruning

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every run of a sweep manifest (resumable) and write the comparison tables.",
        discussion: """
        Each run lives in OUT/runs/<hash>/; finished runs are skipped and an interrupted run resumes \
        from its checkpoint, so rerunning the same command after Ctrl-C, SIGTERM or kill -9 completes \
        the sweep with the same numbers. Writes OUT/runs.csv, summary.csv, layers.csv, overlap.csv, \
        tables.xlsx (the same tables as a workbook) and accuracy.svg, and prints the summary as a table.

        Any number of sweep processes of the same manifest may share OUT, on any hosts that share its \
        file system: each run is claimed with a lock while it trains, so no run executes twice (a run \
        held by another process is left to it); a sweep of another manifest is refused while they live. \
        --worker keeps taking runs until none is left; --shard I/N passes over its slice once.

        SIGTERM or SIGINT: the run in flight saves its state at the next training step (mid-epoch if need \
        be), releases its claim and the process exits with status 3; a rerun resumes it exactly. A round \
        also saves its state every --checkpoint-minutes, so kill -9 loses at most that much training. A \
        second signal ends the process at once.

        Exit status: 0 every run is done (or held by another live process); 1 error (bad manifest, \
        directory in use by another manifest, unwritable files); 2 some runs failed (each recorded in \
        OUT/runs/<hash>/failed.txt; the others went on); 3 stopped by SIGTERM/SIGINT with the state \
        saved (rerun or resubmit to resume).
        """
    )

    @Argument(help: "The sweep manifest (JSON).")
    var manifest: String

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Worker threads for the matrix kernels (results do not depend on it).")
    var threads: Int = 2

    @Option(help: "Products with pruned weights: auto, dense or sparse (same results, so not part of a run's hash).")
    var execution: Execution = .auto

    @Flag(inversion: .prefixedNo, help: "Train each dense prefix (iterative round 0, early one-shot's dense epochs) once and share it between the criteria and densities that start with it (same numbers; --no-share-dense-prefixes trains each, for benchmarks).")
    var shareDensePrefixes = true

    @Option(help: "Run only the I-th of N disjoint slices of the runs, e.g. 2/4.")
    var shard: String = "1/1"

    @Option(help: "Save the running round's state this often, in minutes (0: only on SIGTERM/SIGINT); a kill -9 loses at most that.")
    var checkpointMinutes: Double = 5

    @Flag(help: "Keep taking runs not done and not held by another process until none is left.")
    var worker = false

    @Option(help: "Directory with data sets besides datasets/ (default: TICKET_DATA).")
    var data: String?

    @Flag(help: "List the runs (hash, status, configuration) and exit without training.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            guard threads > 0 else { throw ValidationFailure("--threads must be positive") }
            guard checkpointMinutes >= 0, checkpointMinutes.isFinite else {
                throw ValidationFailure("--checkpoint-minutes must be 0 or more")
            }
            // First of all: a SIGTERM while the data loads must not kill the
            // process; the runner sees the request before its first run.
            if !dryRun { installStopHandlers() }
            let slice = try Shard(parsing: shard)
            guard !(worker && slice.count > 1) else { throw ValidationFailure("--worker takes every run; drop --shard") }
            let manifestURL = URL(fileURLWithPath: manifest)
            let plan = try SweepManifest.load(from: manifestURL)
            let output = URL(fileURLWithPath: out)
            var locator = DataLocator.standard()
            if let data { locator.roots.append(data) }
            configureThreads(threads)
            Execution.processDefault = execution
            if dryRun {
                try listRuns(plan, slice: slice, output: output, locator: locator, threads: threads)
                return
            }
            // Fail before any training: every data set present, every model
            // fitting it, every run's experiment buildable.
            var sweepData = try SweepData.load(for: plan, file: manifest, locator: locator)
            for note in sweepData.notes { printError("warning: \(note)") }
            let runs = plan.expand(data: try sweepData.fingerprints(for: plan))
            for config in runs { _ = try config.experiment.validated() }
            let executor = PruningRunExecutor(data: sweepData, sharesDensePrefixes: shareDensePrefixes)
            executor.stopRequest = stopRequest
            executor.checkpointInterval = checkpointMinutes > 0 ? .milliseconds(Int64(checkpointMinutes * 60_000)) : nil
            let start = ContinuousClock.now
            let runner = SweepRunner(runs: runs, output: output, shard: slice, worker: worker, planName: plan.name ?? manifestURL.deletingPathExtension().lastPathComponent,
                                     gitCommit: currentGitCommit(in: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
                                     executor: executor, shouldStop: { stopRequest.isRequested })
            let result: SweepRunner.Result
            do {
                result = try runner.run()
            } catch let error as SweepError {
                printError("error: \(error)")
                switch error {
                case .interrupted: throw ExitCode(ExitStatus.interrupted)
                case .runsFailed: throw ExitCode(ExitStatus.runsFailed)
                default: throw ExitCode(ExitStatus.error)
                }
            }
            let seconds = (ContinuousClock.now - start).seconds
            let held = result.heldElsewhere > 0 ? ", \(result.heldElsewhere) held by other processes" : ""
            print("sweep: \(result.executed) runs executed, \(result.skipped) skipped\(held), "
                  + String(format: "%.1f s; tables in %@", seconds, output.path))
            print("")
            print(SummaryText.render(result.tables.summary), terminator: "")
        }
    }
}

/// Prints every run of the slice (hash, done or pending, configuration)
/// and an estimate of the pending work. A data set that is absent is said
/// so; its runs are listed as pending without a hash (the hash includes the
/// data's fingerprint).
private func listRuns(_ plan: SweepManifest, slice: Shard, output: URL, locator: DataLocator, threads: Int) throws {
    var fingerprints: [String: DataFingerprint] = [:]
    for name in plan.datasets {
        do {
            // The same fingerprint the sweep itself computes (SweepData).
            var data = SweepData(pairs: [name: try locator.load(named: name)])
            fingerprints[name] = try data.fingerprint(DataSpecification(
                dataset: name, trainExamples: plan.training.trainExamples, normalization: plan.training.normalization))
        } catch {
            print("note: data set \(name) is absent (\(error)); its runs are listed as pending")
        }
    }
    let mine = slice.slice(plan.expand(data: fingerprints))
    var pending: [RunConfig] = []
    for config in mine {
        let resolved = config.experiment.data.fingerprint != nil
        let done = resolved && RunDirectory(output: output, config: config).isComplete(for: config)
        if !done { pending.append(config) }
        print("\(resolved ? config.hash : "(no data)       ") \(done ? "done" : "pending") \(config.model) \(config.dataset) "
              + "\(config.criterionLabel) \(config.scheduleLabel) seed=\(config.seeds.run) epochs=\(config.plannedEpochs)")
    }
    let seconds = try estimatedSeconds(pending).reduce(0, +)
    print("\(pending.count) of \(mine.count) runs pending, \(pending.reduce(0) { $0 + $1.plannedEpochs }) epochs; "
          + "estimated \(formatDuration(seconds)) at \(threads) thread(s) (from a timed training step per model)")
}

/// Estimates the wall time of each of `runs` from a few timed training
/// steps per (model, data shape) on synthetic inputs: no data needs to be present.
func estimatedSeconds(_ runs: [RunConfig]) throws -> [Double] {
    var perExample: [String: Double] = [:]
    var seconds: [Double] = []
    for config in runs {
        let isCIFAR = config.dataset.hasPrefix("cifar")
        let shape = isCIFAR ? FeatureShape(channels: 3, height: 32, width: 32) : FeatureShape(channels: 1, height: 28, width: 28)
        let classes = config.dataset == "cifar-100" ? 100 : 10
        let batch = config.experiment.training.batchSize
        let key = "\(config.model)/\(shape)/\(batch)"
        if perExample[key] == nil {
            let network = try ModelRegistry.make(config.model, inputShape: shape, classCount: classes, seed: 1)
            let inputs = [Float](repeating: 0.5, count: batch * shape.count)
            let labels = [Int32](repeating: 1, count: batch)
            func step() {
                inputs.withUnsafeBufferPointer { x in
                    labels.withUnsafeBufferPointer { y in
                        _ = network.computeGradients(inputs: x.baseAddress!, labels: y.baseAddress!, count: batch)
                    }
                }
            }
            step()
            let start = ContinuousClock.now
            let steps = 3
            for _ in 0..<steps { step() }
            perExample[key] = (ContinuousClock.now - start).seconds / Double(steps * batch)
        }
        let trainExamples = Double(config.experiment.data.fingerprint?.train.count
                                   ?? config.experiment.data.trainExamples ?? (isCIFAR ? 50_000 : 60_000))
        // Evaluation of the 10,000 test examples each epoch: a forward pass, about a third of a training step.
        seconds.append(Double(config.plannedEpochs) * perExample[key]! * (trainExamples + 10_000.0 / 3))
    }
    return seconds
}

/// A duration for people: seconds, minutes, hours or days.
func formatDuration(_ seconds: Double) -> String {
    if seconds < 120 { return String(format: "%.0f s", seconds) }
    if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
    if seconds < 172_800 { return String(format: "%.1f h", seconds / 3600) }
    return String(format: "%.1f days", seconds / 86400)
}
