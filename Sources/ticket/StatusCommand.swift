import ArgumentParser
import Foundation
import Harness

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a sweep directory's runs: done, running (host, pid, round, since), pending, failed, diverged; and an ETA.",
        discussion: """
            Reads DIR/plan.json (written by the sweep processes), the run directories and their claims; takes no \\
            lock a sweep needs, so it is safe while workers run. The ETA is the epochs left times the wall \\
            seconds per epoch of the finished runs, divided over the live sweep processes.
            """
    )

    @Argument(help: "A sweep output directory.")
    var directory: String

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: directory)
            let status = try SweepStatus.read(url)
            let done = status.count { if case .done = $0 { return true } else { return false } }
            let diverged = status.count { $0 == .done(diverged: true) }
            let running = status.count { if case .running = $0 { return true } else { return false } }
            let failed = status.count { if case .failed = $0 { return true } else { return false } }
            let pending = status.count { $0 == .pending }
            let plan = status.planName.map { "plan \"\($0)\", " } ?? "no plan.json, "
            print("\(url.path): \(plan)\(status.runs.count) runs: \(done) done (\(diverged) diverged), "
                  + "\(running) running, \(pending) pending, \(failed) failed; "
                  + "\(status.liveProcesses.count) live sweep process(es)")
            for process in status.liveProcesses { print("process  \(process.summary)") }
            for run in status.runs {
                switch run.state {
                case .running(let holder):
                    print("running  \(run.hash)  \(run.label)  \(holder.role), pid \(holder.pid) on host \(holder.host)"
                          + "\(holder.slurmJob.map { ", slurm job \($0)" } ?? "") since \(holder.since)")
                case .failed(let error):
                    print("failed   \(run.hash)  \(run.label)  \(error)")
                case .done, .pending:
                    continue
                }
            }
            if let seconds = status.estimatedSecondsLeft {
                print("ETA \(formatDuration(seconds)) for \(status.epochsLeft) epochs left at "
                      + "\(max(status.liveProcesses.count, 1)) process(es), from \(status.finishedRunsMeasured) finished runs "
                      + String(format: "(%.2f s per epoch)", status.secondsPerEpoch!))
            } else {
                print("ETA unknown until a run finishes (\(status.epochsLeft) epochs left)")
            }
        }
    }
}
