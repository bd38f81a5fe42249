import Reports
/// Why a sweep manifest was rejected: the file, the JSON path of the
/// offending value (e.g. `criteria[1].gamma`) and the reason, so the CLI can
/// print one line such as
/// `error: sweeps/a.json: criteria[1].name: unknown criterion "magnitud"; known: random, magnitude, ...`.
public struct ManifestError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The manifest file (or `"<manifest>"` when parsed from memory).
    public var file: String
    /// Dotted JSON path, `""` for the document itself.
    public var path: String
    public var reason: Reason

    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        case unreadable(String)
        case invalidJSON(String)
        case missingField
        case unknownKey(allowed: [String])
        case wrongType(String)
        case unknownCriterion(String, known: [String])
        case invalidValue(String)
        case empty
        case duplicate(String)

        public var description: String {
            switch self {
            case .unreadable(let why): return "cannot read (\(why))"
            case .invalidJSON(let why): return "not valid JSON (\(why))"
            case .missingField: return "missing required field"
            case .unknownKey(let allowed):
                return "unknown key (a typo?); allowed here: \(allowed.joined(separator: ", "))"
            case .wrongType(let why): return "wrong type: \(why)"
            case let .unknownCriterion(name, known):
                return "unknown criterion \"\(name)\"; known: \(known.joined(separator: ", "))"
            case .invalidValue(let why): return why
            case .empty: return "must not be empty"
            case .duplicate(let why): return "duplicate: \(why)"
            }
        }
    }

    public init(file: String, path: String, reason: Reason) {
        self.file = file
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? "\(file): \(reason)" : "\(file): \(path): \(reason)"
    }
}

/// A problem found while decoding, before the file name is known.
struct ManifestFault: Error {
    var path: [CodingKey]
    var reason: ManifestError.Reason
}

/// Formats a coding path as `criteria[1].gamma`.
func jsonPath(_ path: [CodingKey]) -> String {
    var out = ""
    for key in path {
        if let index = key.intValue {
            out += "[\(index)]"
        } else {
            if !out.isEmpty { out += "." }
            out += key.stringValue
        }
    }
    return out
}

/// A coding key for any string or index, used to see every key an object has.
struct AnyKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string; intValue = nil }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// Throws on the first key (in sorted order, so the message is stable)
    /// that is not in `allowed`: a misspelt optional field must not be
    /// silently ignored and leave a default in force.
    func rejectUnknownKeys(allowed: [String]) throws {
        let container = try self.container(keyedBy: AnyKey.self)
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        if let first = unknown.first {
            throw ManifestFault(path: codingPath + [AnyKey(first)], reason: .unknownKey(allowed: allowed))
        }
    }
}
