import Foundation
import Reports

/// Where a sweep directory stands, read without taking any lock a sweep
/// process needs (`ticket status`): each run of the plan (and any other run
/// directory) is done, running, failed or pending, with an ETA from the
/// measured speed of the finished runs.
public struct SweepStatus: Sendable {
    /// One run's state.
    public enum State: Sendable, Equatable {
        /// Finished; `diverged` when its last round diverged.
        case done(diverged: Bool)
        /// Claimed by a live process.
        case running(HolderRecord)
        /// Failed and not claimed; the recorded error.
        case failed(String)
        case pending
    }

    public struct Run: Sendable {
        public var hash: String
        /// From the plan; the hash alone for a run directory not in it.
        public var label: String
        public var plannedEpochs: Int?
        public var state: State
    }

    public var planName: String?
    public var runs: [Run]
    public var liveProcesses: [HolderRecord]
    /// Wall seconds per training epoch over the finished runs, `nil` before one finished.
    public var secondsPerEpoch: Double?
    public var finishedRunsMeasured: Int

    /// Reads `directory`'s plan, run directories, claims and live processes.
    public static func read(_ directory: URL) throws -> SweepStatus {
        let runsDirectory = directory.appendingPathComponent("runs")
        guard FileManager.default.fileExists(atPath: runsDirectory.path) else {
            throw FileError(runsDirectory.path, "no runs directory; is this a sweep output directory?")
        }
        let plan = try? SweepPlan.read(from: directory.appendingPathComponent(SweepPlan.fileName))
        var entries = plan?.entries.map { (hash: $0.hash, label: $0.label, epochs: Optional($0.plannedEpochs)) } ?? []
        let known = Set(entries.map(\.hash))
        let names = try FileManager.default.contentsOfDirectory(atPath: runsDirectory.path).sorted()
        entries += names.filter { !$0.hasPrefix(".") && !known.contains($0) }.map { (hash: $0, label: $0, epochs: nil) }

        var runs: [Run] = [], wall = 0.0, epochs = 0, measured = 0
        for entry in entries {
            let run = RunDirectory(runsDirectory.appendingPathComponent(entry.hash))
            let state: State
            if run.hasMarker {
                let rows = (try? CSVTable.read(run.rows).rows(RunRow.self)) ?? []
                state = .done(diverged: rows.last?.status == .diverged)
                if !rows.isEmpty {
                    wall += rows.reduce(0) { $0 + $1.wallSeconds }
                    epochs += rows.reduce(0) { $0 + $1.epochs }
                    measured += 1
                }
            } else if let holder = RunClaim.holder(of: run) {
                state = .running(holder)
            } else if let failure = run.failureText {
                state = .failed(failure)
            } else {
                state = .pending
            }
            runs.append(Run(hash: entry.hash, label: entry.label, plannedEpochs: entry.epochs, state: state))
        }
        return SweepStatus(planName: plan?.name, runs: runs, liveProcesses: DirectoryLock.liveWorkers(of: directory),
                           secondsPerEpoch: epochs > 0 ? wall / Double(epochs) : nil, finishedRunsMeasured: measured)
    }

    /// Runs in `state`'s kind.
    public func count(_ matches: (State) -> Bool) -> Int { runs.filter { matches($0.state) }.count }

    /// Epochs of the runs not done (running runs counted whole: their progress is not recorded).
    public var epochsLeft: Int {
        runs.reduce(0) { total, run in
            if case .done = run.state { return total }
            return total + (run.plannedEpochs ?? 0)
        }
    }

    /// Seconds to finish the epochs left, shared by the live processes (at
    /// least one), at the finished runs' speed; `nil` before one finished.
    public var estimatedSecondsLeft: Double? {
        secondsPerEpoch.map { Double(epochsLeft) * $0 / Double(max(liveProcesses.count, 1)) }
    }
}
