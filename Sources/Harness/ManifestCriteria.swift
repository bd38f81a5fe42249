import Pruning

/// A criterion parameter's value as the manifest gives it (Pruning's type:
/// the criteria declare their parameters, the harness validates against them).
public typealias ParameterValue = CriterionParameterValue

/// One parameter a criterion accepts, with its allowed values and default.
public typealias ParameterDescriptor = CriterionParameter

extension CriterionParameterValue {
    var canonical: CanonicalJSON {
        switch self {
        case .number(let value): return .number(value)
        case .text(let text): return .string(text)
        }
    }
}

extension CriterionParameter {
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

/// The criteria a manifest may name: `Pruning.CriterionRegistry`, whose
/// entries list each criterion's parameters and defaults, so a manifest is
/// validated (and every default written into each run's config and hash)
/// before hours of training start. Every criterion entry also accepts
/// `scope` (`global` | `layerwise`), `control` (`none` | `reinit` |
/// `shuffle-mask`) and `excludedLayers`; see `CriterionConfig`.
public enum ManifestCriteria {
    /// The names, in registry order (for error messages).
    public static var names: [String] { CriterionRegistry.names }

    /// The registry entry called `name`, if any.
    public static func descriptor(named name: String) -> CriterionEntry? {
        CriterionRegistry.entry(named: name)
    }
}
