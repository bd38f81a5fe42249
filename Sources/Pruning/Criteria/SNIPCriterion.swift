/// SNIP (Lee et al. 2019): `|g ⊙ w|` at the current weights (usually the
/// initialisation), with `g` the mean gradient over `batches` minibatches.
public struct SNIPCriterion: PruningCriterion {
    public let name = "snip"
    public let requirements: CriterionRequirements = .gradientOracle
    public var batches: Int

    /// What a manifest may set: the number of scoring minibatches.
    public static let parameters: [CriterionParameter] = [
        .number("batches", in: 1...1_000_000, integer: true, default: 1),
    ]

    /// From named values (defaults where absent).
    public init(parameters: CriterionParameters) throws {
        try self.init(batches: parameters.number("batches").map { Int($0) } ?? 1)
    }

    public init(batches: Int = 1) throws {
        guard batches >= 1 else { throw PruningError.invalidParameter(criterion: "snip", "batches must be ≥ 1, got \(batches)") }
        self.batches = batches
    }

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        guard let oracle = context.oracle else {
            throw PruningError.missingInput(criterion: name, "needs a gradient oracle")
        }
        let gradients = try oracle.meanGradient(batches: batches)
        return zip(state.layers, gradients).map { layer, g in
            (0..<layer.count).map { abs(g[$0] * layer.weights[$0]) }
        }
    }
}
