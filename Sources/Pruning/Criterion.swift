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
}

/// What a criterion needs beyond the weights.
public struct CriterionRequirements: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `G = Σ|∂L/∂w|` accumulated by the training loop over the round.
    public static let accumulatedGradients = CriterionRequirements(rawValue: 1 << 0)
    /// Gradients on scoring batches at the current weights (SNIP, GraSP, end-of-round G).
    public static let gradientOracle = CriterionRequirements(rawValue: 1 << 1)
}

/// Gradient computations a network provides for criteria that need them.
public protocol GradientOracle {
    /// Sum over `batches` scoring minibatches of `|∂L/∂w|` (absolute values
    /// taken per batch), at the current weights and masks, in layer order.
    func absoluteGradientSum(batches: Int) throws -> [[Float]]
    /// Mean gradient `∂L/∂w` over `batches` scoring minibatches.
    func meanGradient(batches: Int) throws -> [[Float]]
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
