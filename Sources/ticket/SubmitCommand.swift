import ArgumentParser
import Foundation
import Datasets
import Harness

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a sweep on a Slurm cluster: an array of workers sharing OUT, then a report job.",
        discussion: """
            Writes OUT/slurm/worker.sbatch (an array of W tasks, each `ticket sweep MANIFEST --out OUT --worker \\
            --threads $SLURM_CPUS_PER_TASK`, with --requeue and --signal=B:TERM@120) and OUT/slurm/report.sbatch \\
            (--dependency=afterany on the array, `ticket report OUT`), submits both with `sbatch --parsable` and \\
            prints the job ids. OUT must be on a file system every node shares (see README, Running on a \\
            cluster). Submitting again resumes: finished runs are skipped, interrupted ones resume from their \\
            checkpoints. --dry-run prints the scripts and the estimate divided over the workers, and submits nothing.
            """
    )

    @Argument(help: "The sweep manifest (JSON).")
    var manifest: String

    @Option(help: "Output directory, on a file system shared by the nodes.")
    var out: String

    @Flag(help: "Submit to Slurm (the only scheduler supported).")
    var slurm = false

    @Option(help: "Array tasks, each a worker.")
    var workers: Int

    @Option(help: "CPUs per worker (its --threads).")
    var cpusPerTask = 2

    @Option(help: "Time limit per worker (sbatch --time), e.g. 1-00:00:00.")
    var time: String?

    @Option(help: "Partition (sbatch --partition).")
    var partition: String?

    @Option(help: "Account (sbatch --account).")
    var account: String?

    @Option(help: "Memory per worker (sbatch --mem), e.g. 4G.")
    var mem: String?

    @Option(help: "Another #SBATCH option for both jobs, e.g. --sbatch-arg=--qos=low (repeatable).")
    var sbatchArg: [String] = []

    @Option(help: "Directory with data sets besides datasets/, passed to the workers' --data.")
    var data: String?

    @Option(help: "The workers' --checkpoint-minutes (default: ticket sweep's, 5).")
    var checkpointMinutes: Double?

    @Flag(help: "Print the scripts and the estimate; submit nothing, write nothing.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            guard slurm else { throw ValidationFailure("give --slurm (the only scheduler supported)") }
            guard workers > 0, cpusPerTask > 0 else { throw ValidationFailure("--workers and --cpus-per-task must be positive") }
            if let checkpointMinutes, !(checkpointMinutes >= 0 && checkpointMinutes.isFinite) {
                throw ValidationFailure("--checkpoint-minutes must be 0 or more")
            }
            let manifestURL = URL(fileURLWithPath: manifest).standardizedFileURL
            let loaded = try SweepManifest.load(from: manifestURL)
            // Fail here, not in W jobs: every data set present, every run buildable (the run hashes
            // include the data's fingerprint, so the data is read once).
            var locator = DataLocator.standard()
            if let data { locator.roots.append(data) }
            var sweepData = try SweepData.load(for: loaded, file: manifest, locator: locator)
            let runs = loaded.expand(data: try sweepData.fingerprints(for: loaded))
            for config in runs { _ = try config.experiment.validated() }
            let output = URL(fileURLWithPath: out).standardizedFileURL
            let name = loaded.name ?? manifestURL.deletingPathExtension().lastPathComponent
            let scripts = SlurmScripts(
                ticket: try executablePath(), manifest: manifestURL.path, output: output.path,
                workingDirectory: FileManager.default.currentDirectoryPath, jobName: "ticket-\(name)",
                workers: workers, cpusPerTask: cpusPerTask, time: time, partition: partition, account: account,
                memory: mem, extraArguments: sbatchArg, dataDirectory: data.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                checkpointMinutes: checkpointMinutes)
            if dryRun {
                print("# \(scripts.scriptDirectory)/worker.sbatch\n\(scripts.worker)")
                print("# \(scripts.scriptDirectory)/report.sbatch\n\(scripts.report(afterWorkerJob: "<worker job id>"))")
                let pending = runs.filter { !RunDirectory(output: output, config: $0).isComplete(for: $0) }
                configureThreads(cpusPerTask)
                let seconds = try estimatedSeconds(pending)
                let total = seconds.reduce(0, +)
                // The longest run bounds a worker: runs are not split.
                let perWorker = max(total / Double(workers), seconds.max() ?? 0)
                print("\(pending.count) of \(runs.count) runs pending, estimated \(formatDuration(total)) on one worker "
                      + "of \(cpusPerTask) thread(s); about \(formatDuration(perWorker)) over \(workers) workers "
                      + "(from a timed training step per model on this machine)")
                return
            }
            let directory = URL(fileURLWithPath: scripts.scriptDirectory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let workerScript = directory.appendingPathComponent("worker.sbatch")
            try AtomicFile.write(scripts.worker, to: workerScript)
            let workerJob = try sbatch(workerScript)
            let reportScript = directory.appendingPathComponent("report.sbatch")
            try AtomicFile.write(scripts.report(afterWorkerJob: workerJob), to: reportScript)
            let reportJob = try sbatch(reportScript)
            print("worker job: \(workerJob) (array 1-\(workers))")
            print("report job: \(reportJob) (after every worker ended)")
            print("watch: squeue -j \(workerJob),\(reportJob); ticket status \(output.path); logs in \(directory.path)/")
            print("stop: scancel \(workerJob) (workers checkpoint and exit 3); resume: run this command again")
        }
    }
}

/// The running `ticket`'s absolute path, for the batch scripts.
private func executablePath() throws -> String {
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw ValidationFailure("cannot find this ticket executable's path (tried \(path))")
    }
    return path
}

/// Submits `script` with `sbatch --parsable`; returns the job id.
private func sbatch(_ script: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sbatch", "--parsable", script.path]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { throw FileError(script.path, "cannot run sbatch: \(error.localizedDescription)") }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // --parsable prints "id" or "id;cluster".
    let id = stdout.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
        throw FileError(script.path, "sbatch failed (status \(process.terminationStatus)): "
                        + (stderr + stdout).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return id
}
