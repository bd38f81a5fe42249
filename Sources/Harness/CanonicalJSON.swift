import Foundation
import Reports

/// A JSON value with exactly one serialization: object keys sorted by their
/// UTF-8 bytes, no whitespace, numbers in `CanonicalNumber` form, strings with
/// only the escapes JSON requires. Its bytes are what a run's hash is taken of,
/// so they must not depend on dictionary order, locale or Foundation version
/// (which is why this is not `JSONEncoder`).
public enum CanonicalJSON: Hashable, Sendable {
    case object([String: CanonicalJSON])
    case array([CanonicalJSON])
    case string(String)
    /// A finite number; `serialized()` traps on NaN or infinity.
    case number(Double)
    /// An integer outside the exactly-representable `Double` range, e.g. a seed.
    case unsigned(UInt64)
    case bool(Bool)
    case null

    /// The canonical text.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .object(let members):
            out += "{"
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (i, key) in keys.enumerated() {
                if i > 0 { out += "," }
                CanonicalJSON.writeString(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .string(let text):
            CanonicalJSON.writeString(text, to: &out)
        case .number(let value):
            guard let text = CanonicalNumber.format(value) else {
                preconditionFailure("non-finite number \(value) in canonical JSON")
            }
            out += text
        case .unsigned(let value):
            out += String(value)
        case .bool(let value):
            out += value ? "true" : "false"
        case .null:
            out += "null"
        }
    }

    private static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension CanonicalJSON: Decodable {
    /// Reads any JSON value. Integers that fit `UInt64` stay exact (seeds);
    /// other numbers become `Double`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([CanonicalJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: CanonicalJSON].self))
        }
    }

    /// The canonical form of `value`'s own `Encodable` encoding: every
    /// field the type encodes is in it, so nothing can be left out by hand.
    public init<T: Encodable>(encoding value: T) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(CanonicalJSON.self, from: data)
    }
}
