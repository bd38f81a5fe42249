import ArgumentParser
import Datasets
import Foundation
import Harness
import Networks

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run every run of a sweep manifest (resumable) and write the comparison tables.",
        discussion: """
        Each run lives in OUT/runs/<hash>/; finished runs are skipped and an interrupted run resumes \
        from its last round checkpoint, so rerunning the same command after Ctrl-C or kill -9 completes \
        the sweep with the same numbers. Writes OUT/runs.csv, summary.csv, layers.csv, overlap.csv and \
        accuracy.svg. A second sweep on the same OUT while one runs is refused.
        """
    )

    @Argument(help: "The sweep manifest (JSON).")
    var manifest: String

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Worker threads for the matrix kernels (results do not depend on it).")
    var threads: Int = 2

    @Option(help: "Run only the I-th of N disjoint slices of the runs, e.g. 2/4.")
    var shard: String = "1/1"

    @Option(help: "Directory with data sets besides datasets/ (default: TICKET_DATA).")
    var data: String?

    @Flag(help: "List the runs (hash, status, configuration) and exit without training.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            guard threads > 0 else { throw ValidationFailure("--threads must be positive") }
            let slice = try Shard(parsing: shard)
            let manifestURL = URL(fileURLWithPath: manifest)
            let runs = try SweepManifest.load(from: manifestURL).expand()
            let output = URL(fileURLWithPath: out)
            if dryRun {
                for config in slice.slice(runs) {
                    let done = RunDirectory(output: output, config: config).isComplete(for: config)
                    print("\(config.hash) \(done ? "done" : "pending") \(config.model) \(config.dataset) "
                          + "\(config.criterion.label) \(config.schedule.label) seed=\(config.seeds.run) epochs=\(config.plannedEpochs)")
                }
                return
            }
            configureThreads(threads)
            var locator = DataLocator.standard()
            if let data { locator.roots.append(data) }
            let executor = PruningRunExecutor(locator: locator, warn: printError)
            let start = ContinuousClock.now
            let runner = SweepRunner(runs: runs, output: output, shard: slice,
                                     gitCommit: currentGitCommit(in: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
                                     executor: executor)
            let result = try runner.run()
            let seconds = (ContinuousClock.now - start).seconds
            print("sweep: \(result.executed) runs executed, \(result.skipped) skipped, "
                  + String(format: "%.1f s; tables in %@", seconds, output.path))
        }
    }
}
