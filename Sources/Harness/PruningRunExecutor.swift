import Datasets
import Foundation
import Networks
import Pruning

/// Runs a sweep's runs with the real trainer and pruning pipeline.
///
/// Each run keeps `checkpoint.json` (after every round), `in-round.ckpt`
/// (within a round: on a stop request and every `checkpointInterval`; see
/// `Pruning.InRoundCheckpoint`) and one mask file per finished round in its
/// directory, all written atomically; a run interrupted anywhere resumes
/// from the latest of them and produces the same numbers (determinism makes
/// the redone training identical).
public final class PruningRunExecutor: RunExecutor {
    private let locator: DataLocator
    private var cache: [String: DatasetPair] = [:]
    /// Data-set warnings (partial training sets), printed once per data set.
    public var warn: (String) -> Void
    /// When set, the run in flight saves its in-round state at the next
    /// training step and `execute` throws `RunInterrupted`.
    public var stopRequest: StopRequest?
    /// How often a round saves its in-round state while it trains (`nil`: only on a stop).
    public var checkpointInterval: Duration? = .seconds(300)

    public init(locator: DataLocator = .standard(), warn: @escaping (String) -> Void = { _ in }) {
        self.locator = locator
        self.warn = warn
    }

    /// The data set, loaded once per sweep, cut to the run's `trainExamples`.
    private func data(for config: RunConfig) throws -> DatasetPair {
        var pair: DatasetPair
        if let loaded = cache[config.dataset] {
            pair = loaded
        } else {
            pair = try locator.load(named: config.dataset)
            cache[config.dataset] = pair
            if let note = pair.train.partialNote { warn("warning: \(config.dataset): \(note)") }
        }
        if let limit = config.training.trainExamples { pair.train = pair.train.prefix(limit) }
        return pair
    }

    /// The pruning module's configuration for a harness run.
    public static func experimentConfiguration(for config: RunConfig) -> ExperimentConfiguration {
        let training = config.training
        let optimizer: OptimizerConfiguration
        switch training.optimizer {
        case .sgd:
            optimizer = .sgd(learningRate: Float(training.learningRate), momentum: Float(training.momentum),
                             nesterov: training.nesterov, weightDecay: Float(training.weightDecay))
        case .adam:
            optimizer = .adam(learningRate: Float(training.learningRate), weightDecay: Float(training.weightDecay))
        }
        let schedule: PruningSchedule
        switch config.schedule.schedule {
        case let .iterative(rate, rounds, rewind): schedule = .iterative(rate: rate, rounds: rounds, rewindIteration: rewind)
        case let .earlyOneShot(denseEpochs, density): schedule = .earlyOneShot(denseEpochs: denseEpochs, density: density)
        case let .atInit(density): schedule = .atInitialization(density: density)
        }
        let parameters = CriterionParameters(config.criterion.parameters)
        return ExperimentConfiguration(
            model: config.model, criterion: config.criterion.name, criterionParameters: parameters,
            schedule: schedule,
            scope: config.criterion.scope == .global ? .global : .layerwise,
            excludedLayers: config.criterion.excludedLayers,
            control: TicketControl(rawValue: config.criterion.control.rawValue) ?? .none,
            training: TrainingConfiguration(
                epochs: training.epochsPerRound, batchSize: training.batchSize, optimizer: optimizer,
                schedule: LearningRateSchedule(milestones: training.milestones, factor: Float(training.learningRateDrop)),
                dataSeed: config.seeds.dataOrder),
            seeds: RunSeeds(initialization: config.seeds.initialization, dataOrder: config.seeds.dataOrder,
                                    mask: config.seeds.mask, scoring: config.seeds.scoring))
    }

    public func execute(_ config: RunConfig, in directory: URL, progress: (RunProgress) -> Void) throws -> RunOutcome {
        let run = RunDirectory(directory)
        let checkpointURL = directory.appendingPathComponent("checkpoint.json")
        var checkpoint: ExperimentCheckpoint?
        if FileManager.default.fileExists(atPath: checkpointURL.path) {
            do {
                checkpoint = try JSONDecoder().decode(ExperimentCheckpoint.self, from: Data(contentsOf: checkpointURL))
            } catch {
                throw FileError(checkpointURL.path, "unreadable checkpoint (\(error)); delete it to restart this run")
            }
        }
        let inRoundURL = directory.appendingPathComponent("in-round.ckpt")
        var inRound: InRoundCheckpoint?
        if FileManager.default.fileExists(atPath: inRoundURL.path) {
            do {
                inRound = try InRoundCheckpoint(decoding: Data(contentsOf: inRoundURL), source: inRoundURL.path)
            } catch {
                throw FileError(inRoundURL.path, "unreadable in-round checkpoint (\(error)); delete it to restart the round")
            }
        }
        let data = try data(for: config)
        let experiment = try PruningExperiment(configuration: Self.experimentConfiguration(for: config), data: data)
        experiment.stopRequest = stopRequest
        experiment.checkpointInterval = checkpointInterval
        experiment.onInRoundCheckpoint = { state in try AtomicFile.write(state.encoded(), to: inRoundURL) }
        let epochsPerRound = config.training.epochsPerRound
        let resumedRounds = checkpoint?.completedRounds.count ?? 0
        var epochsDone = resumedRounds * epochsPerRound + (inRound?.trainer.header.epoch ?? 0)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        experiment.onRoundFinished = { result, masks, next in
            let names = masks.keys.sorted()
            let set = MaskSet(names: names, kept: names.map { masks[$0]! })
            try FileManager.default.createDirectory(at: run.masks, withIntermediateDirectories: true)
            // The mask first, then the checkpoint that counts the round as done.
            try AtomicFile.write(set.encoded(), to: run.mask(round: result.round))
            try AtomicFile.write(encoder.encode(next), to: checkpointURL)
            // The round is done: its in-round state is stale now.
            try? FileManager.default.removeItem(at: inRoundURL)
        }
        // The experiment calls back only during `run`; the hook is removed
        // before the block ends, so `progress` never outlives this call.
        let results = try withoutActuallyEscaping(progress) { progress in
            experiment.onEpoch = { round, record in
                epochsDone += 1
                progress(RunProgress(round: round, epoch: record.epoch, epochsDone: epochsDone))
            }
            defer { experiment.onEpoch = nil }
            do {
                return try experiment.run(resumingFrom: checkpoint, inRound: inRound)
            } catch is ExperimentInterrupted {
                throw RunInterrupted()
            }
        }
        return try RunOutcome(rounds: results.map { result in
            let maskURL = run.mask(round: result.round)
            let mask = try MaskSet(decoding: Data(contentsOf: maskURL), file: maskURL.path)
            return RoundOutcome(
                round: result.round, densityAchieved: result.achievedDensity,
                testAccuracyFinal: result.finalTestAccuracy.isNaN ? nil : result.finalTestAccuracy,
                testAccuracyBest: result.bestTestAccuracy.isNaN ? nil : result.bestTestAccuracy,
                testLoss: result.finalTestLoss.isNaN ? nil : result.finalTestLoss,
                trainLoss: result.finalTrainLoss.isNaN ? nil : result.finalTrainLoss,
                epochs: result.epochs, wallSeconds: result.wallSeconds,
                status: result.status,
                layers: result.layers.map {
                    LayerCount(name: $0.name, weights: $0.weights, remaining: $0.remaining,
                               requestedDensity: $0.requestedDensity)
                },
                mask: mask)
        }, trainExamples: data.train.count, dataNote: data.train.partialNote)
    }
}
