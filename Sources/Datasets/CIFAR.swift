/// Decoder for the binary CIFAR-10 and CIFAR-100 formats: fixed-size
/// records of label byte(s) then 3072 pixel bytes (red, green, blue planes
/// of 32×32, row-major), with nothing between records.
public enum CIFAR {
    /// Which of the two CIFAR layouts.
    public enum Variant: String, Sendable {
        /// One label byte (0..<10).
        case cifar10 = "cifar-10"
        /// A coarse (0..<20) then a fine (0..<100) label byte; the fine label is used.
        case cifar100 = "cifar-100"

        public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        public var recordSize: Int { labelBytes + CIFAR.shape.pixelCount }
        public var classCount: Int { self == .cifar10 ? 10 : 100 }
    }

    public static let shape = ImageShape(height: 32, width: 32, channels: 3)

    /// Decoded records: pixels `count × 3 × 32 × 32`, labels `count`.
    public struct Records {
        public var pixels: [UInt8]
        public var labels: [UInt8]
        public var count: Int { labels.count }
    }

    /// Reads a `.bin` file (raw or gzip'd).
    public static func readRecords(_ path: String, variant: Variant) throws -> Records {
        let file = try openDataFile(path)
        if file.isCompressed {
            // Size unknown up front: decode record by record into growing arrays.
            return try decode(from: file.source, byteCount: nil, variant: variant)
        }
        return try decode(from: file.source, byteCount: file.fileSize, variant: variant)
    }

    /// Decodes records from a stream. With `byteCount`, exactly that many
    /// bytes are consumed (a file or a tar entry) and must be whole records;
    /// without, records are read to the end of the stream.
    public static func decode(from source: ByteSource, byteCount: Int?, variant: Variant) throws -> Records {
        let recordSize = variant.recordSize
        let pixelCount = shape.pixelCount
        if let byteCount {
            guard byteCount > 0 else { throw DatasetError(source.path, .empty) }
            guard byteCount % recordSize == 0 else {
                throw DatasetError(source.path, .sizeMismatch(
                    "\(byteCount) bytes is not a whole number of \(recordSize)-byte \(variant.rawValue) records"))
            }
        }
        let expectedCount = byteCount.map { $0 / recordSize }
        var pixels = [UInt8]()
        var labels = [UInt8]()
        if let expectedCount {
            pixels.reserveCapacity(expectedCount * pixelCount)
            labels.reserveCapacity(expectedCount)
        }
        // Read a slab of records at a time and scatter labels and pixels.
        let recordsPerChunk = 512
        var chunk = [UInt8](repeating: 0, count: recordsPerChunk * recordSize)
        var decoded = 0
        try chunk.withUnsafeMutableBytes { buffer in
            while expectedCount.map({ decoded < $0 }) ?? true {
                let wanted = min(recordsPerChunk, (expectedCount ?? Int.max) - decoded)
                var filled = 0
                let target = wanted * recordSize
                while filled < target {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<target]))
                    if n == 0 { break }
                    filled += n
                }
                if filled < target {
                    if let expectedCount {
                        throw DatasetError(source.path, .truncated(
                            expectedBytes: expectedCount * recordSize, actualBytes: decoded * recordSize + filled))
                    }
                    guard filled % recordSize == 0 else {
                        throw DatasetError(source.path, .sizeMismatch(
                            "stream ends inside a record (\(decoded * recordSize + filled) bytes is not a whole number of \(recordSize)-byte records)"))
                    }
                }
                let records = filled / recordSize
                for r in 0..<records {
                    let base = r * recordSize
                    let label = buffer[base + variant.labelBytes - 1]
                    let index = decoded + r
                    if variant == .cifar100 {
                        let coarse = buffer[base]
                        guard coarse < 20 else {
                            throw DatasetError(source.path, .labelOutOfRange(index: index, label: Int(coarse), classCount: 20))
                        }
                    }
                    guard Int(label) < variant.classCount else {
                        throw DatasetError(source.path, .labelOutOfRange(index: index, label: Int(label), classCount: variant.classCount))
                    }
                    labels.append(label)
                    let start = base + variant.labelBytes
                    pixels.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + pixelCount)]))
                }
                decoded += records
                if records < wanted { break }
            }
        }
        guard decoded > 0 else { throw DatasetError(source.path, .empty) }
        return Records(pixels: pixels, labels: labels)
    }
}
