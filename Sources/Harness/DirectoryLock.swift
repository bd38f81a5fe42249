import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an output directory could not be locked.
public enum DirectoryLockError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Another live process holds the lock; `holder` describes it (pid, host, start).
    case held(directory: String, holder: String)
    case cannotLock(path: String, reason: String)

    public var description: String {
        switch self {
        case let .held(directory, holder):
            return "\(directory): in use by another sweep (\(holder)); wait for it to finish or stop it"
        case let .cannotLock(path, reason):
            return "\(path): cannot lock (\(reason))"
        }
    }
}

/// Exclusive use of a sweep's output directory, so two sweeps cannot write
/// the same run directories or tables at once.
///
/// The lock is `flock(2)` on `DIR/.lock`, which the kernel drops when the
/// holder dies, even by `kill -9`; a lock file still naming a process is
/// therefore stale exactly when the lock can be taken, and is taken over
/// with a warning. The file records the holder (pid, host, start time) for
/// the refusal message.
///
/// Shards of one sweep may share a directory (their runs are disjoint): a
/// shard holds `DIR/.lock` shared plus `DIR/.lock-shard-I-of-N` exclusively,
/// so shards coexist, a duplicate shard is refused, and a whole sweep
/// (exclusive on `DIR/.lock`) excludes them all.
///
/// ```swift
/// let lock = try DirectoryLock.acquire(outputDirectory)
/// if let warning = lock.takeoverWarning { print("warning: \(warning)") }
/// defer { lock.release() }
/// ```
public final class DirectoryLock {
    public let directory: URL
    /// Set when a stale lock of a dead process was taken over.
    public private(set) var takeoverWarning: String?
    private var descriptors: [Int32] = []
    /// The file holding this process's description (truncated on release).
    private var recordDescriptor: Int32 = -1

    private init(directory: URL) {
        self.directory = directory
    }

    deinit { release() }

    /// Locks `directory` (which must exist) for a whole sweep, or for one
    /// shard of it; throws `DirectoryLockError.held` naming the holder.
    public static func acquire(_ directory: URL, shard: Shard = .whole) throws -> DirectoryLock {
        let lock = DirectoryLock(directory: directory)
        let main = directory.appendingPathComponent(".lock").path
        do {
            if shard.count == 1 {
                lock.recordDescriptor = try lock.take(main, exclusive: true)
            } else {
                _ = try lock.take(main, exclusive: false)
                let shardPath = directory.appendingPathComponent(".lock-shard-\(shard.index)-of-\(shard.count)").path
                lock.recordDescriptor = try lock.take(shardPath, exclusive: true)
            }
            try lock.recordHolder(shard: shard)
        } catch {
            lock.release()
            throw error
        }
        return lock
    }

    /// Gives the lock up (also done on deinit and, by the kernel, on exit).
    public func release() {
        if recordDescriptor >= 0 {
            // An empty lock file means "released cleanly": no stale warning later.
            _ = ftruncate(recordDescriptor, 0)
            recordDescriptor = -1
        }
        for fd in descriptors.reversed() {
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
        descriptors.removeAll()
    }

    /// Opens and flocks `path` without blocking; returns the descriptor.
    private func take(_ path: String, exclusive: Bool) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DirectoryLockError.cannotLock(path: path, reason: errnoText()) }
        if flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            guard code == EWOULDBLOCK else { throw DirectoryLockError.cannotLock(path: path, reason: errnoText(code)) }
            throw DirectoryLockError.held(directory: directory.path, holder: holderDescription(refusedAt: path))
        }
        descriptors.append(fd)
        if exclusive, let stale = DirectoryLock.readRecord(path) {
            takeoverWarning = "\(path): taking over the lock left by \(stale), which no longer holds it (it died or was killed)"
        }
        return fd
    }

    private func recordHolder(shard: Shard) throws {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let started = ISO8601DateFormatter().string(from: Date())
        let shardText = shard.count == 1 ? "" : " shard \(shard)"
        let record = "pid \(getpid()) on host \(String(cString: host))\(shardText) since \(started)\n"
        _ = ftruncate(recordDescriptor, 0)
        let bytes = Array(record.utf8)
        guard pwrite(recordDescriptor, bytes, bytes.count, 0) == bytes.count else {
            throw DirectoryLockError.cannotLock(path: directory.appendingPathComponent(".lock").path,
                                                reason: "cannot record holder: \(errnoText())")
        }
        _ = fsync(recordDescriptor)
    }

    /// Who holds the lock we were refused: the main record, or for a shared
    /// main lock the records of the shard files.
    private func holderDescription(refusedAt path: String) -> String {
        if let record = DirectoryLock.readRecord(path) { return record }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let shardRecords = names.filter { $0.hasPrefix(".lock-shard-") }.sorted()
            .compactMap { DirectoryLock.readRecord(directory.appendingPathComponent($0).path) }
        return shardRecords.isEmpty ? "holder unknown" : shardRecords.joined(separator: "; ")
    }

    private static func readRecord(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
