import Pruning

/// How a round ended (ok, collapsed, diverged): the pruning module's status, as the tables spell it.
public typealias RunStatus = RoundStatus

/// One row of `runs.csv`: one run at the end of one round.
public struct RunRow: CSVRow, Hashable, Sendable {
    public var model: String
    public var dataset: String
    public var criterion: String
    public var schedule: String
    public var seed: UInt64
    public var round: Int
    public var densityRequested: Double
    public var densityAchieved: Double
    /// Test accuracy after the round's last epoch (the number we compare on).
    public var testAccuracyFinal: Double?
    /// The best test accuracy over the round's epochs (what the study plots;
    /// reported separately because choosing on the test set flatters).
    public var testAccuracyBest: Double?
    public var testLoss: Double?
    public var trainLoss: Double?
    public var epochs: Int
    public var wallSeconds: Double
    public var status: RunStatus
    /// Where the round diverged (status `diverged` only).
    public var divergence: Divergence?
    /// Scores that were NaN when the round's mask was chosen (counted low).
    public var nanScores: Int
    public var configHash: String
    /// The hash of the configuration less seeds and criterion: rows with the
    /// same setup hash, criterion and density are one group of `summary.csv`.
    public var setupHash: String
    /// The hash of the criterion as configured (label, parameters, scope, control).
    public var criterionHash: String
    public var gitCommit: String
    /// Training examples used; a partial data set shows here.
    public var trainExamples: Int?
    /// Anything unusual about the data (e.g. "partial training set: 1 of 5 files").
    public var dataNote: String?

    public init(model: String, dataset: String, criterion: String, schedule: String, seed: UInt64, round: Int,
                densityRequested: Double, densityAchieved: Double, testAccuracyFinal: Double?,
                testAccuracyBest: Double?, testLoss: Double?, trainLoss: Double?, epochs: Int,
                wallSeconds: Double, status: RunStatus, divergence: Divergence? = nil, nanScores: Int = 0,
                configHash: String, setupHash: String = "", criterionHash: String = "", gitCommit: String,
                trainExamples: Int? = nil, dataNote: String? = nil) {
        self.trainExamples = trainExamples
        self.dataNote = dataNote
        self.model = model
        self.dataset = dataset
        self.criterion = criterion
        self.schedule = schedule
        self.seed = seed
        self.round = round
        self.densityRequested = densityRequested
        self.densityAchieved = densityAchieved
        self.testAccuracyFinal = testAccuracyFinal
        self.testAccuracyBest = testAccuracyBest
        self.testLoss = testLoss
        self.trainLoss = trainLoss
        self.epochs = epochs
        self.wallSeconds = wallSeconds
        self.status = status
        self.divergence = divergence
        self.nanScores = nanScores
        self.configHash = configHash
        self.setupHash = setupHash
        self.criterionHash = criterionHash
        self.gitCommit = gitCommit
    }

    public static let columns = [
        "model", "dataset", "criterion", "schedule", "seed", "round", "density_requested", "density_achieved",
        "test_accuracy_final", "test_accuracy_best", "test_loss", "train_loss", "epochs", "wall_seconds",
        "status", "diverged_epoch", "diverged_step", "diverged_loss", "nan_scores", "config_hash", "setup_hash",
        "criterion_hash", "git_commit", "train_examples", "data_note",
    ]

    /// The columns that legitimately differ between two executions of the
    /// same run (everything else must be identical after a resume).
    public static let wallTimeColumns: Set<String> = ["wall_seconds"]

    public var fields: [String] {
        [model, dataset, criterion, schedule, String(seed), String(round), CSV.number(densityRequested),
         CSV.number(densityAchieved), CSV.number(testAccuracyFinal), CSV.number(testAccuracyBest),
         CSV.number(testLoss), CSV.number(trainLoss), String(epochs), CSV.number(wallSeconds),
         status.rawValue, divergence.map { String($0.epoch) } ?? "", divergence.map { String($0.step) } ?? "",
         divergence?.loss ?? "", String(nanScores), configHash, setupHash, criterionHash, gitCommit,
         trainExamples.map(String.init) ?? "", dataNote ?? ""]
    }

    public init(_ row: CSVFields) throws {
        model = try row.string("model")
        dataset = try row.string("dataset")
        criterion = try row.string("criterion")
        schedule = try row.string("schedule")
        seed = try row.unsigned("seed")
        round = try row.int("round")
        densityRequested = try row.double("density_requested")
        densityAchieved = try row.double("density_achieved")
        testAccuracyFinal = try row.optionalDouble("test_accuracy_final")
        testAccuracyBest = try row.optionalDouble("test_accuracy_best")
        testLoss = try row.optionalDouble("test_loss")
        trainLoss = try row.optionalDouble("train_loss")
        epochs = try row.int("epochs")
        wallSeconds = try row.double("wall_seconds")
        let statusText = try row.string("status")
        guard let status = RunStatus(rawValue: statusText) else {
            throw row.fail("status", "\"\(statusText)\" is not one of ok, collapsed, diverged")
        }
        self.status = status
        let divergedEpoch = try row.string("diverged_epoch")
        if divergedEpoch.isEmpty {
            divergence = nil
        } else {
            guard let epoch = Int(divergedEpoch), let step = Int(try row.string("diverged_step")) else {
                throw row.fail("diverged_epoch", "\"\(divergedEpoch)\" with step \"\(try row.string("diverged_step"))\" is not a position")
            }
            divergence = Divergence(epoch: epoch, step: step, lossText: try row.string("diverged_loss"))
        }
        nanScores = try row.int("nan_scores")
        configHash = try row.string("config_hash")
        setupHash = try row.string("setup_hash")
        criterionHash = try row.string("criterion_hash")
        gitCommit = try row.string("git_commit")
        let examples = try row.string("train_examples")
        if examples.isEmpty {
            trainExamples = nil
        } else if let value = Int(examples) {
            trainExamples = value
        } else {
            throw row.fail("train_examples", "\"\(examples)\" is not a whole number")
        }
        let note = try row.string("data_note")
        dataNote = note.isEmpty ? nil : note
    }
}

/// One row of `layers.csv`: a layer's kept weights after one round of one run.
public struct LayerRow: CSVRow, Hashable, Sendable {
    public var model: String
    public var dataset: String
    public var criterion: String
    public var schedule: String
    public var seed: UInt64
    public var round: Int
    public var layer: String
    /// Prunable weights in the layer.
    public var weights: Int
    /// Weights the mask keeps.
    public var remaining: Int
    /// The density asked of this layer (its own or the global target; `nil`
    /// when the layer is excluded from pruning).
    public var densityRequested: Double?
    public var configHash: String

    public init(model: String, dataset: String, criterion: String, schedule: String, seed: UInt64, round: Int,
                layer: String, weights: Int, remaining: Int, densityRequested: Double? = nil, configHash: String) {
        self.model = model
        self.dataset = dataset
        self.criterion = criterion
        self.schedule = schedule
        self.seed = seed
        self.round = round
        self.layer = layer
        self.weights = weights
        self.remaining = remaining
        self.densityRequested = densityRequested
        self.configHash = configHash
    }

    /// remaining / weights (1 for a layer without weights, which cannot be pruned).
    public var density: Double { weights == 0 ? 1 : Double(remaining) / Double(weights) }

    /// The layer lost every weight: the network is cut here (layer collapse).
    public var collapsed: Bool { weights > 0 && remaining == 0 }

    public static let columns = [
        "model", "dataset", "criterion", "schedule", "seed", "round", "layer", "weights", "remaining",
        "density_requested", "density", "collapsed", "config_hash",
    ]

    public var fields: [String] {
        [model, dataset, criterion, schedule, String(seed), String(round), layer, String(weights),
         String(remaining), CSV.number(densityRequested), CSV.number(density), collapsed ? "yes" : "no", configHash]
    }

    public init(_ row: CSVFields) throws {
        model = try row.string("model")
        dataset = try row.string("dataset")
        criterion = try row.string("criterion")
        schedule = try row.string("schedule")
        seed = try row.unsigned("seed")
        round = try row.int("round")
        layer = try row.string("layer")
        weights = try row.int("weights")
        remaining = try row.int("remaining")
        densityRequested = try row.optionalDouble("density_requested")
        configHash = try row.string("config_hash")
        guard remaining >= 0 && remaining <= weights else {
            throw row.fail("remaining", "\(remaining) is outside 0...\(weights)")
        }
    }
}

/// One row of `overlap.csv`: how much two criteria's masks agree for the
/// same model, dataset, schedule, seed and requested density.
public struct OverlapRow: CSVRow, Hashable, Sendable {
    public var model: String
    public var dataset: String
    public var schedule: String
    public var seed: UInt64
    public var density: Double
    public var criterionA: String
    public var criterionB: String
    public var keptA: Int
    public var keptB: Int
    public var keptBoth: Int
    /// |A ∩ B| / |A ∪ B| over all prunable weights.
    public var jaccard: Double?

    public init(model: String, dataset: String, schedule: String, seed: UInt64, density: Double,
                criterionA: String, criterionB: String, keptA: Int, keptB: Int, keptBoth: Int, jaccard: Double?) {
        self.model = model
        self.dataset = dataset
        self.schedule = schedule
        self.seed = seed
        self.density = density
        self.criterionA = criterionA
        self.criterionB = criterionB
        self.keptA = keptA
        self.keptB = keptB
        self.keptBoth = keptBoth
        self.jaccard = jaccard
    }

    public static let columns = [
        "model", "dataset", "schedule", "seed", "density", "criterion_a", "criterion_b", "kept_a", "kept_b",
        "kept_both", "jaccard",
    ]

    public var fields: [String] {
        [model, dataset, schedule, String(seed), CSV.number(density), criterionA, criterionB, String(keptA),
         String(keptB), String(keptBoth), CSV.number(jaccard)]
    }

    public init(_ row: CSVFields) throws {
        model = try row.string("model")
        dataset = try row.string("dataset")
        schedule = try row.string("schedule")
        seed = try row.unsigned("seed")
        density = try row.double("density")
        criterionA = try row.string("criterion_a")
        criterionB = try row.string("criterion_b")
        keptA = try row.int("kept_a")
        keptB = try row.int("kept_b")
        keptBoth = try row.int("kept_both")
        jaccard = try row.optionalDouble("jaccard")
    }
}

/// One row of `summary.csv`: final test accuracy over seeds for one
/// (model, dataset, criterion, schedule, requested density).
public struct SummaryRow: CSVRow, Hashable, Sendable {
    public var model: String
    public var dataset: String
    public var criterion: String
    public var schedule: String
    /// The requested density in canonical form: rows are matched on this
    /// text, so 0.5^3 from any run is the same key `0.125`.
    public var density: String
    /// Runs with a final accuracy.
    public var n: Int
    public var mean: Double?
    /// Sample standard deviation (n - 1); `nil` for n < 2.
    public var std: Double?
    /// Student-t 95% interval of the mean; `nil` for n < 2.
    public var ciLow: Double?
    public var ciHigh: Double?
    public var collapsed: Int
    public var diverged: Int
    public var bestMean: Double?
    public var densityAchievedMean: Double?
    /// mean − mean of `magnitude` at the same key; `nil` for magnitude itself
    /// or when there is no magnitude row.
    public var diffVsMagnitude: Double?
    /// Welch 95% interval of that difference; `nil` unless both sides have n ≥ 2.
    public var diffCILow: Double?
    public var diffCIHigh: Double?
    /// Which test gave the difference: `paired` (same seeds on both sides)
    /// or `welch`; `nil` without a difference.
    public var diffMethod: DifferenceMethod?
    /// The runs' `setup_hash` (model, data, schedule, training, numerics).
    public var setupHash: String

    /// How `diff_vs_magnitude` and its interval were computed.
    public enum DifferenceMethod: String, Hashable, Sendable {
        /// Student-t on the per-seed differences (the seeds pair the runs).
        case paired
        /// Welch's unequal-variance t on the two samples.
        case welch
    }

    public init(model: String, dataset: String, criterion: String, schedule: String, density: String, n: Int,
                mean: Double?, std: Double?, ciLow: Double?, ciHigh: Double?, collapsed: Int = 0, diverged: Int = 0,
                bestMean: Double? = nil, densityAchievedMean: Double? = nil, diffVsMagnitude: Double? = nil,
                diffCILow: Double? = nil, diffCIHigh: Double? = nil, diffMethod: DifferenceMethod? = nil,
                setupHash: String = "") {
        self.model = model
        self.dataset = dataset
        self.criterion = criterion
        self.schedule = schedule
        self.density = density
        self.n = n
        self.mean = mean
        self.std = std
        self.ciLow = ciLow
        self.ciHigh = ciHigh
        self.collapsed = collapsed
        self.diverged = diverged
        self.bestMean = bestMean
        self.densityAchievedMean = densityAchievedMean
        self.diffVsMagnitude = diffVsMagnitude
        self.diffCILow = diffCILow
        self.diffCIHigh = diffCIHigh
        self.diffMethod = diffMethod
        self.setupHash = setupHash
    }

    /// The columns that identify a row (what `compare` matches on). Not the
    /// setup hash: comparing across a numerics change is what `compare` is
    /// for, and two setups with one key in one table are refused there.
    public var key: [String] { [model, dataset, criterion, schedule, density] }

    public static let columns = [
        "model", "dataset", "criterion", "schedule", "density", "n", "final_accuracy_mean", "final_accuracy_std",
        "final_accuracy_ci_low", "final_accuracy_ci_high", "n_collapsed", "n_diverged", "best_accuracy_mean",
        "density_achieved_mean", "diff_vs_magnitude", "diff_ci_low", "diff_ci_high", "diff_method", "setup_hash",
    ]

    public var fields: [String] {
        [model, dataset, criterion, schedule, density, String(n), CSV.number(mean), CSV.number(std),
         CSV.number(ciLow), CSV.number(ciHigh), String(collapsed), String(diverged), CSV.number(bestMean),
         CSV.number(densityAchievedMean), CSV.number(diffVsMagnitude), CSV.number(diffCILow), CSV.number(diffCIHigh),
         diffMethod?.rawValue ?? "", setupHash]
    }

    public init(_ row: CSVFields) throws {
        model = try row.string("model")
        dataset = try row.string("dataset")
        criterion = try row.string("criterion")
        schedule = try row.string("schedule")
        density = try row.string("density")
        n = try row.int("n")
        mean = try row.optionalDouble("final_accuracy_mean")
        std = try row.optionalDouble("final_accuracy_std")
        ciLow = try row.optionalDouble("final_accuracy_ci_low")
        ciHigh = try row.optionalDouble("final_accuracy_ci_high")
        collapsed = try row.int("n_collapsed")
        diverged = try row.int("n_diverged")
        bestMean = try row.optionalDouble("best_accuracy_mean")
        densityAchievedMean = try row.optionalDouble("density_achieved_mean")
        diffVsMagnitude = try row.optionalDouble("diff_vs_magnitude")
        diffCILow = try row.optionalDouble("diff_ci_low")
        diffCIHigh = try row.optionalDouble("diff_ci_high")
        let method = try row.string("diff_method")
        if method.isEmpty {
            diffMethod = nil
        } else if let parsed = DifferenceMethod(rawValue: method) {
            diffMethod = parsed
        } else {
            throw row.fail("diff_method", "\"\(method)\" is not one of paired, welch")
        }
        setupHash = try row.string("setup_hash")
    }
}
