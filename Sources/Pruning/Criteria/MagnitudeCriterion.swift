/// `|w_T|`: the weights' magnitude at the end of the round (Frankle &
/// Carbin's lottery tickets; Zhou et al.'s `large_final`).
public struct MagnitudeCriterion: PruningCriterion {
    public let name = "magnitude"
    public let requirements: CriterionRequirements = []
    public init() {}

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        elementwiseScores(state) { layer, i in abs(layer.weights[i]) }
    }
}
