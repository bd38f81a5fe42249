import Reports
import Pruning

// The criteria a manifest may name are `Pruning.CriterionRegistry`'s: each
// entry lists its parameters with ranges and defaults, and `SweepManifest`
// validates against them (filling in every default, so a run's config and
// hash list each parameter) before any training starts. Every criterion
// entry also accepts `scope`, `control` and `excludedLayers`; see
// `CriterionConfig`. This file adds what the manifest needs on top.

/// A criterion parameter's value as the manifest gives it.
public typealias ParameterValue = CriterionParameterValue

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
