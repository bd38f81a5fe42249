import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only stream of bytes from a file: raw, or inflated from gzip on
/// the fly. Decoders read exactly what they need into their final buffers,
/// so a data set is never held twice in memory.
public protocol ByteSource: AnyObject {
    /// The file the bytes come from, for error messages.
    var path: String { get }
    /// Fills as much of `buffer` as possible; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads exactly `buffer.count` bytes, or throws `truncated`.
    /// `consumedBefore` lets the message count bytes already read by the caller.
    func readExactly(into buffer: UnsafeMutableRawBufferPointer, consumedBefore: Int = 0,
                     expectedTotal: Int? = nil) throws {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 {
                let expected = expectedTotal ?? (consumedBefore + buffer.count)
                throw DatasetError(path, .truncated(expectedBytes: expected, actualBytes: consumedBefore + filled))
            }
            filled += n
        }
    }

    /// Reads `count` bytes into a new array (used for small headers).
    func readBytes(_ count: Int, consumedBefore: Int = 0) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try readExactly(into: $0, consumedBefore: consumedBefore) }
        return bytes
    }

    /// Discards `count` bytes (tar entries that are not needed).
    func skip(_ count: Int) throws {
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
        var left = count
        try scratch.withUnsafeMutableBytes { buffer in
            while left > 0 {
                let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(left, buffer.count)])
                try readExactly(into: chunk)
                left -= chunk.count
            }
        }
    }

    /// Number of bytes left before the end of the stream (reads them all).
    func countRemaining() throws -> Int {
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        try scratch.withUnsafeMutableBytes { buffer in
            while true {
                let n = try read(into: buffer)
                if n == 0 { break }
                total += n
            }
        }
        return total
    }
}

/// Reads a file through stdio in large chunks.
public final class FileSource: ByteSource {
    public let path: String
    /// The file's size in bytes, when it is a regular file.
    public let fileSize: Int
    private let handle: UnsafeMutablePointer<FILE>

    public init(path: String) throws {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DatasetError(path, .cannotOpen(String(cString: strerror(errno))))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DatasetError(path, .cannotOpen("not a regular file"))
        }
        guard let handle = fopen(path, "rb") else {
            throw DatasetError(path, .cannotOpen(String(cString: strerror(errno))))
        }
        self.handle = handle
        self.fileSize = Int(info.st_size)
    }

    deinit { fclose(handle) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let n = fread(base, 1, buffer.count, handle)
        if n < buffer.count && ferror(handle) != 0 {
            throw DatasetError(path, .readFailed(String(cString: strerror(errno))))
        }
        return n
    }
}

/// Inflates a gzip file as it is read, through zlib. Handles multi-member
/// files (as `gzip -dc` does) and checks every member's CRC and length.
public final class GzipSource: ByteSource {
    public let path: String
    private let file: FileSource
    private var stream = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var finished = false
    private var compressedBytesSeen = 0

    /// Input chunk size: large enough that fread and call overhead vanish,
    /// small enough to stay in L2 next to the inflate window.
    private static let chunkSize = 256 * 1024

    public init(path: String) throws {
        self.path = path
        file = try FileSource(path: path)
        input = .allocate(byteCount: Self.chunkSize, alignment: 64)
        // 15 + 16: a gzip wrapper only (a raw zlib stream is not a .gz file).
        let status = ticket_inflateInit2(&stream, 15 + 16)
        guard status == Z_OK else {
            input.deallocate()
            throw DatasetError(path, .corruptGzip("inflateInit2 failed with \(status)"))
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        let requested = Int(stream.avail_out)
        while stream.avail_out > 0 {
            if stream.avail_in == 0 {
                let n = try file.read(into: input)
                if n == 0 {
                    if compressedBytesSeen == 0 { throw DatasetError(path, .empty) }
                    throw DatasetError(path, .corruptGzip("unexpected end of compressed data"))
                }
                compressedBytesSeen += n
                stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(n)
            }
            let status = inflate(&stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                if try !startNextMemberIfPresent() {
                    finished = true
                    return requested - Int(stream.avail_out)
                }
            case Z_DATA_ERROR:
                let message = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw DatasetError(path, .corruptGzip(message))
            case Z_MEM_ERROR:
                throw DatasetError(path, .readFailed("zlib out of memory"))
            default:
                throw DatasetError(path, .corruptGzip("zlib status \(status)"))
            }
        }
        return requested
    }

    /// After one gzip member ends, either the file ends too, or another
    /// member follows (its first bytes must be the gzip magic).
    private func startNextMemberIfPresent() throws -> Bool {
        if stream.avail_in == 0 {
            let n = try file.read(into: input)
            if n == 0 { return false }
            stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(n)
        }
        guard stream.next_in.pointee == 0x1F else {
            throw DatasetError(path, .corruptGzip("garbage after the end of the compressed stream"))
        }
        inflateReset(&stream)
        return true
    }
}

/// An opened data file: its byte stream, and what is known of its size
/// before decoding, so decoders can reject impossible headers before they
/// allocate anything.
public struct OpenedDataFile {
    public let source: ByteSource
    public let isCompressed: Bool
    /// Size on disk.
    public let fileSize: Int

    /// The most bytes the stream can yield: exact for raw files; for gzip,
    /// deflate's maximum ratio (1032:1) bounds what a file this size inflates to.
    public var maximumDecodedSize: Int {
        isCompressed ? fileSize.multipliedReportingOverflow(by: 1032).partialValue : fileSize
    }

    public var path: String { source.path }
}

/// Opens `path` as raw bytes, or as inflated bytes when it starts with the
/// gzip magic (whatever its name).
public func openDataFile(_ path: String) throws -> OpenedDataFile {
    let raw = try FileSource(path: path)
    guard raw.fileSize > 0 else { throw DatasetError(path, .empty) }
    var magic: (UInt8, UInt8) = (0, 0)
    let n = try withUnsafeMutableBytes(of: &magic) { try raw.read(into: $0) }
    if n == 2 && magic == (0x1F, 0x8B) {
        return OpenedDataFile(source: try GzipSource(path: path), isCompressed: true, fileSize: raw.fileSize)
    }
    return OpenedDataFile(source: try FileSource(path: path), isCompressed: false, fileSize: raw.fileSize)
}
