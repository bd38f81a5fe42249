/// The version of the numerical code, part of every run's hash. Bump it when
/// a change to training, initialisation or pruning can change any number a
/// run produces: old results then no longer count as done.
/// numerics-2: convolutions sum their weight gradient per group of examples
/// (layers under 16×16 outputs), not per example.
public let numericsVersion = "numerics-2"

/// A criterion with every parameter resolved (defaults filled in).
public struct CriterionConfig: Hashable, Sendable {
    /// The name shown in tables; the registry name unless the manifest gave
    /// a `label` (needed when one criterion appears with two parameter sets).
    public var label: String
    /// The registry name, e.g. `"data-dependent"`.
    public var name: String
    /// Every parameter the registry lists for `name`.
    public var parameters: [String: ParameterValue]
    public var scope: Scope
    /// A ticket control run instead of the ticket itself.
    public var control: Control
    /// Tensors never pruned, by name (e.g. `fc3.weight`).
    public var excludedLayers: [String]

    /// Where the pruning threshold applies (raw values as `Pruning.PruningScope`).
    public enum Scope: String, Hashable, Sendable, CaseIterable {
        /// One threshold over all eligible weights (the study's choice).
        case global
        case layerwise
    }

    /// Controls that test whether a ticket wins (raw values as `Pruning.TicketControl`).
    public enum Control: String, Hashable, Sendable, CaseIterable {
        case none
        /// The ticket's mask trained from a fresh initialisation.
        case reinit
        /// A per-layer permutation of the mask trained from the ticket's initialisation.
        case shuffleMask = "shuffle-mask"
    }

    public init(label: String, name: String, parameters: [String: ParameterValue], scope: Scope = .global,
                control: Control = .none, excludedLayers: [String] = []) {
        self.label = label
        self.name = name
        self.parameters = parameters
        self.scope = scope
        self.control = control
        self.excludedLayers = excludedLayers
    }
}

/// How one run prunes and trains.
public enum Schedule: Hashable, Sendable {
    /// Train, remove `rate` of the remaining weights, rewind the survivors to
    /// their values at `rewindIteration`, repeat: rounds 0 (dense) ... `rounds`.
    case iterative(rate: Double, rounds: Int, rewindIteration: Int)
    /// Train densely for `denseEpochs`, prune once to `density`, keep training
    /// (no rewind) to the end of the round's epochs.
    case earlyOneShot(denseEpochs: Int, density: Double)
    /// Prune to `density` at initialisation, then train.
    case atInit(density: Double)

    /// The manifest's word for this kind of schedule.
    public var kindName: String {
        switch self {
        case .iterative: return "iterative"
        case .earlyOneShot: return "early-one-shot"
        case .atInit: return "at-init"
        }
    }

    /// The rounds a run reports: 0...rounds for iterative, only 1 for the
    /// one-shot schedules (their dense phase is not a full training, and
    /// several target densities share it, so it has no row of its own).
    public var reportedRounds: ClosedRange<Int> {
        switch self {
        case .iterative(_, let rounds, _): return 0...rounds
        case .earlyOneShot, .atInit: return 1...1
        }
    }

    /// The density requested after `round` rounds of pruning. Everyone who
    /// needs it (executor, tables) calls this, so the value is bit-identical.
    public func requestedDensity(afterRound round: Int) -> Double {
        switch self {
        case .iterative(let rate, _, _):
            var density = 1.0
            for _ in 0..<max(round, 0) { density *= 1 - rate }
            return density
        case .earlyOneShot(_, let density), .atInit(let density):
            return round == 0 ? 1 : density
        }
    }
}

/// A schedule with the name it has in tables.
public struct ScheduleConfig: Hashable, Sendable {
    /// The kind name unless the manifest gave a `label`.
    public var label: String
    public var schedule: Schedule

    public init(label: String, schedule: Schedule) {
        self.label = label
        self.schedule = schedule
    }
}

/// The separately recorded seeds of one run. Each purpose has its own seed so
/// that, e.g., two criteria at the same run seed start from the same weights
/// and see the same data order, while their random masks stay independent of
/// the data order.
public struct SeedSet: Hashable, Sendable {
    /// The seed the manifest lists (the `seed` column of the tables).
    public var run: UInt64
    public var initialization: UInt64
    public var dataOrder: UInt64
    public var mask: UInt64
    public var scoring: UInt64

    public init(run: UInt64, initialization: UInt64, dataOrder: UInt64, mask: UInt64, scoring: UInt64) {
        self.run = run
        self.initialization = initialization
        self.dataOrder = dataOrder
        self.mask = mask
        self.scoring = scoring
    }

    /// The seeds derived from `run` when the manifest does not give them,
    /// by the same rule as `Pruning.RunSeeds(runSeed:)` so a sweep and a
    /// single experiment with the same run seed agree: initialization = run,
    /// data order = run + 1000003, mask = run + 2000003, scoring = run + 3000017
    /// (wrapping). The generators hash their seeds (splitmix64), so nearby
    /// seeds still give unrelated streams.
    public static func derived(fromRun run: UInt64) -> SeedSet {
        SeedSet(run: run, initialization: run, dataOrder: run &+ 1_000_003,
                mask: run &+ 2_000_003, scoring: run &+ 3_000_017)
    }
}

/// Training hyperparameters shared by every run of a manifest.
public struct TrainingConfig: Hashable, Sendable {
    public enum Optimizer: String, Hashable, Sendable, CaseIterable {
        case sgd, adam
    }

    public var optimizer: Optimizer
    public var learningRate: Double
    /// SGD momentum (ignored by Adam); 0 when not given.
    public var momentum: Double
    /// SGD: Nesterov momentum; false when not given.
    public var nesterov: Bool
    /// L2 weight decay; 0 when not given.
    public var weightDecay: Double
    public var batchSize: Int
    /// Epochs of one training round. An early-one-shot run trains this many
    /// epochs in total, the first `denseEpochs` of them dense.
    public var epochsPerRound: Int
    /// Epochs (counted from the start of a round) after which the learning
    /// rate is multiplied by `learningRateDrop`.
    public var milestones: [Int]
    public var learningRateDrop: Double
    /// Use only the first this-many training examples (`nil`: all), for
    /// quick manifests such as the CI one.
    public var trainExamples: Int?

    public init(optimizer: Optimizer, learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0,
                batchSize: Int, epochsPerRound: Int, milestones: [Int] = [], learningRateDrop: Double = 0.1,
                trainExamples: Int? = nil) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.batchSize = batchSize
        self.epochsPerRound = epochsPerRound
        self.milestones = milestones
        self.learningRateDrop = learningRateDrop
        self.trainExamples = trainExamples
    }
}

/// Everything that determines the numbers one run produces. Its `hash` names
/// the run's directory: equal configs share it, any change gives a new one.
///
/// ```swift
/// let runs = try SweepManifest.load(from: url).expand()
/// print(runs[0].hash)   // 16 hex digits, e.g. "3f2a..."
/// ```
public struct RunConfig: Hashable, Sendable {
    public var model: String
    public var dataset: String
    public var criterion: CriterionConfig
    public var schedule: ScheduleConfig
    public var seeds: SeedSet
    public var training: TrainingConfig
    /// `Harness.numericsVersion` when the run was expanded.
    public var numericsVersion: String

    public init(model: String, dataset: String, criterion: CriterionConfig, schedule: ScheduleConfig,
                seeds: SeedSet, training: TrainingConfig, numericsVersion: String = Harness.numericsVersion) {
        self.model = model
        self.dataset = dataset
        self.criterion = criterion
        self.schedule = schedule
        self.seeds = seeds
        self.training = training
        self.numericsVersion = numericsVersion
    }

    /// The config as a canonical JSON value (also written to the run's
    /// `config.json`, so a reader sees exactly what was hashed).
    public var canonical: CanonicalJSON {
        var schedule: [String: CanonicalJSON] = [
            "label": .string(self.schedule.label),
            "kind": .string(self.schedule.schedule.kindName),
        ]
        switch self.schedule.schedule {
        case let .iterative(rate, rounds, rewind):
            schedule["rate"] = .number(rate)
            schedule["rounds"] = .number(Double(rounds))
            schedule["rewindIteration"] = .number(Double(rewind))
        case let .earlyOneShot(denseEpochs, density):
            schedule["denseEpochs"] = .number(Double(denseEpochs))
            schedule["density"] = .number(density)
        case let .atInit(density):
            schedule["density"] = .number(density)
        }
        var training: [String: CanonicalJSON] = [
            "optimizer": .string(self.training.optimizer.rawValue),
            "learningRate": .number(self.training.learningRate),
            "momentum": .number(self.training.momentum),
            "nesterov": .bool(self.training.nesterov),
            "weightDecay": .number(self.training.weightDecay),
            "batchSize": .number(Double(self.training.batchSize)),
            "epochsPerRound": .number(Double(self.training.epochsPerRound)),
            "milestones": .array(self.training.milestones.map { .number(Double($0)) }),
            "learningRateDrop": .number(self.training.learningRateDrop),
        ]
        training["trainExamples"] = self.training.trainExamples.map { .number(Double($0)) } ?? .null
        return .object([
            "model": .string(model),
            "dataset": .string(dataset),
            "criterion": .object([
                "label": .string(criterion.label),
                "name": .string(criterion.name),
                "parameters": .object(criterion.parameters.mapValues(\.canonical)),
                "scope": .string(criterion.scope.rawValue),
                "control": .string(criterion.control.rawValue),
                "excludedLayers": .array(criterion.excludedLayers.map { .string($0) }),
            ]),
            "schedule": .object(schedule),
            "seeds": .object([
                "run": .unsigned(seeds.run),
                "initialization": .unsigned(seeds.initialization),
                "dataOrder": .unsigned(seeds.dataOrder),
                "mask": .unsigned(seeds.mask),
                "scoring": .unsigned(seeds.scoring),
            ]),
            "training": .object(training),
            "numericsVersion": .string(numericsVersion),
        ])
    }

    /// The SHA-256 of the canonical JSON, as 64 hex digits.
    public var fullHash: String {
        SHA256.hexDigest(of: Array(canonical.serialized().utf8))
    }

    /// The first 16 hex digits (64 bits) of `fullHash`: the run's directory
    /// name and its `config_hash` column. Collisions would need ~4 billion runs.
    public var hash: String {
        String(fullHash.prefix(16))
    }

    /// The density requested in `round` (see `Schedule.requestedDensity`).
    public func requestedDensity(afterRound round: Int) -> Double {
        schedule.schedule.requestedDensity(afterRound: round)
    }

    /// Epochs the whole run trains, for progress and ETA estimates.
    public var plannedEpochs: Int {
        switch schedule.schedule {
        case .iterative(_, let rounds, _): return (rounds + 1) * training.epochsPerRound
        case .earlyOneShot, .atInit: return training.epochsPerRound
        }
    }
}
