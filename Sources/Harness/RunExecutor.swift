import Foundation
import Reports
import Pruning

/// A layer's weight count and kept weights at the end of a round.
public struct LayerCount: Hashable, Sendable {
    public var name: String
    public var weights: Int
    public var remaining: Int
    /// The density asked of this layer: its own target (layerwise scope),
    /// the global target (global scope), `nil` when it is excluded from pruning.
    public var requestedDensity: Double?

    public init(name: String, weights: Int, remaining: Int, requestedDensity: Double? = nil) {
        self.name = name
        self.weights = weights
        self.remaining = remaining
        self.requestedDensity = requestedDensity
    }
}

/// What one round of a run produced.
public struct RoundOutcome: Hashable, Sendable {
    public var round: Int
    /// Kept / prunable weights over all layers.
    public var densityAchieved: Double
    public var testAccuracyFinal: Double?
    public var testAccuracyBest: Double?
    public var testLoss: Double?
    public var trainLoss: Double?
    /// Epochs trained in this round.
    public var epochs: Int
    public var wallSeconds: Double
    public var status: RunStatus
    /// Where training diverged (status `diverged` only).
    public var divergence: Divergence?
    /// Scores that were NaN when the round's mask was chosen.
    public var nanScores: Int
    public var layers: [LayerCount]
    /// The round's mask, for `overlap.csv`; `nil` if the executor keeps none.
    public var mask: MaskSet?

    /// `densityAchieved` defaults to the pooled density of `layers`.
    public init(round: Int, densityAchieved: Double? = nil, testAccuracyFinal: Double?, testAccuracyBest: Double?,
                testLoss: Double?, trainLoss: Double?, epochs: Int, wallSeconds: Double, status: RunStatus,
                divergence: Divergence? = nil, nanScores: Int = 0, layers: [LayerCount], mask: MaskSet? = nil) {
        let weights = layers.reduce(0) { $0 + $1.weights }, kept = layers.reduce(0) { $0 + $1.remaining }
        self.round = round
        self.densityAchieved = densityAchieved ?? (weights == 0 ? 1 : Double(kept) / Double(weights))
        self.testAccuracyFinal = testAccuracyFinal
        self.testAccuracyBest = testAccuracyBest
        self.testLoss = testLoss
        self.trainLoss = trainLoss
        self.epochs = epochs
        self.wallSeconds = wallSeconds
        self.status = status
        self.divergence = divergence
        self.nanScores = nanScores
        self.layers = layers
        self.mask = mask
    }
}

/// Everything a finished run reports, one entry per reported round
/// (`config.schedule.reportedRounds`, in order; a run may stop
/// early only after a round with status `diverged`).
public struct RunOutcome: Hashable, Sendable {
    public var rounds: [RoundOutcome]
    /// Training examples the run used (recorded in every row, so a run on
    /// part of a data set is never mistaken for a full one).
    public var trainExamples: Int?
    /// What was unusual about the data, e.g. a partial training set.
    public var dataNote: String?

    public init(rounds: [RoundOutcome], trainExamples: Int? = nil, dataNote: String? = nil) {
        self.rounds = rounds
        self.trainExamples = trainExamples
        self.dataNote = dataNote
    }
}

/// Where a running run is, for the progress display.
public struct RunProgress: Hashable, Sendable {
    public var round: Int
    /// Epoch within the round, 1-based.
    public var epoch: Int
    /// Epochs finished since the run started (including resumed ones), out
    /// of `RunConfig.plannedEpochs`.
    public var epochsDone: Int

    public init(round: Int, epoch: Int, epochsDone: Int) {
        self.round = round
        self.epoch = epoch
        self.epochsDone = epochsDone
    }
}

/// Trains and prunes one run. The harness owns everything around it:
/// expansion, sharding, locking, skipping finished runs, the tables.
///
/// Contract:
/// - `directory` (`DIR/runs/<hash>/`) exists and holds `config.json`. The
///   executor keeps its checkpoints there, written with `AtomicFile`, and on
///   a later call for the same config resumes from the last one: a run may
///   be interrupted at any instant (exception, Ctrl-C, kill -9) and the
///   resumed run must produce the same numbers, wall times aside.
/// - It returns the rounds in `reportedRounds` order (stopping after a
///   diverged round is allowed), or throws; the harness
///   writes the tables and the completion marker only after it returns.
/// - It calls `progress` after each epoch (from the calling thread).
/// - Everything random derives from `config.seeds`.
public protocol RunExecutor {
    func execute(_ config: RunConfig, in directory: URL, progress: (RunProgress) -> Void) throws -> RunOutcome
}
