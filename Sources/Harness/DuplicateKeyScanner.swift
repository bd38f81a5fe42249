import Foundation
import Reports

/// Finds a key given twice in one JSON object. JSON decoders keep one of the
/// two values without a word (`"learningRate": 0.05, "learningRate": 5.0`),
/// so a manifest is scanned for this before it is decoded.
///
/// The scanner only walks the token structure; the document's syntax is
/// checked by the decoder afterwards, so on malformed input it simply stops.
enum DuplicateKeyScanner {
    struct Duplicate: Equatable {
        /// Dotted JSON path of the repeated key, e.g. `training.learningRate`.
        var path: String
        var key: String
    }

    private enum Container {
        case object(path: String, keys: Set<String>, pendingKey: String?)
        case array(path: String, index: Int)
    }

    static func firstDuplicate(in data: Data) -> Duplicate? {
        let bytes = [UInt8](data)
        var stack: [Container] = []
        var i = 0

        /// The path of the value about to start inside the innermost container.
        func childPath() -> String {
            switch stack.last {
            case let .object(path, _, key)?:
                let key = key ?? ""
                return path.isEmpty ? key : path + "." + key
            case let .array(path, index)?:
                return path + "[\(index)]"
            case nil:
                return ""
            }
        }

        func readString() -> String? {
            // bytes[i] is the opening quote.
            var scalars = String.UnicodeScalarView()
            var utf8: [UInt8] = []
            i += 1
            func flush() {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll()
            }
            while i < bytes.count {
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") {
                    i += 1
                    flush()
                    return String(scalars)
                }
                if byte == UInt8(ascii: "\\"), i + 1 < bytes.count {
                    flush()
                    let escape = bytes[i + 1]
                    i += 2
                    switch escape {
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{C}")
                    case UInt8(ascii: "u"):
                        guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
                        else { return nil }
                        i += 4
                        // Surrogate halves stay as they are: keys compare equal only if spelt alike.
                        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: scalars.append(Unicode.Scalar(escape))
                    }
                    continue
                }
                utf8.append(byte)
                i += 1
            }
            return nil
        }

        /// A value has ended inside the innermost container.
        func valueEnded() {
            if case let .object(path, keys, _)? = stack.last {
                stack[stack.count - 1] = .object(path: path, keys: keys, pendingKey: nil)
            }
        }

        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(.object(path: childPath(), keys: [], pendingKey: nil))
                i += 1
            case UInt8(ascii: "["):
                stack.append(.array(path: childPath(), index: 0))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
                valueEnded()
                i += 1
            case UInt8(ascii: ","):
                if case let .array(path, index)? = stack.last { stack[stack.count - 1] = .array(path: path, index: index + 1) }
                i += 1
            case UInt8(ascii: "\""):
                guard let text = readString() else { return nil }
                if case let .object(path, keys, pendingKey)? = stack.last, pendingKey == nil {
                    // A string where a key is expected is the key.
                    if keys.contains(text) {
                        return Duplicate(path: path.isEmpty ? text : path + "." + text, key: text)
                    }
                    stack[stack.count - 1] = .object(path: path, keys: keys.union([text]), pendingKey: text)
                } else {
                    valueEnded()
                }
            case UInt8(ascii: ":"):
                i += 1
            default:
                // Numbers, literals and white space: a scalar value ends at the next delimiter.
                let isDelimiter: (UInt8) -> Bool = { Array("{}[],:".utf8).contains($0) }
                let start = i
                while i < bytes.count, !isDelimiter(bytes[i]), bytes[i] != UInt8(ascii: "\"") { i += 1 }
                let token = bytes[start..<i].filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
                if !token.isEmpty { valueEnded() }
            }
        }
        return nil
    }
}
