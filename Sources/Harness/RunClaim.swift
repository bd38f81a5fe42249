import Foundation

/// A sweep process's exclusive claim on one run while it trains it:
/// `flock(2)` on `DIR/runs/<hash>/.claim`, so no two processes (of any
/// shard, worker or host sharing the file system) ever execute one run at
/// once, and the kernel frees the claim when the process dies. The file
/// records the holder and its current round, for `ticket status`.
///
/// ```swift
/// guard let claim = try RunClaim.take(directory) else { continue }  // held elsewhere
/// defer { claim.release() }
/// ```
public final class RunClaim {
    private let file: HeldFile
    private var record: HolderRecord

    private init(file: HeldFile, record: HolderRecord) {
        self.file = file
        self.record = record
    }

    /// The claim file of a run directory.
    static func path(_ directory: RunDirectory) -> String { directory.url.appendingPathComponent(".claim").path }

    /// Claims the run (its directory must exist), or returns `nil` when a
    /// live process holds it.
    public static func take(_ directory: RunDirectory) throws -> RunClaim? {
        guard let file = try HeldFile.lock(path(directory)) else { return nil }
        let claim = RunClaim(file: file, record: .current(role: "starting"))
        try file.write(claim.record)
        return claim
    }

    /// Records the round being trained (`ticket status` shows it).
    public func update(round: Int) {
        record.role = "round \(round)"
        try? file.write(record)
    }

    public func release() { file.release() }

    /// Who trains the run now: its record when a live process holds the
    /// claim, `nil` when nobody does. Never call it on a run this process holds.
    public static func holder(of directory: RunDirectory) -> HolderRecord? {
        switch HeldFile.state(of: path(directory)) {
        case .free: return nil
        case .held(let record): return record ?? HolderRecord(pid: 0, host: "?", since: "?", slurmJob: nil, role: "?")
        }
    }
}
