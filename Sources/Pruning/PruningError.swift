/// Why pruning could not proceed.
public enum PruningError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknownCriterion(String, known: [String])
    case invalidParameter(criterion: String, String)
    case missingInput(criterion: String, String)
    case invalidAmount(String)
    case unknownLayer(String, known: [String])
    case scoresShapeMismatch(layer: String, expected: Int, actual: Int)
    case numericalFailure(criterion: String, String)

    public var description: String {
        switch self {
        case let .unknownCriterion(name, known):
            return "unknown pruning criterion '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .invalidParameter(criterion, why): return "criterion \(criterion): \(why)"
        case let .missingInput(criterion, why): return "criterion \(criterion) cannot score: \(why)"
        case .invalidAmount(let why): return "invalid pruning amount: \(why)"
        case let .unknownLayer(name, known): return "unknown layer '\(name)' (layers: \(known.joined(separator: ", ")))"
        case let .scoresShapeMismatch(layer, expected, actual):
            return "scores for layer \(layer) have \(actual) entries, expected \(expected)"
        case let .numericalFailure(criterion, why): return "criterion \(criterion): \(why)"
        }
    }
}
