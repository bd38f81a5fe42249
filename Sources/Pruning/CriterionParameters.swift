/// A criterion parameter's value, as a manifest gives it.
public enum CriterionParameterValue: Hashable, Sendable, Codable, CustomStringConvertible {
    case number(Double)
    case text(String)

    /// A bare JSON number or string, as in a manifest.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let text): try container.encode(text)
        }
    }

    public var description: String {
        switch self {
        case .number(let value): return "\(value)"
        case .text(let text): return "\"\(text)\""
        }
    }
}

/// One parameter a criterion accepts: its name, its allowed values and the
/// default a run uses when none is given. A criterion lists these beside
/// its code; the registry hands them to whoever validates a configuration
/// (the harness checks a manifest against them before any training).
public struct CriterionParameter: Sendable {
    public enum Domain: Sendable {
        /// A number in `range`; `integer` demands an integral value.
        case number(range: ClosedRange<Double>, integer: Bool)
        /// One of a fixed set of words.
        case choice([String])
    }

    public var name: String
    public var domain: Domain
    public var defaultValue: CriterionParameterValue

    public init(name: String, domain: Domain, defaultValue: CriterionParameterValue) {
        self.name = name
        self.domain = domain
        self.defaultValue = defaultValue
    }

    /// A number parameter in `range` (integral when `integer`).
    public static func number(_ name: String, in range: ClosedRange<Double>, integer: Bool = false,
                              default value: Double) -> CriterionParameter {
        CriterionParameter(name: name, domain: .number(range: range, integer: integer), defaultValue: .number(value))
    }

    /// A parameter that is one of `words`.
    public static func choice(_ name: String, _ words: [String], default word: String) -> CriterionParameter {
        CriterionParameter(name: name, domain: .choice(words), defaultValue: .text(word))
    }
}

/// The values a criterion is made with, by parameter name. A missing value
/// means the criterion's own default.
public struct CriterionParameters: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    public var values: [String: CriterionParameterValue]

    public init(_ values: [String: CriterionParameterValue] = [:]) {
        self.values = values
    }

    /// A plain JSON object of name → value.
    public init(from decoder: Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: CriterionParameterValue].self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    public init(dictionaryLiteral elements: (String, CriterionParameterValue)...) {
        self.init(Dictionary(uniqueKeysWithValues: elements))
    }

    /// The number given for `name`, if any.
    public func number(_ name: String) -> Double? {
        if case .number(let value)? = values[name] { return value }
        return nil
    }

    /// The word given for `name`, if any.
    public func text(_ name: String) -> String? {
        if case .text(let value)? = values[name] { return value }
        return nil
    }
}
