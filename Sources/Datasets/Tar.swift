/// A minimal streaming reader for ustar archives (as produced by GNU tar
/// for the official CIFAR archives): walks entries in order and hands each
/// regular file's bytes to the caller without extracting anything to disk.
public struct TarReader {
    public let source: ByteSource
    private static let blockSize = 512

    public init(source: ByteSource) {
        self.source = source
    }

    /// One archive member as seen by the visitor.
    public struct Entry {
        public var name: String
        public var size: Int
        /// `true` for regular files.
        public var isFile: Bool
    }

    /// What the visitor did with an entry's bytes.
    public enum Consumption {
        /// The visitor read exactly `entry.size` bytes.
        case consumed
        /// The visitor read nothing; the reader skips the entry.
        case skipped
    }

    /// Calls `visit` for every entry. The visitor either reads exactly
    /// `entry.size` bytes from `source` and returns `.consumed`, or reads
    /// nothing and returns `.skipped`.
    public func forEachEntry(_ visit: (Entry) throws -> Consumption) throws {
        var longName: String?
        var sawEntry = false
        while true {
            let header: [UInt8]
            do {
                header = try source.readBytes(Self.blockSize)
            } catch let error as DatasetError {
                if case .truncated = error.reason {
                    throw DatasetError(source.path, .corruptTar(sawEntry ? "archive ends without its end-of-archive blocks" : "too short to be a tar archive"))
                }
                throw error
            }
            if header.allSatisfy({ $0 == 0 }) {
                // End of archive (two zero blocks; the second is not required to be read).
                guard sawEntry else { throw DatasetError(source.path, .corruptTar("archive holds no entries")) }
                return
            }
            try validateChecksum(header)
            sawEntry = true
            let size = try octal(header[124..<136], field: "size")
            let type = header[156]
            var name = longName ?? Self.string(header[0..<100])
            longName = nil
            let prefix = Self.string(header[345..<500])
            if !prefix.isEmpty && Array(header[257..<262]) == Array("ustar".utf8) {
                name = prefix + "/" + name
            }
            let padded = (size + Self.blockSize - 1) / Self.blockSize * Self.blockSize
            switch type {
            case UInt8(ascii: "L"):
                // GNU long name: the next entry's name is this entry's data.
                let data = try source.readBytes(padded)
                longName = Self.string(data[0..<size])
            case UInt8(ascii: "0"), 0:
                let entry = Entry(name: name, size: size, isFile: true)
                switch try visit(entry) {
                case .consumed: try source.skip(padded - size)
                case .skipped: try source.skip(padded)
                }
            default:
                // Directories, links, pax headers: nothing we need.
                _ = try visit(Entry(name: name, size: size, isFile: false))
                try source.skip(padded)
            }
        }
    }

    private func validateChecksum(_ header: [UInt8]) throws {
        let stored = try octal(header[148..<156], field: "checksum")
        var sum = 0
        for (i, byte) in header.enumerated() {
            sum += (148..<156).contains(i) ? 32 : Int(byte)
        }
        guard sum == stored else {
            throw DatasetError(source.path, .corruptTar("header checksum \(stored) does not match computed \(sum)"))
        }
    }

    private func octal(_ field: ArraySlice<UInt8>, field name: String) throws -> Int {
        var value = 0
        var sawDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 8)
                guard !overflow, shifted < Int.max / 2 else {
                    throw DatasetError(source.path, .corruptTar("\(name) field overflows"))
                }
                value = shifted + Int(byte - UInt8(ascii: "0"))
                sawDigit = true
            case 0, UInt8(ascii: " "):
                if sawDigit { return value }
            default:
                throw DatasetError(source.path, .corruptTar("\(name) field is not octal"))
            }
        }
        guard sawDigit else { throw DatasetError(source.path, .corruptTar("\(name) field is empty")) }
        return value
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }
}
