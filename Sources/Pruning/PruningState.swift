/// One prunable weight tensor as the pruning criteria see it: flat arrays
/// in the tensor's storage order.
public struct PrunableLayer: Sendable {
    /// Stable layer name, e.g. `fc1.weight`; used for exclusion and reports.
    public var name: String
    /// Whether this is the network's output layer (Frankle & Carbin prune it at a lower rate).
    public var isOutput: Bool
    /// Weights at the end of the round, `w_T`.
    public var weights: [Float]
    /// Weights at the rewind point (initialisation, or iteration k), `w_0`.
    public var initialWeights: [Float]
    /// `true` where the weight is still alive.
    public var mask: [Bool]
    /// `G = Σ |∂L/∂w|` over the minibatches of the round, when collected.
    public var accumulatedGradient: [Float]?

    public init(name: String, isOutput: Bool = false, weights: [Float], initialWeights: [Float]? = nil,
                mask: [Bool]? = nil, accumulatedGradient: [Float]? = nil) {
        self.name = name
        self.isOutput = isOutput
        self.weights = weights
        self.initialWeights = initialWeights ?? weights
        self.mask = mask ?? [Bool](repeating: true, count: weights.count)
        self.accumulatedGradient = accumulatedGradient
        precondition(self.initialWeights.count == weights.count && self.mask.count == weights.count,
                     "layer \(name): weights, initial weights and mask differ in length")
        precondition(accumulatedGradient.map { $0.count == weights.count } ?? true,
                     "layer \(name): accumulated gradient has the wrong length")
    }

    public var count: Int { weights.count }
    public var remaining: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// The network's prunable state at the moment of pruning.
public struct PruningState: Sendable {
    public var layers: [PrunableLayer]

    public init(layers: [PrunableLayer]) {
        self.layers = layers
    }

    public var masks: [[Bool]] { layers.map(\.mask) }
    public var totalWeights: Int { layers.reduce(0) { $0 + $1.count } }
    public var remainingWeights: Int { layers.reduce(0) { $0 + $1.remaining } }
    /// Fraction of prunable weights still alive.
    public var density: Double { totalWeights == 0 ? 1 : Double(remainingWeights) / Double(totalWeights) }
}
