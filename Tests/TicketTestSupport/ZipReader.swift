import CZlib
import Foundation

/// A zip archive read back for the tests, written independently of the
/// writer under test: the central directory is the index, each entry's local
/// header must agree with it, deflated data is inflated by zlib and every
/// CRC-32 checked.
public struct ZipReader {
    /// One entry as the central directory describes it.
    public struct Entry {
        public var path: String
        public var method: UInt16
        public var dosTime: UInt16
        public var dosDate: UInt16
        public var contents: Data
    }

    public var entries: [Entry]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ data: Data) throws {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> Failure { Failure(description: "zip: \(reason)") }
        func u16(_ at: Int) throws -> UInt16 {
            guard at + 2 <= bytes.count else { throw fail("truncated at \(at)") }
            return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
        }
        func u32(_ at: Int) throws -> UInt32 {
            UInt32(try u16(at)) | UInt32(try u16(at + 2)) << 16
        }
        // The end record has no comment here, so it is the last 22 bytes.
        let end = bytes.count - 22
        guard end >= 0, try u32(end) == 0x0605_4B50 else { throw fail("no end of central directory record") }
        let count = Int(try u16(end + 10))
        var at = Int(try u32(end + 16))
        var entries: [Entry] = []
        for _ in 0..<count {
            guard try u32(at) == 0x0201_4B50 else { throw fail("bad central directory record at \(at)") }
            let method = try u16(at + 10), time = try u16(at + 12), date = try u16(at + 14)
            let crc = try u32(at + 16), compressed = Int(try u32(at + 20)), size = Int(try u32(at + 24))
            let nameLength = Int(try u16(at + 28)), extra = Int(try u16(at + 30)), comment = Int(try u16(at + 32))
            let offset = Int(try u32(at + 42))
            let path = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            at += 46 + nameLength + extra + comment

            guard try u32(offset) == 0x0403_4B50 else { throw fail("\(path): no local header at \(offset)") }
            guard try u16(offset + 8) == method, try u32(offset + 14) == crc, Int(try u32(offset + 18)) == compressed,
                  Int(try u32(offset + 22)) == size else { throw fail("\(path): local header disagrees with the directory") }
            let start = offset + 30 + Int(try u16(offset + 26)) + Int(try u16(offset + 28))
            guard start + compressed <= bytes.count else { throw fail("\(path): data runs past the end") }
            let raw = Array(bytes[start..<(start + compressed)])
            let contents: [UInt8]
            switch method {
            case 0: contents = raw
            case 8: contents = try Self.inflate(raw, size: size, path: path)
            default: throw fail("\(path): compression method \(method)")
            }
            guard contents.count == size else { throw fail("\(path): \(contents.count) bytes, directory says \(size)") }
            let actual = contents.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard actual == crc else { throw fail("\(path): CRC mismatch") }
            entries.append(Entry(path: path, method: method, dosTime: time, dosDate: date, contents: Data(contents)))
        }
        self.entries = entries
    }

    /// The contents of `path`, or nil.
    public subscript(path: String) -> Data? { entries.first { $0.path == path }?.contents }

    private static func inflate(_ raw: [UInt8], size: Int, path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard ticket_inflateInit2(&stream, -15) == Z_OK else { throw Failure(description: "zip: inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var input = raw
        var output = [UInt8](repeating: 0, count: size + 1)
        let produced = try input.withUnsafeMutableBufferPointer { inBuffer in
            try output.withUnsafeMutableBufferPointer { outBuffer -> Int in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                guard CZlib.inflate(&stream, Z_FINISH) == Z_STREAM_END else {
                    throw Failure(description: "zip: \(path): invalid deflate data")
                }
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }
}
