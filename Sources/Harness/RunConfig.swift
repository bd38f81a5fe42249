import Reports
import Datasets
import Networks
import Pruning

/// The version of the numerical code, part of every run's hash. Bump it when
/// a change to training, initialisation or pruning can change any number a
/// run produces: old results then no longer count as done.
/// numerics-2: convolutions sum their weight gradient per group of examples
/// (layers under 16×16 outputs), not per example.
/// numerics-3: every generator keyed by (purpose seed, purpose, round);
/// late rewinding resumes at step k; the data fingerprint, initialiser,
/// input normalisation and every optimizer constant enter the hash.
public let numericsVersion = "numerics-3"

/// A criterion as a manifest lists it: the label it has in tables and what
/// it resolves to, every declared parameter filled in.
public struct CriterionConfig: Hashable, Sendable {
    /// The name shown in tables; the registry name unless the manifest gave
    /// a `label` (needed when one criterion appears with two parameter sets).
    public var label: String
    /// The registry name, e.g. `"data-dependent"`.
    public var name: String
    /// Every parameter the registry lists for `name`.
    public var parameters: CriterionParameters
    public var scope: PruningScope
    /// A ticket control run instead of the ticket itself.
    public var control: TicketControl
    /// Tensors never pruned, by name (e.g. `fc3.weight`).
    public var excludedLayers: [String]

    public init(label: String, name: String, parameters: CriterionParameters, scope: PruningScope = .global,
                control: TicketControl = .none, excludedLayers: [String] = []) {
        self.label = label
        self.name = name
        self.parameters = parameters
        self.scope = scope
        self.control = control
        self.excludedLayers = excludedLayers
    }
}

/// A schedule with the name it has in tables.
public struct ScheduleConfig: Hashable, Sendable {
    /// The kind name unless the manifest gave a `label`.
    public var label: String
    public var schedule: PruningSchedule

    public init(label: String, schedule: PruningSchedule) {
        self.label = label
        self.schedule = schedule
    }
}

/// The training a manifest gives every run: the trainer's configuration
/// (its data seed comes from each run's seeds) and how the data is prepared.
public struct TrainingSetup: Hashable, Sendable {
    public var training: TrainingConfiguration
    /// Only the first this-many training examples (`nil`: all).
    public var trainExamples: Int?
    public var normalization: InputNormalization
    /// `nil`: each model's own default initialiser.
    public var initializer: Initializer?

    public init(training: TrainingConfiguration, trainExamples: Int? = nil,
                normalization: InputNormalization = .standardized, initializer: Initializer? = nil) {
        self.training = training
        self.trainExamples = trainExamples
        self.normalization = normalization
        self.initializer = initializer
    }
}

/// One run: the resolved configuration the experiment executes
/// (`Pruning.ExperimentConfiguration`, every default filled in, the data's
/// fingerprint included), the labels it has in tables and the numerics
/// version. Its canonical JSON is what `config.json` holds and what `hash`
/// is taken of, derived from the type's own encoding, so every field that
/// can change a number is hashed by construction.
///
/// ```swift
/// let runs = try SweepManifest.load(from: url).expand(data: fingerprints)
/// print(runs[0].hash)   // 16 hex digits, e.g. "3f2a..."
/// ```
public struct RunConfig: Hashable, Sendable, Codable {
    public var criterionLabel: String
    public var scheduleLabel: String
    public var experiment: ExperimentConfiguration
    /// `Harness.numericsVersion` when the run was expanded.
    public var numericsVersion: String

    public init(criterionLabel: String, scheduleLabel: String, experiment: ExperimentConfiguration,
                numericsVersion: String = Harness.numericsVersion) {
        self.criterionLabel = criterionLabel
        self.scheduleLabel = scheduleLabel
        self.experiment = experiment
        self.numericsVersion = numericsVersion
    }

    public var model: String { experiment.model }
    public var dataset: String { experiment.data.dataset }
    public var seeds: RunSeeds { experiment.seeds }
    public var schedule: PruningSchedule { experiment.schedule }

    /// The config as a canonical JSON value (also written to the run's
    /// `config.json`, so a reader sees exactly what was hashed).
    public var canonical: CanonicalJSON {
        do {
            return try CanonicalJSON(encoding: self)
        } catch {
            // Only a non-finite number could fail, and manifests refuse those.
            preconditionFailure("run configuration cannot be encoded: \(error)")
        }
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

    /// The hash of everything but the seeds and the criterion: runs with the
    /// same setup hash differ only in what is compared (criterion) and in
    /// what is averaged over (seeds). `summary.csv` groups by it, so two
    /// different training setups in one directory are never averaged together.
    public var setupHash: String {
        guard case .object(var members) = canonical, case .object(var experiment)? = members["experiment"] else {
            preconditionFailure("a run configuration encodes as an object")
        }
        for key in ["seeds", "criterion", "criterionParameters", "scope", "excludedLayers", "control"] {
            experiment[key] = nil
        }
        // The trainer's data seed is the seeds' data-order stream.
        if case .object(var training)? = experiment["training"] {
            training["dataSeed"] = nil
            experiment["training"] = .object(training)
        }
        // A one-shot schedule's target density is the table's density axis,
        // not part of the setup (as an iterative run's rounds are not).
        if case .object(var schedule)? = experiment["schedule"],
           let definition = ScheduleRegistry.definition(self.schedule.kind) {
            for parameter in definition.parameters where parameter.listKey != nil { schedule[parameter.name] = nil }
            experiment["schedule"] = .object(schedule)
        }
        members["experiment"] = .object(experiment)
        members["criterionLabel"] = nil
        return String(SHA256.hexDigest(of: Array(CanonicalJSON.object(members).serialized().utf8)).prefix(16))
    }

    /// The hash of the criterion as configured (label, name, parameters,
    /// scope, control, excluded layers): tells apart two criteria that share
    /// a label in one directory.
    public var criterionHash: String {
        guard case .object(let members) = canonical, case .object(let experiment)? = members["experiment"] else {
            preconditionFailure("a run configuration encodes as an object")
        }
        var criterion: [String: CanonicalJSON] = ["criterionLabel": .string(criterionLabel)]
        for key in ["criterion", "criterionParameters", "scope", "excludedLayers", "control"] {
            criterion[key] = experiment[key]
        }
        return String(SHA256.hexDigest(of: Array(CanonicalJSON.object(criterion).serialized().utf8)).prefix(16))
    }

    /// The density requested in `round` (see `PruningSchedule.requestedDensity`).
    public func requestedDensity(afterRound round: Int) -> Double {
        schedule.requestedDensity(afterRound: round)
    }

    /// Epochs the whole run trains, for progress and ETA estimates.
    public var plannedEpochs: Int {
        schedule.plannedEpochs(epochsPerRound: experiment.training.epochs)
    }
}
