import Randomness

/// A pruning criterion: a pure function from the network's state to one
/// score per prunable weight. Higher scores are kept; the selector decides
/// how many. Criteria know nothing of training, schedules or masks'
/// history: that split keeps comparisons between criteria fair.
public protocol PruningCriterion: Sendable {
    /// The registry name, e.g. `magnitude`.
    var name: String { get }
    /// What the run must provide before `scores` can be called.
    var requirements: CriterionRequirements { get }
    /// One score per weight of each layer, in the layers' order.
    func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]]
    /// How many score-and-select steps reach a target density (1 for every
    /// single-shot criterion). A criterion with `n > 1` (SynFlow) is scored
    /// `n` times by the experiment, which prunes to `d^(k/n)` after step `k`
    /// and applies the masks before the next score: the exponential schedule
    /// of Tanaka et al. The criterion itself still only scores.
    var pruningSteps: Int { get }
}

extension PruningCriterion {
    public var pruningSteps: Int { 1 }
}

/// What a criterion needs beyond the weights.
public struct CriterionRequirements: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `G = Σ|∂L/∂w|` accumulated by the training loop over the round.
    public static let accumulatedGradients = CriterionRequirements(rawValue: 1 << 0)
    /// Gradients on scoring batches at the current weights (SNIP, GraSP, end-of-round G),
    /// or the data-free synaptic flow (SynFlow).
    public static let gradientOracle = CriterionRequirements(rawValue: 1 << 1)
}

/// Gradient computations a network provides for criteria that need them.
public protocol GradientOracle {
    /// Sum over `batches` scoring minibatches of `|∂L/∂w|` (absolute values
    /// taken per batch), at the current weights and masks, in layer order.
    func absoluteGradientSum(batches: Int) throws -> [[Float]]
    /// Mean gradient `∂L/∂w` over `batches` scoring minibatches.
    func meanGradient(batches: Int) throws -> [[Float]]
    /// GraSP's Hessian-gradient product `Hg` restricted to the prunable
    /// weights, where `g = Σ_b ∇L_b` and `Hg = Σ_b ∇²L_b · g` over `batches`
    /// scoring minibatches, `L_b` being the cross-entropy of the logits
    /// divided by `temperature`. Masked entries are zero.
    func hessianGradientProduct(batches: Int, temperature: Float) throws -> [[Float]]
    /// SynFlow's data-free saliency gradient `∂R/∂w / R` at the current masks,
    /// where `R = 1ᵀ(∏|W|)1` is the output sum of the network with every
    /// parameter replaced by its absolute value and an all-ones input.
    /// Divided by `R` so it is finite for any depth (ranks are unchanged).
    func synapticFlowGradient() throws -> [[Float]]
}

/// Everything a criterion may draw on besides the state: its own seeded
/// randomness and, when the run provides one, a gradient oracle.
public struct ScoringContext {
    /// The mask-randomness generator (recorded seed), used by `random`.
    public var generator: SeededGenerator
    public var oracle: GradientOracle?

    public init(maskSeed: UInt64, oracle: GradientOracle? = nil) {
        self.generator = SeededGenerator(seed: maskSeed, stream: 0x6D61_736B)  // "mask"
        self.oracle = oracle
    }
}

/// Applies `body` to each weight of each layer, producing scores.
func elementwiseScores(_ state: PruningState, _ body: (_ layer: PrunableLayer, _ index: Int) -> Float) -> [[Float]] {
    state.layers.map { layer in
        (0..<layer.count).map { body(layer, $0) }
    }
}
