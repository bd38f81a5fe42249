/// The study's "early one-shot": train densely for `denseEpochs` while
/// accumulating G, prune once to `density`, keep training without rewinding
/// to the end of the round's epochs. One run per density.
public struct EarlyOneShotSchedule: ScheduleDefinition {
    public static let kind = "early-one-shot"
    public static let parameters = [
        ScheduleParameter("denseEpochs", in: 1...1e9, "1 or more", integer: true),
        ScheduleParameter("density", in: Double.leastNonzeroMagnitude...1, "(0, 1]", listKey: "densities"),
    ]

    public var denseEpochs: Int
    public var density: Double

    public init(_ values: ScheduleValues) {
        denseEpochs = Int(values["denseEpochs"]!)
        density = values["density"]!
    }

    /// Only round 1: the dense phase is not a full training, and several
    /// target densities share it, so it has no row of its own.
    public var reportedRounds: ClosedRange<Int> { 1...1 }
    public func requestedDensity(afterRound round: Int) -> Double { round == 0 ? 1 : density }
    public func plannedEpochs(epochsPerRound: Int) -> Int { epochsPerRound }

    public func problem(with criterion: PruningCriterion, epochsPerRound: Int) -> String? {
        denseEpochs < epochsPerRound ? nil
            : "denseEpochs \(denseEpochs) must be less than the epochs of the run (\(epochsPerRound))"
    }

    public func run(_ experiment: PruningExperiment, resumingFrom checkpoint: ExperimentCheckpoint?) throws -> [RoundResult] {
        [try experiment.runOneShot(density: density, denseEpochs: denseEpochs)]
    }
}
