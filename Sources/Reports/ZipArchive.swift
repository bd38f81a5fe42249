import CZlib
import Foundation

/// Builds a zip archive in memory, deterministically: the same entries in
/// the same order give the same bytes (no clock, no host, no user in the
/// archive). Every entry carries the earliest DOS timestamp
/// (1980-01-01 00:00), is deflated by zlib when that makes it smaller and
/// stored otherwise. No zip64: an archive over 4 GiB is refused.
///
/// ```swift
/// var zip = ZipArchive()
/// zip.add("a.txt", Data("hello".utf8))
/// let bytes = try zip.bytes()
/// ```
public struct ZipArchive: Sendable {
    private var entries: [(path: String, contents: Data)] = []

    public init() {}

    /// Appends a file; `path` uses `/` separators and no leading `/`.
    public mutating func add(_ path: String, _ contents: Data) {
        entries.append((path, contents))
    }

    /// The archive: local headers and data, then the central directory.
    public func bytes() throws -> Data {
        var out = Data(), directory = Data()
        for entry in entries {
            let name = Data(entry.path.utf8)
            let crc = Self.crc32(entry.contents)
            let deflated = try Self.deflated(entry.contents)
            let isDeflated = deflated.count < entry.contents.count
            let stored = isDeflated ? deflated : entry.contents
            guard out.count <= Int(UInt32.max), stored.count <= Int(UInt32.max), entry.contents.count <= Int(UInt32.max),
                  name.count <= Int(UInt16.max) else {
                throw WorkbookError(reason: "\(entry.path) does not fit a zip archive without zip64")
            }
            let offset = UInt32(out.count)
            // Fields shared by the local header and the central directory record, in this order.
            var common = Data()
            common.append(little: UInt16(20))  // version needed: 2.0 (deflate)
            // Bit 11: the name is UTF-8.
            common.append(little: UInt16(name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800))
            common.append(little: UInt16(isDeflated ? 8 : 0))
            common.append(little: UInt16(0))  // time 00:00:00
            common.append(little: UInt16((0 << 9) | (1 << 5) | 1))  // date 1980-01-01
            common.append(little: crc)
            common.append(little: UInt32(stored.count))
            common.append(little: UInt32(entry.contents.count))
            common.append(little: UInt16(name.count))
            common.append(little: UInt16(0))  // extra field length

            out.append(little: UInt32(0x0403_4B50))
            out.append(common)
            out.append(name)
            out.append(stored)

            directory.append(little: UInt32(0x0201_4B50))
            directory.append(little: UInt16(20))  // made by: MS-DOS attributes, version 2.0
            directory.append(common)
            directory.append(little: UInt16(0))  // comment length
            directory.append(little: UInt16(0))  // disk number
            directory.append(little: UInt16(0))  // internal attributes
            directory.append(little: UInt32(0))  // external attributes
            directory.append(little: offset)
            directory.append(name)
        }
        guard entries.count <= Int(UInt16.max), out.count + directory.count <= Int(UInt32.max) else {
            throw WorkbookError(reason: "the archive does not fit a zip file without zip64")
        }
        let directoryOffset = UInt32(out.count)
        out.append(directory)
        out.append(little: UInt32(0x0605_4B50))
        out.append(little: UInt16(0))  // this disk
        out.append(little: UInt16(0))  // disk with the directory
        out.append(little: UInt16(entries.count))
        out.append(little: UInt16(entries.count))
        out.append(little: UInt32(directory.count))
        out.append(little: directoryOffset)
        out.append(little: UInt16(0))  // comment length
        return out
    }

    /// zlib's CRC-32 (the one zip uses), in chunks that fit its 32-bit length.
    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { buffer -> UInt32 in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let length = min(buffer.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset, uInt(length))
                offset += length
            }
            return UInt32(crc)
        }
    }

    /// Raw deflate (no zlib or gzip wrapper, as zip wants), level 6, one call.
    static func deflated(_ data: Data) throws -> Data {
        var stream = z_stream()
        guard ticket_deflateInit2(&stream, 6, -15) == Z_OK else { throw WorkbookError(reason: "zlib deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        guard data.count < Int(uInt.max) else { throw WorkbookError(reason: "an entry over 4 GiB cannot be deflated in one call") }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 16)
        var input = [UInt8](data)
        let produced = try input.withUnsafeMutableBufferPointer { inBuffer in
            try output.withUnsafeMutableBufferPointer { outBuffer -> Int in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else {
                    throw WorkbookError(reason: "zlib deflate did not finish")
                }
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Data(output[0..<produced])
    }
}

extension Data {
    /// Appends `value` in little-endian byte order (zip's).
    mutating func append<T: FixedWidthInteger>(little value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
