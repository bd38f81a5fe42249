import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written or read; names the file.
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Whole-file writes that never leave a half-written file behind.
public enum AtomicFile {
    /// Writes `data` to `url` so that a reader (or a rerun after a crash or
    /// power loss) sees either the old file or the new one, never a mix:
    /// the bytes go to a temporary file in the same directory (same file
    /// system, so the rename is atomic), are fsync'ed, renamed over `url`,
    /// and the directory is fsync'ed so the rename itself is durable.
    public static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(url.path, "cannot create temporary file: \(errnoText())") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw FileError(url.path, "write failed: \(errnoText())")
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw FileError(url.path, "fsync failed: \(errnoText())") }
            closed = true
            guard close(fd) == 0 else { throw FileError(url.path, "close failed: \(errnoText())") }
            guard rename(temporary, url.path) == 0 else {
                throw FileError(url.path, "rename failed: \(errnoText())")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
    }

    /// Writes `text` as UTF-8, atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Makes a directory's entries (a rename, a new file) durable. Best
    /// effort: some file systems refuse fsync on directories.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// `write(2)`, named so it does not clash with the Swift methods called write.
func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
