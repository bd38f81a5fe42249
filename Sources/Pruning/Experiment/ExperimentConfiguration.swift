import Networks

/// When and how often a run prunes.
public enum PruningSchedule: Sendable, Hashable, Codable {
    /// Train, prune `rate` of the remaining weights, rewind the survivors to
    /// their values at iteration `rewindIteration` (0: initialisation), reset
    /// the optimizer, repeat `rounds` times (Frankle & Carbin; the study's
    /// iterative schedule with rate 0.5). Round 0 is the dense network.
    case iterative(rate: Double, rounds: Int, rewindIteration: Int)
    /// Train densely for `denseEpochs` while accumulating G, prune once to
    /// `density`, keep training without rewinding to the end of the budget
    /// (the study's "early one-shot").
    case earlyOneShot(denseEpochs: Int, density: Double)
    /// Score at initialisation, prune once to `density`, train (SNIP-style).
    case atInitialization(density: Double)

    public var name: String {
        switch self {
        case .iterative: return "iterative"
        case .earlyOneShot: return "early-one-shot"
        case .atInitialization: return "at-init"
        }
    }
}

/// The controls that ask whether a ticket is a winning one.
public enum TicketControl: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    /// Train the ticket's mask from a fresh random initialisation.
    case reinit
    /// Train a per-layer permutation of the ticket's mask from the ticket's initialisation.
    case shuffleMask = "shuffle-mask"
}

/// The separately recorded seeds of one run.
public struct RunSeeds: Sendable, Hashable, Codable {
    /// Weight initialisation.
    public var initialization: UInt64
    /// Minibatch order.
    public var dataOrder: UInt64
    /// Mask randomness (the `random` criterion, `shuffle-mask`, `reinit`'s fresh weights).
    public var mask: UInt64
    /// Which batches score SNIP / end-of-round G.
    public var scoring: UInt64

    public init(initialization: UInt64, dataOrder: UInt64, mask: UInt64, scoring: UInt64) {
        self.initialization = initialization
        self.dataOrder = dataOrder
        self.mask = mask
        self.scoring = scoring
    }

    /// Distinct seeds derived from one run seed (the usual case in a sweep).
    public init(runSeed: UInt64) {
        self.init(initialization: runSeed, dataOrder: runSeed &+ 1_000_003,
                  mask: runSeed &+ 2_000_003, scoring: runSeed &+ 3_000_017)
    }
}

/// Everything that determines one pruning run, apart from the data.
public struct ExperimentConfiguration: Sendable, Hashable, Codable {
    public var model: String
    public var criterion: String
    public var criterionParameters: CriterionParameters
    public var schedule: PruningSchedule
    public var scope: PruningScope
    /// Layers never pruned, by tensor name (e.g. `fc3.weight`).
    public var excludedLayers: [String]
    public var control: TicketControl
    /// Per round (iterative) or for the whole run (one-shot schedules).
    public var training: TrainingConfiguration
    public var seeds: RunSeeds

    public init(model: String, criterion: String, criterionParameters: CriterionParameters = .init(),
                schedule: PruningSchedule, scope: PruningScope = .global, excludedLayers: [String] = [],
                control: TicketControl = .none, training: TrainingConfiguration, seeds: RunSeeds) {
        self.model = model
        self.criterion = criterion
        self.criterionParameters = criterionParameters
        self.schedule = schedule
        self.scope = scope
        self.excludedLayers = excludedLayers
        self.control = control
        self.training = training
        self.seeds = seeds
    }

    /// Checks what can be checked without data: the criterion exists and
    /// takes these parameters and can run under the schedule, the model
    /// exists. Returns `self`.
    public func validated() throws -> ExperimentConfiguration {
        let made = try CriterionRegistry.make(criterion, parameters: criterionParameters)
        try PruningExperiment.checkCompatibility(of: made, with: schedule)
        guard ModelRegistry.descriptor(named: model) != nil else {
            throw PruningError.invalidParameter(criterion: criterion, "unknown model '\(model)' (known: \(ModelRegistry.names.joined(separator: ", ")))")
        }
        return self
    }
}
