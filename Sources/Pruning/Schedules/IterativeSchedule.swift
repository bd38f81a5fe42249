/// The lottery-ticket schedule (Frankle & Carbin; the study's iterative
/// schedule with rate 0.5): train, remove `rate` of the remaining weights,
/// rewind the survivors to their values at iteration `rewindIteration`
/// (0: initialisation; k > 0 resumes at step k, Frankle et al. 2020), reset
/// the optimizer, repeat `rounds` times. Round 0 is the dense network.
public struct IterativeSchedule: ScheduleDefinition {
    public static let kind = "iterative"
    public static let parameters = [
        ScheduleParameter("rate", in: Double.leastNonzeroMagnitude...(1 - Double.ulpOfOne / 2), "(0, 1)"),
        ScheduleParameter("rounds", in: 1...10_000, "1...10000", integer: true),
        ScheduleParameter("rewindIteration", in: 0...1e15, "0 or more", integer: true, default: 0),
    ]

    public var rate: Double
    public var rounds: Int
    public var rewindIteration: Int

    public init(_ values: ScheduleValues) {
        rate = values["rate"]!
        rounds = Int(values["rounds"]!)
        rewindIteration = Int(values["rewindIteration"]!)
    }

    public var reportedRounds: ClosedRange<Int> { 0...rounds }

    public func requestedDensity(afterRound round: Int) -> Double {
        var density = 1.0
        for _ in 0..<max(round, 0) { density *= 1 - rate }
        return density
    }

    public func plannedEpochs(epochsPerRound: Int) -> Int { (rounds + 1) * epochsPerRound }

    public func problem(with criterion: PruningCriterion, epochsPerRound: Int) -> String? {
        criterion.pruningSteps > 1
            ? "\(criterion.name) prunes in \(criterion.pruningSteps) steps to a target density; use at-init or early-one-shot, not iterative rounds"
            : nil
    }

    public func run(_ experiment: PruningExperiment, resumingFrom checkpoint: ExperimentCheckpoint?) throws -> [RoundResult] {
        try experiment.runIterative(rate: rate, rounds: rounds, rewindIteration: rewindIteration, checkpoint: checkpoint)
    }
}
