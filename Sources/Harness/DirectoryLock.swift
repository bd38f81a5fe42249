import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an output directory could not be locked.
public enum DirectoryLockError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Live sweep processes use the directory; `holder` describes them (pid, host, start).
    case held(directory: String, holder: String)
    /// Live workers of a different manifest use the directory.
    case otherManifest(directory: String, holder: String)
    case cannotLock(path: String, reason: String)

    public var description: String {
        switch self {
        case let .held(directory, holder):
            return "\(directory): in use by a live sweep (\(holder)); wait for it to finish or stop it"
        case let .otherManifest(directory, holder):
            return "\(directory): in use by a sweep of another manifest (\(holder)); "
                + "every worker of a directory must use the same manifest"
        case let .cannotLock(path, reason):
            return "\(path): cannot lock (\(reason))"
        }
    }
}

/// Who holds a lock: written into the lock file by its holder, read by
/// whoever is refused, by `ticket status` and by a process taking over a
/// dead holder's file.
public struct HolderRecord: Hashable, Sendable {
    public var pid: Int32
    public var host: String
    /// ISO 8601, when the holder took the lock.
    public var since: String
    /// `SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID` (or `SLURM_JOB_ID`) when run by Slurm.
    public var slurmJob: String?
    /// What the holder does: `worker`, `shard 2/4`, `sweep`, `report`, or a run's round.
    public var role: String

    /// This process, now.
    public static func current(role: String) -> HolderRecord {
        let environment = ProcessInfo.processInfo.environment
        var job = environment["SLURM_JOB_ID"]
        if let array = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
            job = "\(array)_\(task)"
        }
        return HolderRecord(pid: getpid(), host: hostName(), since: ISO8601DateFormatter().string(from: Date()),
                            slurmJob: job, role: role)
    }

    /// One line, e.g. `pid 12 on host n01 (worker, slurm job 7_2) since 2026-01-01T00:00:00Z`.
    public var summary: String {
        "pid \(pid) on host \(host) (\(role)\(slurmJob.map { ", slurm job \($0)" } ?? "")) since \(since)"
    }

    /// `key: value` lines, the file format.
    var encoded: String {
        var lines = ["pid: \(pid)", "host: \(host)", "since: \(since)", "role: \(role)"]
        if let slurmJob { lines.append("slurm-job: \(slurmJob)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses `encoded`; `nil` for an empty or foreign file.
    init?(parsing text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let pidText = fields["pid"], let pid = Int32(pidText), let host = fields["host"] else { return nil }
        self.init(pid: pid, host: host, since: fields["since"] ?? "?", slurmJob: fields["slurm-job"],
                  role: fields["role"] ?? "?")
    }

    public init(pid: Int32, host: String, since: String, slurmJob: String?, role: String) {
        self.pid = pid
        self.host = host
        self.since = since
        self.slurmJob = slurmJob
        self.role = role
    }
}

/// A file held with `flock(2)` through one descriptor, with the holder's
/// record written into it. The kernel drops the lock when the process dies,
/// even by `kill -9`, so a record in a file that can be locked is stale.
///
/// The holder touches the file only through this descriptor: on Linux NFS,
/// flock is emulated with a whole-file POSIX lock, which the process loses
/// when it closes *any* descriptor of that file.
final class HeldFile {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Locks `path` (created if missing); `nil` when another process holds it
    /// (only with `wait: false`).
    static func lock(_ path: String, exclusive: Bool = true, wait: Bool = false) throws -> HeldFile? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DirectoryLockError.cannotLock(path: path, reason: errnoText()) }
        while flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            guard code == EWOULDBLOCK else { throw DirectoryLockError.cannotLock(path: path, reason: errnoText(code)) }
            return nil
        }
        return HeldFile(path: path, descriptor: fd)
    }

    /// The record left in the file (by a previous holder, or this one).
    var record: HolderRecord? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return HolderRecord(parsing: String(decoding: bytes[0..<count], as: UTF8.self))
    }

    /// Replaces the file's content with `record`.
    func write(_ record: HolderRecord) throws {
        let bytes = Array(record.encoded.utf8)
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, bytes, bytes.count, 0) == bytes.count else {
            throw DirectoryLockError.cannotLock(path: path, reason: "cannot record holder: \(errnoText())")
        }
        // No fsync: the record only informs; the lock itself is the kernel's.
    }

    /// Empties the file ("released cleanly": nobody warns about it later),
    /// then unlocks and closes it.
    func release(removing: Bool = false) {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        // Unlink while still holding the lock, so no one locks a file about to vanish.
        if removing { unlink(path) }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    /// Whether a file is locked by someone, and their record.
    enum State {
        case free
        case held(HolderRecord?)
    }

    /// Whether a live process holds `path` (a missing file is free). Takes
    /// and drops a shared lock: never call it on a file this process holds
    /// (see the NFS note above).
    static func state(of path: String) -> State {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .free }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return .free
        }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = pread(fd, &bytes, bytes.count, 0)
        return .held(count > 0 ? HolderRecord(parsing: String(decoding: bytes[0..<count], as: UTF8.self)) : nil)
    }
}

/// Shared use of a sweep's output directory by any number of sweep
/// processes (whole sweeps, shards, `--worker`s, on any hosts that share the
/// file system), all of one manifest, and exclusive use by `ticket report`.
///
/// - `DIR/.lock`: a gate, held exclusively only for a moment while a process
///   joins or while `report` writes the tables.
/// - `DIR/.workers/<host>-<pid>-<random>`: each live sweep process holds its own file
///   exclusively for its lifetime, with its record (and the dead's files are
///   removed with a warning by whoever joins next).
/// - `DIR/plan.json`: the manifest's run list; a process whose run list
///   differs is refused while live processes of the other list exist.
/// - `DIR/.lock-tables`: serialises writing the tables (`withTableLock`).
/// - `DIR/runs/<hash>/.claim`: one run's claim (`RunClaim`).
///
/// ```swift
/// let lock = try DirectoryLock.join(output, plan: plan, role: "worker")
/// lock.warnings.forEach { print("warning: \($0)") }
/// defer { lock.release() }
/// ```
public final class DirectoryLock {
    public let directory: URL
    /// Dead holders whose files were taken over or removed.
    public private(set) var warnings: [String] = []
    private var files: [HeldFile] = []

    private init(directory: URL) {
        self.directory = directory
    }

    deinit { release() }

    /// Joins the sweep processes of `directory` (which must exist) running
    /// `plan`; throws `.otherManifest` when live processes run another plan.
    /// Writes `plan.json` when no live process runs one.
    public static func join(_ directory: URL, plan: SweepPlan, role: String) throws -> DirectoryLock {
        let lock = DirectoryLock(directory: directory)
        let gate = try lock.gate(wait: true)!
        defer { gate.release() }
        let live = try lock.liveWorkers()
        let planURL = directory.appendingPathComponent(SweepPlan.fileName)
        if !live.isEmpty {
            let recorded = try? SweepPlan.read(from: planURL)
            if recorded?.identity != plan.identity {
                throw DirectoryLockError.otherManifest(directory: directory.path,
                                                       holder: live.map(\.summary).joined(separator: "; "))
            }
        } else if (try? SweepPlan.read(from: planURL))?.encoded() != plan.encoded() {
            try AtomicFile.write(plan.encoded(), to: planURL)
        }
        // The random part keeps two joins of one process (tests) apart.
        let path = lock.workersDirectory.appendingPathComponent("\(hostName())-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        guard let mine = try HeldFile.lock(path) else {
            throw DirectoryLockError.cannotLock(path: path, reason: "already held")
        }
        try mine.write(.current(role: role))
        lock.files.append(mine)
        return lock
    }

    /// Exclusive use for writing the tables (`ticket report`): refuses,
    /// naming them, while live sweep processes use the directory. Holds the
    /// gate, so none joins until `release`.
    public static func exclusive(_ directory: URL) throws -> DirectoryLock {
        let lock = DirectoryLock(directory: directory)
        let gate = try lock.gate(wait: true)!
        lock.files.append(gate)
        let live = try lock.liveWorkers()
        guard live.isEmpty else {
            lock.release()
            throw DirectoryLockError.held(directory: directory.path, holder: live.map(\.summary).joined(separator: "; "))
        }
        try gate.write(.current(role: "report"))
        return lock
    }

    /// Gives the lock up (also done on deinit and, by the kernel, on exit).
    public func release() {
        for file in files.reversed() { file.release(removing: file.path.contains("/.workers/")) }
        files.removeAll()
    }

    /// Runs `body` holding `DIR/.lock-tables` exclusively (waiting for it),
    /// so two processes never write the tables at once and the last writer
    /// publishes a snapshot collected after every earlier one was written.
    public static func withTableLock<T>(_ directory: URL, _ body: () throws -> T) throws -> T {
        let file = try HeldFile.lock(directory.appendingPathComponent(".lock-tables").path, wait: true)!
        defer { file.release() }
        return try body()
    }

    /// The records of the live sweep processes of `directory` (read-only; for `ticket status`).
    public static func liveWorkers(of directory: URL) -> [HolderRecord] {
        let workers = directory.appendingPathComponent(".workers")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workers.path)) ?? []
        return names.sorted().compactMap { name -> HolderRecord? in
            guard case .held(let record) = HeldFile.state(of: workers.appendingPathComponent(name).path) else { return nil }
            return record ?? HolderRecord(pid: 0, host: "?", since: "?", slurmJob: nil, role: name)
        }
    }

    private var workersDirectory: URL { directory.appendingPathComponent(".workers") }

    private func gate(wait: Bool) throws -> HeldFile? {
        try HeldFile.lock(directory.appendingPathComponent(".lock").path, wait: wait)
    }

    /// Live workers' records; removes the files of dead ones (with a warning
    /// when they did not release cleanly). Called holding the gate.
    private func liveWorkers() throws -> [HolderRecord] {
        do {
            try FileManager.default.createDirectory(at: workersDirectory, withIntermediateDirectories: true)
        } catch {
            throw DirectoryLockError.cannotLock(path: workersDirectory.path, reason: "\(error.localizedDescription)")
        }
        var live: [HolderRecord] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: workersDirectory.path).sorted()
        for name in names where !name.hasPrefix(".") {
            let path = workersDirectory.appendingPathComponent(name).path
            if let dead = try HeldFile.lock(path) {
                if let record = dead.record {
                    warnings.append("\(path): taking over from \(record.summary), which no longer holds it (it died or was killed)")
                }
                dead.release(removing: true)
            } else if let record = HolderRecord(parsing: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "") {
                live.append(record)
            } else {
                live.append(HolderRecord(pid: 0, host: "?", since: "?", slurmJob: nil, role: name))
            }
        }
        return live
    }
}

/// This machine's host name.
func hostName() -> String {
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, host.count)
    return String(cString: host)
}
