/// GraSP (Wang et al. 2020, "Picking winning tickets before training by
/// preserving gradient flow"): score `θ ⊙ Hg` at the current weights
/// (usually the initialisation), with `g` the gradient of the loss on
/// `batches` scoring minibatches and `H` the Hessian of that loss over the
/// prunable weights.
///
/// Sign convention. The paper scores `S(−θ) = −θ ⊙ Hg`, the first-order
/// change of the gradient norm `½‖g‖²` when a weight is removed, and removes
/// the weights with the *highest* S: their removal reduces gradient flow
/// least (or increases it). Our selector keeps the highest scores, so this
/// criterion returns `−S = θ ⊙ Hg`: a high score is a weight whose removal
/// would cut gradient flow most. Scores are signed; do not take |·|.
/// (The SynFlow authors' re-implementation returns `Hg ⊙ θ` for the same reason.)
///
/// Temperature: the logits are divided by `temperature` (T = 200 in the
/// paper's code) before the cross-entropy, for `g` and `Hg` alike. The paper's
/// per-class balanced sampling of the scoring batch and its normalisation of
/// the scores by `|ΣS|` are not reproduced: the batches are the run's
/// seeded scoring batches, and a positive normalisation does not change the ranking.
///
/// The Hessian-vector product comes from the oracle; the network's oracle
/// uses central finite differences of gradients (see `NetworkGradientOracle`).
public struct GraSPCriterion: PruningCriterion {
    public let name = "grasp"
    public let requirements: CriterionRequirements = .gradientOracle
    public var batches: Int
    public var temperature: Float

    /// The paper's temperature.
    public static let defaultTemperature: Float = 200

    /// What a manifest may set: the number of scoring minibatches.
    public static let parameters: [CriterionParameter] = [
        .number("batches", in: 1...1_000_000, integer: true, default: 1),
    ]

    /// From named values (defaults where absent).
    public init(parameters: CriterionParameters) throws {
        try self.init(batches: parameters.number("batches").map { Int($0) } ?? 1)
    }

    public init(batches: Int = 1, temperature: Float = GraSPCriterion.defaultTemperature) throws {
        guard batches >= 1 else { throw PruningError.invalidParameter(criterion: "grasp", "batches must be ≥ 1, got \(batches)") }
        guard temperature.isFinite, temperature > 0 else {
            throw PruningError.invalidParameter(criterion: "grasp", "temperature must be a finite number > 0, got \(temperature)")
        }
        self.batches = batches
        self.temperature = temperature
    }

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        guard let oracle = context.oracle else {
            throw PruningError.missingInput(criterion: name, "needs a gradient oracle (Hessian-gradient product)")
        }
        let hg = try oracle.hessianGradientProduct(batches: batches, temperature: temperature)
        guard hg.count == state.layers.count else {
            throw PruningError.invalidAmount("oracle returned \(hg.count) tensors for \(state.layers.count) layers")
        }
        return zip(state.layers, hg).map { layer, h in
            // Pruned weights score exactly 0 (θ = 0); the selector never revives them anyway.
            (0..<layer.count).map { layer.weights[$0] * h[$0] }
        }
    }
}
