/// SynFlow (Tanaka et al. 2020, "Pruning neural networks without any data
/// by iteratively conserving synaptic flow"): the synaptic saliency
/// `|θ ⊙ ∂R/∂θ|` with `R = 1ᵀ(∏|W|)1`, the output sum of the network
/// linearised by taking the absolute value of every parameter (weights,
/// biases, batch-norm scales, shifts and running statistics) and fed an
/// all-ones input, batch norm in evaluation mode, as in the authors' code.
/// No data is used.
///
/// SynFlow is iterative: the experiment scores and prunes `iterations`
/// times (default 100) on the exponential schedule `d^(k/n)`, applying the
/// masks between steps (`pruningSteps`), which is what avoids layer collapse.
///
/// The scores are divided by `R` (the oracle returns `∂R/∂θ / R`): a positive
/// constant per step, so rankings are unchanged, and the scores stay finite
/// however deep the network. For a bias-free chain each layer's scores then
/// sum to 1 (the paper's conservation law).
public struct SynFlowCriterion: PruningCriterion {
    public let name = "synflow"
    public let requirements: CriterionRequirements = .gradientOracle
    public var iterations: Int

    /// What a manifest may set: the number of score-and-prune steps.
    public static let parameters: [CriterionParameter] = [
        .number("iterations", in: 1...1_000_000, integer: true, default: 100),
    ]

    /// From named values (defaults where absent).
    public init(parameters: CriterionParameters) throws {
        try self.init(iterations: parameters.number("iterations").map { Int($0) } ?? 100)
    }

    public init(iterations: Int = 100) throws {
        guard iterations >= 1 else {
            throw PruningError.invalidParameter(criterion: "synflow", "iterations must be ≥ 1, got \(iterations)")
        }
        self.iterations = iterations
    }

    public var pruningSteps: Int { iterations }

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        guard let oracle = context.oracle else {
            throw PruningError.missingInput(criterion: name, "needs the network's synaptic flow (a gradient oracle)")
        }
        let flow = try oracle.synapticFlowGradient()
        guard flow.count == state.layers.count else {
            throw PruningError.invalidAmount("oracle returned \(flow.count) tensors for \(state.layers.count) layers")
        }
        return zip(state.layers, flow).map { layer, f in
            (0..<layer.count).map { abs(layer.weights[$0] * f[$0]) }
        }
    }
}
