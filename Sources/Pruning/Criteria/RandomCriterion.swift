/// Uniform random scores from the run's mask seed: the baseline every
/// informed criterion must beat.
public struct RandomCriterion: PruningCriterion {
    public let name = "random"
    public let requirements: CriterionRequirements = []
    public init() {}

    public func scores(for state: PruningState, context: inout ScoringContext) throws -> [[Float]] {
        state.layers.map { layer in
            (0..<layer.count).map { _ in context.generator.nextUniform() }
        }
    }
}
