import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sweep's progress line: runs done / total, the current run's round and
/// epoch, and an ETA from the measured speed (epochs per second so far,
/// applied to the epochs left). On a terminal one line is redrawn in place;
/// otherwise (CI logs, `nohup`) it prints a plain line per run start and
/// finish and per round, never per epoch, so logs stay short.
public final class ProgressReporter {
    private let totalRuns: Int
    private var runsDone = 0
    private var epochsPlanned: Int
    private var epochsDone = 0
    private var currentRunEpochs = 0
    private var currentLabel = ""
    private var currentRound = -1
    private let interactive: Bool
    private let output: (String) -> Void
    private let clock: () -> Double
    private var startTime: Double?
    private var lastDraw = -Double.infinity

    /// - Parameters:
    ///   - totalRuns: runs in this shard, skipped ones included.
    ///   - plannedEpochs: epochs of the runs that will actually execute.
    ///   - interactive: redraw one line (default: stderr is a terminal).
    ///   - output: where text goes (default: stderr, unbuffered).
    ///   - clock: seconds, monotonic (injectable for tests).
    public init(totalRuns: Int, plannedEpochs: Int, interactive: Bool = isatty(STDERR_FILENO) == 1,
                output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.totalRuns = totalRuns
        self.epochsPlanned = plannedEpochs
        self.interactive = interactive
        self.output = output
        self.clock = clock
    }

    /// A run found complete and skipped.
    public func skipped(_ config: RunConfig) {
        runsDone += 1
        if !interactive { output("[\(runsDone)/\(totalRuns)] \(config.displayName): already done, skipped\n") }
    }

    public func started(_ config: RunConfig) {
        if startTime == nil { startTime = clock() }
        currentLabel = config.displayName
        currentRunEpochs = 0
        currentRound = -1
        if !interactive { output("[\(runsDone + 1)/\(totalRuns)] \(currentLabel): started\n") }
        draw(force: true)
    }

    public func update(_ progress: RunProgress) {
        epochsDone += progress.epochsDone - currentRunEpochs
        currentRunEpochs = progress.epochsDone
        let newRound = progress.round != currentRound
        currentRound = progress.round
        if interactive {
            draw(force: false, round: progress.round, epoch: progress.epoch)
        } else if newRound {
            output("[\(runsDone + 1)/\(totalRuns)] \(currentLabel): round \(progress.round)\(eta.map { ", ETA \($0)" } ?? "")\n")
        }
    }

    /// The current run finished; `plannedEpochs` corrects the estimate when
    /// a resumed run had fewer epochs left than planned.
    public func finished(_ config: RunConfig, plannedEpochs: Int) {
        runsDone += 1
        epochsDone += plannedEpochs - currentRunEpochs
        currentRunEpochs = 0
        if interactive {
            draw(force: true)
        } else {
            output("[\(runsDone)/\(totalRuns)] \(config.displayName): done\(eta.map { ", ETA \($0)" } ?? "")\n")
        }
    }

    /// Ends the redrawn line.
    public func finish() {
        if interactive { output("\n") }
    }

    /// The ETA text, or `nil` before anything was measured.
    var eta: String? {
        guard let start = startTime, epochsDone > 0 else { return nil }
        let elapsed = clock() - start
        let left = Double(max(epochsPlanned - epochsDone, 0)) * elapsed / Double(epochsDone)
        return ProgressReporter.duration(left)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }

    private func draw(force: Bool, round: Int? = nil, epoch: Int? = nil) {
        guard interactive else { return }
        let now = clock()
        // At most ten redraws a second: a fast trainer must not spend its
        // time writing to the terminal.
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        var line = "runs \(runsDone)/\(totalRuns)"
        if !currentLabel.isEmpty { line += "  \(currentLabel)" }
        if let round, let epoch { line += "  round \(round) epoch \(epoch)" }
        if let eta { line += "  ETA \(eta)" }
        output("\r\u{1B}[K" + line)
    }
}
