/// A criterion parameter's value as the manifest gives it.
public enum ParameterValue: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case text(String)

    public var description: String {
        switch self {
        case .number(let value): return CanonicalNumber.format(value) ?? "\(value)"
        case .text(let text): return "\"\(text)\""
        }
    }

    var canonical: CanonicalJSON {
        switch self {
        case .number(let value): return .number(value)
        case .text(let text): return .string(text)
        }
    }
}

/// One parameter a criterion accepts, with its allowed values and default.
public struct ParameterDescriptor: Sendable {
    public enum Domain: Sendable {
        /// A number in `range`; `integer` demands an integral value.
        case number(range: ClosedRange<Double>, integer: Bool)
        /// One of a fixed set of words.
        case choice([String])
    }

    public var name: String
    public var domain: Domain
    /// Filled in when the manifest omits the parameter, so a run's config
    /// (and hash) always lists every parameter explicitly.
    public var defaultValue: ParameterValue

    public init(name: String, domain: Domain, defaultValue: ParameterValue) {
        self.name = name
        self.domain = domain
        self.defaultValue = defaultValue
    }

    /// Why `value` is not allowed, or `nil` when it is.
    func problem(with value: ParameterValue) -> String? {
        switch (domain, value) {
        case let (.number(range, integer), .number(x)):
            if !range.contains(x) {
                let low = CanonicalNumber.format(range.lowerBound) ?? "-inf"
                let high = CanonicalNumber.format(range.upperBound) ?? "inf"
                return "\(x) is outside [\(low), \(high)]"
            }
            if integer && x.rounded() != x { return "\(x) is not an integer" }
            return nil
        case let (.choice(words), .text(word)):
            return words.contains(word) ? nil
                : "\"\(word)\" is not one of \(words.map { "\"\($0)\"" }.joined(separator: ", "))"
        case (.number, .text): return "expected a number"
        case (.choice, .number): return "expected a string"
        }
    }
}

/// A pruning criterion the harness knows by name.
public struct CriterionDescriptor: Sendable {
    public var name: String
    public var parameters: [ParameterDescriptor]

    public init(name: String, parameters: [ParameterDescriptor] = []) {
        self.name = name
        self.parameters = parameters
    }
}

/// The criteria a manifest may name, with their parameters and defaults.
/// `Pruning.CriterionRegistry` implements them under the same names; the
/// harness keeps its own list (it does not depend on `Pruning`) to validate a
/// manifest before hours of training start. Adding a criterion is one line
/// here and one there. Every criterion entry also accepts `scope`
/// (`global` | `layerwise`), `control` (`none` | `reinit` | `shuffle-mask`)
/// and `excludedLayers`; see `CriterionConfig`.
public enum ManifestCriteria {
    public static let known: [CriterionDescriptor] = [
        CriterionDescriptor(name: "random"),
        CriterionDescriptor(name: "magnitude"),
        CriterionDescriptor(name: "data-dependent", parameters: [
            // score = |w| · G^gamma; gamma 0 is plain magnitude.
            ParameterDescriptor(name: "gamma", domain: .number(range: 0...16, integer: false),
                                defaultValue: .number(1)),
            ParameterDescriptor(name: "accumulate", domain: .choice(["during-training", "end-of-round"]),
                                defaultValue: .text("during-training")),
            // end-of-round only: batches of the extra pass; 0 = the whole training set.
            ParameterDescriptor(name: "batches", domain: .number(range: 0...1_000_000, integer: true),
                                defaultValue: .number(0)),
        ]),
        CriterionDescriptor(name: "snip", parameters: [
            ParameterDescriptor(name: "batches", domain: .number(range: 1...1_000_000, integer: true),
                                defaultValue: .number(1)),
        ]),
        CriterionDescriptor(name: "large-init"),
        CriterionDescriptor(name: "movement"),
        CriterionDescriptor(name: "magnitude-increase"),
        CriterionDescriptor(name: "grasp", parameters: [
            ParameterDescriptor(name: "batches", domain: .number(range: 1...1_000_000, integer: true),
                                defaultValue: .number(1)),
        ]),
        CriterionDescriptor(name: "synflow", parameters: [
            ParameterDescriptor(name: "iterations", domain: .number(range: 1...1_000_000, integer: true),
                                defaultValue: .number(100)),
        ]),
    ]

    /// The names, in registry order (for error messages).
    public static var names: [String] { known.map(\.name) }

    /// The descriptor called `name`, if any.
    public static func descriptor(named name: String) -> CriterionDescriptor? {
        known.first { $0.name == name }
    }
}
