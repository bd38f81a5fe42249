import Datasets
import Networks
import Randomness

/// The controls that ask whether a ticket is a winning one.
public enum TicketControl: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    /// Train the ticket's mask from a fresh random initialisation.
    case reinit
    /// Train a per-layer permutation of the ticket's mask from the ticket's initialisation.
    case shuffleMask = "shuffle-mask"
}

/// The separately recorded seeds of one run, and the one rule that turns
/// them into every generator a run uses.
///
/// Each purpose has its own seed, so that two criteria at the same run seed
/// start from the same weights and see the same data order while their random
/// masks stay independent of the data order. A generator is keyed by
/// (purpose seed, purpose, round) through `SeededGenerator.derivedSeed`, so no
/// two (run, purpose, round) share a stream: run s at round r + 1 draws
/// nothing that run s + 1 draws at round r.
public struct RunSeeds: Sendable, Hashable, Codable {
    /// The seed a manifest lists (the tables' `seed` column).
    public var run: UInt64
    /// Weight initialisation.
    public var initialization: UInt64
    /// Minibatch order.
    public var dataOrder: UInt64
    /// Mask randomness (the `random` criterion, `shuffle-mask`, `reinit`'s fresh weights).
    public var mask: UInt64
    /// Which batches score SNIP / end-of-round G.
    public var scoring: UInt64

    public init(run: UInt64, initialization: UInt64, dataOrder: UInt64, mask: UInt64, scoring: UInt64) {
        self.run = run
        self.initialization = initialization
        self.dataOrder = dataOrder
        self.mask = mask
        self.scoring = scoring
    }

    /// Every purpose seeded by the run seed itself (the usual case in a
    /// sweep): the purposes still get unrelated streams from `seed(for:round:)`.
    public init(runSeed: UInt64) {
        self.init(run: runSeed, initialization: runSeed, dataOrder: runSeed, mask: runSeed, scoring: runSeed)
    }

    /// What a generator is for; the raw value keys its stream.
    public enum Purpose: UInt64, Sendable, CaseIterable {
        case initialization = 1
        case dataOrder = 2
        /// The `random` criterion's scores.
        case mask = 3
        /// Scoring minibatches (SNIP, GraSP, end-of-round G).
        case scoring = 4
        /// `reinit`'s fresh weights.
        case reinitialization = 5
        /// `shuffle-mask`'s permutations.
        case maskShuffle = 6
    }

    /// The seed of `purpose` in `round` (0 for what does not change between
    /// rounds: initialisation and data order, which every round replays).
    public func seed(for purpose: Purpose, round: Int = 0) -> UInt64 {
        let base: UInt64
        switch purpose {
        case .initialization: base = initialization
        case .dataOrder: base = dataOrder
        case .mask, .reinitialization, .maskShuffle: base = mask
        case .scoring: base = scoring
        }
        return SeededGenerator.derivedSeed(SeededGenerator.derivedSeed(base, stream: purpose.rawValue),
                                           stream: UInt64(round))
    }
}

/// Which data a run uses and how its pixels become inputs.
public struct DataSpecification: Sendable, Hashable, Codable {
    /// The catalogue name, e.g. `mnist`.
    public var dataset: String
    /// Only the first this-many training examples (`nil`: all).
    public var trainExamples: Int?
    public var normalization: InputNormalization
    /// The data as used (after `trainExamples`); `nil` only where no data
    /// has been resolved yet. Part of the run's hash.
    public var fingerprint: DataFingerprint?

    public init(dataset: String, trainExamples: Int? = nil, normalization: InputNormalization = .standardized,
                fingerprint: DataFingerprint? = nil) {
        self.dataset = dataset
        self.trainExamples = trainExamples
        self.normalization = normalization
        self.fingerprint = fingerprint
    }

    /// `pair` cut to `trainExamples`.
    public func prepare(_ pair: DatasetPair) -> DatasetPair {
        var pair = pair
        if let trainExamples { pair.train = pair.train.prefix(trainExamples) }
        return pair
    }
}

/// Everything that determines one pruning run, every default filled in:
/// the one configuration a run is hashed by, stored as, and executed from.
public struct ExperimentConfiguration: Sendable, Hashable, Codable {
    public var model: String
    /// The weight initialiser (the model's own default unless chosen).
    public var initializer: Initializer
    public var data: DataSpecification
    public var criterion: String
    /// Every parameter the criterion declares, defaults included.
    public var criterionParameters: CriterionParameters
    public var schedule: PruningSchedule
    public var scope: PruningScope
    /// Layers never pruned, by tensor name (e.g. `fc3.weight`).
    public var excludedLayers: [String]
    public var control: TicketControl
    /// Per round (iterative) or for the whole run (one-shot schedules). Its
    /// `dataSeed` is always the data-order stream of `seeds`.
    public private(set) var training: TrainingConfiguration
    public private(set) var seeds: RunSeeds

    /// `initializer` defaults to the model's own; criterion parameters not
    /// given take the criterion's declared defaults (unknown criteria and
    /// models are reported by `validated()`).
    public init(model: String, initializer: Initializer? = nil, data: DataSpecification, criterion: String,
                criterionParameters: CriterionParameters = .init(), schedule: PruningSchedule,
                scope: PruningScope = .global, excludedLayers: [String] = [], control: TicketControl = .none,
                training: TrainingConfiguration, seeds: RunSeeds) {
        self.model = model
        self.initializer = initializer ?? ModelRegistry.descriptor(named: model)?.defaultInitializer ?? .kaimingNormal
        self.data = data
        self.criterion = criterion
        var parameters = criterionParameters
        for parameter in CriterionRegistry.entry(named: criterion)?.parameters ?? [] where parameters.values[parameter.name] == nil {
            parameters.values[parameter.name] = parameter.defaultValue
        }
        self.criterionParameters = parameters
        self.schedule = schedule
        self.scope = scope
        self.excludedLayers = excludedLayers
        self.control = control
        self.seeds = seeds
        self.training = training
        self.training.dataSeed = seeds.seed(for: .dataOrder)
    }

    /// The same run with other seeds (the data-order seed follows).
    public func withSeeds(_ seeds: RunSeeds) -> ExperimentConfiguration {
        var copy = self
        copy.seeds = seeds
        copy.training.dataSeed = seeds.seed(for: .dataOrder)
        return copy
    }

    /// The same run with another number of epochs per round.
    public func withEpochs(_ epochs: Int) -> ExperimentConfiguration {
        var copy = self
        copy.training.epochs = epochs
        return copy
    }

    /// Checks what can be checked without data: the criterion exists and
    /// takes these parameters and can run under the schedule, the model
    /// exists. Returns `self`.
    public func validated() throws -> ExperimentConfiguration {
        let made = try CriterionRegistry.make(criterion, parameters: criterionParameters)
        try PruningExperiment.checkCompatibility(of: made, with: schedule, epochsPerRound: training.epochs)
        guard ModelRegistry.descriptor(named: model) != nil else {
            throw PruningError.invalidParameter(criterion: criterion, "unknown model '\(model)' (known: \(ModelRegistry.names.joined(separator: ", ")))")
        }
        return self
    }
}
