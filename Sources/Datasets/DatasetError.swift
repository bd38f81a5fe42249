/// Why a data file could not be used. Every case names the file, so the CLI
/// can print one line `error: <file>: <reason>`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file or directory at fault.
    public var path: String
    /// What is wrong with it.
    public var reason: Reason

    public init(_ path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        case cannotOpen(String)
        case readFailed(String)
        case empty
        case corruptGzip(String)
        case truncated(expectedBytes: Int, actualBytes: Int)
        case trailingData(extraBytes: Int)
        case wrongMagic(found: UInt32, expected: [UInt32])
        case badHeader(String)
        case tooLarge(String)
        case sizeMismatch(String)
        case labelOutOfRange(index: Int, label: Int, classCount: Int)
        case countMismatch(images: Int, labels: Int)
        case missingFiles([String])
        case corruptTar(String)
        case checksumMismatch(expected: String, actual: String)
        case unknownFormat(String)

        public var description: String {
            switch self {
            case .cannotOpen(let why): return "cannot open (\(why))"
            case .readFailed(let why): return "read failed (\(why))"
            case .empty: return "file is empty"
            case .corruptGzip(let why): return "corrupt gzip data (\(why))"
            case let .truncated(expected, actual):
                return "truncated: expected \(expected) bytes of data, found \(actual)"
            case .trailingData(let extra): return "\(extra) unexpected bytes after the data"
            case let .wrongMagic(found, expected):
                let wanted = expected.map(String.init).joined(separator: " or ")
                return "wrong magic number \(found) (expected \(wanted)); not an IDX file of this kind"
            case .badHeader(let why): return "bad header: \(why)"
            case .tooLarge(let why): return "refusing to allocate: \(why)"
            case .sizeMismatch(let why): return "size mismatch: \(why)"
            case let .labelOutOfRange(index, label, classCount):
                return "label \(label) at record \(index) is outside 0..<\(classCount)"
            case let .countMismatch(images, labels):
                return "\(images) images but \(labels) labels"
            case .missingFiles(let names): return "missing expected files: \(names.joined(separator: ", "))"
            case .corruptTar(let why): return "corrupt tar archive (\(why))"
            case let .checksumMismatch(expected, actual):
                return "checksum mismatch: expected \(expected), got \(actual)"
            case .unknownFormat(let why): return "unrecognised data set: \(why)"
            }
        }
    }

    public var description: String { "\(path): \(reason)" }
}
