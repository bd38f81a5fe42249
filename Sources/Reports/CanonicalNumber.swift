/// The one way a number is written in a hash input or a table cell.
///
/// The digits are the shortest ones that read back to the same `Double`
/// (Swift's `description`, which is exact and platform-independent), laid
/// out in plain positional notation: `0.5`, `0.0078125`, `1e-05` becomes
/// `0.00001`, `1e+20` becomes `100000000000000000000`. Integral values have no
/// fractional part (`1`, not `1.0`), and `-0` is written `0`, so the same value
/// always gives the same bytes. Spreadsheets read every form as a number.
///
/// ```swift
/// CanonicalNumber.format(0.25)   // "0.25"
/// CanonicalNumber.format(1.0)    // "1"
/// CanonicalNumber.parse("1e-3")  // 0.001
/// ```
public enum CanonicalNumber {
    /// The canonical text of a finite `value`; `nil` for NaN and infinities,
    /// which have no canonical spelling (tables leave such cells empty).
    public static func format(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }
        return positional(value.description)
    }

    /// Like `format(_:)` for a `Float`, using the shortest digits of the
    /// `Float` itself (so `Float(0.1)` is written `0.1`, not `0.10000000149`).
    public static func format(_ value: Float) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }
        return positional(value.description)
    }

    /// Reads a number written by `format` or any ordinary decimal or
    /// exponent notation; `nil` when `text` is not a finite number.
    public static func parse(_ text: String) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ "0123456789+-.eE".contains($0) }),
              let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Rewrites Swift's `[-]d[.ddd][e±XX]` as plain positional notation.
    private static func positional(_ text: String) -> String {
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa = mantissa.dropFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0])
        var integerDigits = digits.count
        if parts.count > 1 { digits += parts[1] }
        integerDigits += exponent
        // Normalise: no leading zeros in the digit string, no trailing zeros.
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            integerDigits -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        var result: String
        if integerDigits <= 0 {
            result = "0." + String(repeating: "0", count: -integerDigits) + digits
        } else if integerDigits >= digits.count {
            result = digits + String(repeating: "0", count: integerDigits - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: integerDigits)
            result = digits[..<split] + "." + digits[split...]
        }
        return negative ? "-" + result : result
    }
}
