/// Decoders for the IDX format of MNIST, Fashion-MNIST and KMNIST:
/// a big-endian header (magic `0x0000 08 NN`: unsigned bytes, NN dimensions,
/// then NN 32-bit sizes) followed by the data.
public enum IDX {
    /// Magic of a 3-D unsigned-byte file (images).
    public static let imagesMagic: UInt32 = 2051
    /// Magic of a 1-D unsigned-byte file (labels).
    public static let labelsMagic: UInt32 = 2049

    /// Refuse anything that would need more than this many bytes: no real
    /// IDX data set comes close, and a corrupt header must not make us try.
    public static let maximumPayloadBytes = 4 << 30

    /// Decoded images: `count × rows × columns` bytes.
    public struct Images {
        public var count: Int
        public var rows: Int
        public var columns: Int
        public var pixels: [UInt8]
    }

    /// Reads an images file (raw or gzip'd).
    public static func readImages(_ path: String) throws -> Images {
        let file = try openDataFile(path)
        let dims = try readHeader(file, magic: imagesMagic, dimensions: 3)
        let (count, rows, columns) = (dims[0], dims[1], dims[2])
        guard rows > 0, columns > 0 else {
            throw DatasetError(path, .badHeader("image size \(rows)x\(columns) is empty"))
        }
        let payload = try payloadSize(dims, file: file)
        let pixels = try readPayload(file, count: payload)
        return Images(count: count, rows: rows, columns: columns, pixels: pixels)
    }

    /// Reads a labels file (raw or gzip'd).
    public static func readLabels(_ path: String) throws -> [UInt8] {
        let file = try openDataFile(path)
        let dims = try readHeader(file, magic: labelsMagic, dimensions: 1)
        let payload = try payloadSize(dims, file: file)
        return try readPayload(file, count: payload)
    }

    /// Header length in bytes for `dimensions` sizes.
    static func headerSize(dimensions: Int) -> Int { 4 + 4 * dimensions }

    private static func readHeader(_ file: OpenedDataFile, magic: UInt32, dimensions: Int) throws -> [Int] {
        let path = file.path
        let headerBytes = headerSize(dimensions: dimensions)
        func readHeaderBytes(_ count: Int, consumedBefore: Int) throws -> [UInt8] {
            do {
                return try file.source.readBytes(count, consumedBefore: consumedBefore)
            } catch let error as DatasetError {
                if case .truncated(_, let actual) = error.reason {
                    throw DatasetError(path, .badHeader("file ends after \(actual) bytes, inside the \(headerBytes)-byte header"))
                }
                throw error
            }
        }
        func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
            bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        // The magic first: a file of the other kind must be named as such,
        // not reported as a short header.
        let found = word(try readHeaderBytes(4, consumedBefore: 0), 0)
        guard found == magic else {
            let other: UInt32 = magic == imagesMagic ? labelsMagic : imagesMagic
            if found == other {
                throw DatasetError(path, .badHeader("this is an IDX \(found == imagesMagic ? "images" : "labels") file, expected \(magic == imagesMagic ? "images" : "labels")"))
            }
            throw DatasetError(path, .wrongMagic(found: found, expected: [magic]))
        }
        let header = try readHeaderBytes(4 * dimensions, consumedBefore: 4)
        return (0..<dimensions).map { Int(word(header, 4 * $0)) }
    }

    /// The payload size the header claims, checked against overflow, the
    /// absolute limit and what the file can actually hold.
    private static func payloadSize(_ dims: [Int], file: OpenedDataFile) throws -> Int {
        var total = 1
        for d in dims {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maximumPayloadBytes else {
                let shape = dims.map(String.init).joined(separator: "x")
                throw DatasetError(file.path, .tooLarge("header dimensions \(shape) exceed \(maximumPayloadBytes) bytes"))
            }
            total = product
        }
        let header = headerSize(dimensions: dims.count)
        let shape = dims.map(String.init).joined(separator: "x")
        if file.isCompressed {
            guard total <= file.maximumDecodedSize - header else {
                throw DatasetError(file.path, .sizeMismatch("header claims \(shape) = \(total) bytes, more than a \(file.fileSize)-byte gzip file can hold"))
            }
        } else if header + total != file.fileSize {
            throw DatasetError(file.path, .sizeMismatch("header claims \(shape) = \(total) bytes of data but the file holds \(file.fileSize - header)"))
        }
        return total
    }

    /// Reads exactly `count` payload bytes straight into the result, then
    /// checks that nothing follows.
    private static func readPayload(_ file: OpenedDataFile, count: Int) throws -> [UInt8] {
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try file.source.readExactly(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
        let extra = try file.source.countRemaining()
        guard extra == 0 else { throw DatasetError(file.path, .trailingData(extraBytes: extra)) }
        return bytes
    }
}
