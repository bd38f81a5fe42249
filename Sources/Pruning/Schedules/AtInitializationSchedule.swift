/// Score at initialisation, prune once to `density`, train (SNIP-style).
/// One run per density.
public struct AtInitializationSchedule: ScheduleDefinition {
    public static let kind = "at-init"
    public static let parameters = [
        ScheduleParameter("density", in: Double.leastNonzeroMagnitude...1, "(0, 1]", listKey: "densities"),
    ]

    public var density: Double

    public init(_ values: ScheduleValues) {
        density = values["density"]!
    }

    public var reportedRounds: ClosedRange<Int> { 1...1 }
    public func requestedDensity(afterRound round: Int) -> Double { round == 0 ? 1 : density }
    public func plannedEpochs(epochsPerRound: Int) -> Int { epochsPerRound }

    public func problem(with criterion: PruningCriterion, epochsPerRound: Int) -> String? {
        criterion.requirements.contains(.accumulatedGradients)
            ? "\(criterion.name): gradients accumulated during training do not exist at initialisation; use early-one-shot or iterative, or accumulate: end-of-round"
            : nil
    }

    public func run(_ experiment: PruningExperiment, resumingFrom checkpoint: ExperimentCheckpoint?) throws -> [RoundResult] {
        [try experiment.runOneShot(density: density, denseEpochs: 0)]
    }
}
