import Foundation
import Reports

/// The two batch scripts of a sweep on a Slurm cluster (`ticket submit`):
/// an array of workers that share the sweep directory, each taking runs
/// until none is left, and a report job that rebuilds the tables once every
/// worker has ended, however it ended (`afterany`).
///
/// Slurm sends SIGTERM before it kills a task (scancel, preemption, and
/// `signalSeconds` before the time limit through `--signal=B:TERM@S`; `B:`
/// because the batch shell `exec`s the worker, so the signal reaches it);
/// the worker then checkpoints and exits with status 3. `--requeue` lets
/// Slurm requeue a preempted task; a task stopped by scancel or the time
/// limit is resumed by submitting again (finished runs are skipped).
public struct SlurmScripts: Equatable, Sendable {
    /// Absolute paths.
    public var ticket: String, manifest: String, output: String, workingDirectory: String
    public var jobName: String
    public var workers: Int
    public var cpusPerTask: Int
    public var time: String?, partition: String?, account: String?, memory: String?
    /// Extra `#SBATCH` lines, e.g. `--qos=low`.
    public var extraArguments: [String]
    /// Passed to `ticket sweep --data`.
    public var dataDirectory: String?
    /// SIGTERM this many seconds before the time limit.
    public var signalSeconds: Int
    /// Passed to `ticket sweep --checkpoint-minutes` (nil: its default).
    public var checkpointMinutes: Double?

    public init(ticket: String, manifest: String, output: String, workingDirectory: String, jobName: String,
                workers: Int, cpusPerTask: Int, time: String? = nil, partition: String? = nil, account: String? = nil,
                memory: String? = nil, extraArguments: [String] = [], dataDirectory: String? = nil, signalSeconds: Int = 120,
                checkpointMinutes: Double? = nil) {
        self.ticket = ticket
        self.manifest = manifest
        self.output = output
        self.workingDirectory = workingDirectory
        self.jobName = jobName
        self.workers = workers
        self.cpusPerTask = cpusPerTask
        self.time = time
        self.partition = partition
        self.account = account
        self.memory = memory
        self.extraArguments = extraArguments
        self.dataDirectory = dataDirectory
        self.signalSeconds = signalSeconds
        self.checkpointMinutes = checkpointMinutes
    }

    /// `DIR/slurm`, where the scripts and the job logs go.
    public var scriptDirectory: String { output + "/slurm" }

    /// The worker array's script.
    public var worker: String {
        var lines = ["#!/bin/bash",
                     "# Written by ticket submit: \(workers) workers sharing \(output); each takes runs until none is left.",
                     "#SBATCH --job-name=\(jobName)",
                     "#SBATCH --array=1-\(workers)",
                     "#SBATCH --cpus-per-task=\(cpusPerTask)"]
        lines += common
        lines += ["#SBATCH --requeue",
                  "#SBATCH --signal=B:TERM@\(signalSeconds)",
                  "#SBATCH --open-mode=append",
                  "#SBATCH --output=\(scriptDirectory)/worker-%A_%a.log"]
        lines += extraArguments.map { "#SBATCH \($0)" }
        var command = [ticket, "sweep", manifest, "--out", output, "--worker"].map(shellQuoted)
        if let dataDirectory { command += ["--data", shellQuoted(dataDirectory)] }
        if let checkpointMinutes { command += ["--checkpoint-minutes", CSV.number(checkpointMinutes)] }
        command += ["--threads", "\"${SLURM_CPUS_PER_TASK:-1}\""]
        lines += ["# exec: the worker itself receives Slurm's SIGTERM, checkpoints and exits 3.",
                  "exec " + command.joined(separator: " ")]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report job's script, run after the array `workerJob` ended.
    public func report(afterWorkerJob workerJob: String) -> String {
        var lines = ["#!/bin/bash",
                     "# Written by ticket submit: rebuilds the tables of \(output) once every worker has ended.",
                     "#SBATCH --job-name=\(jobName)-report",
                     "#SBATCH --dependency=afterany:\(workerJob)",
                     "#SBATCH --cpus-per-task=1"]
        lines += common
        lines += ["#SBATCH --output=\(scriptDirectory)/report-%j.log"]
        lines += extraArguments.map { "#SBATCH \($0)" }
        lines += ["exec " + [ticket, "report", output].map(shellQuoted).joined(separator: " ")]
        return lines.joined(separator: "\n") + "\n"
    }

    private var common: [String] {
        var lines = ["#SBATCH --chdir=\(workingDirectory)"]
        if let time { lines.append("#SBATCH --time=\(time)") }
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let account { lines.append("#SBATCH --account=\(account)") }
        if let memory { lines.append("#SBATCH --mem=\(memory)") }
        return lines
    }
}

/// `text` in single quotes for a POSIX shell.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
