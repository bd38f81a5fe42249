/// Zhou et al.'s `large_init`: `|w_0|`, the magnitude at the rewind point.
public struct LargeInitCriterion: PruningCriterion {
    public let name = "large-init"
    public let requirements: CriterionRequirements = []
    public init() {}

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        elementwiseScores(state) { layer, i in abs(layer.initialWeights[i]) }
    }
}

/// Zhou et al.'s `movement`: `|w_T − w_0|`, how far training moved a weight.
public struct MovementCriterion: PruningCriterion {
    public let name = "movement"
    public let requirements: CriterionRequirements = []
    public init() {}

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        elementwiseScores(state) { layer, i in abs(layer.weights[i] - layer.initialWeights[i]) }
    }
}

/// Zhou et al.'s `magnitude_increase`: `|w_T| − |w_0|` (negative when a weight shrank).
public struct MagnitudeIncreaseCriterion: PruningCriterion {
    public let name = "magnitude-increase"
    public let requirements: CriterionRequirements = []
    public init() {}

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        elementwiseScores(state) { layer, i in abs(layer.weights[i]) - abs(layer.initialWeights[i]) }
    }
}
