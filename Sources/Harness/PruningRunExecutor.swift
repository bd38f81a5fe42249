import Datasets
import Foundation
import Reports
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
    private var data: SweepData
    /// When set, the run in flight saves its in-round state at the next
    /// training step and `execute` throws `RunInterrupted`.
    public var stopRequest: StopRequest?
    /// How often a round saves its in-round state while it trains (`nil`: only on a stop).
    public var checkpointInterval: Duration? = .seconds(300)
    /// Dense prefixes trained once per sweep and shared by the runs that
    /// differ only in criterion or target density (`nil`: none shared).
    public let prefixCache: DensePrefixCache?

    /// `data` holds every data set the runs name (see `SweepData.load`).
    public init(data: SweepData, sharesDensePrefixes: Bool = true) {
        self.data = data
        prefixCache = sharesDensePrefixes ? DensePrefixCache() : nil
    }

    /// The run's data, checked against the fingerprint in its hash: a run
    /// is never trained on data other than what its directory name promises.
    private func data(for config: RunConfig) throws -> DatasetPair {
        let specification = config.experiment.data
        let pair = try data.prepared(specification)
        if let expected = specification.fingerprint, try data.fingerprint(specification) != expected {
            throw FileError(config.dataset, "the data differs from what run \(config.hash) was configured with "
                            + "(its fingerprint changed since the runs were expanded)")
        }
        return pair
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
        let experiment = try PruningExperiment(configuration: config.experiment, data: data)
        experiment.stopRequest = stopRequest
        experiment.checkpointInterval = checkpointInterval
        experiment.onInRoundCheckpoint = { state in try AtomicFile.write(state.encoded(), to: inRoundURL) }
        experiment.prefixCache = prefixCache
        let epochsPerRound = config.experiment.training.epochs
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
                testAccuracyFinal: result.finalTestAccuracy, testAccuracyBest: result.bestTestAccuracy,
                testLoss: result.finalTestLoss, trainLoss: result.finalTrainLoss,
                epochs: result.epochs, wallSeconds: result.wallSeconds,
                status: result.status, divergence: result.divergence, nanScores: result.nanScores,
                layers: result.layers.map {
                    LayerCount(name: $0.name, weights: $0.weights, remaining: $0.remaining,
                               requestedDensity: $0.requestedDensity)
                },
                mask: mask)
        }, trainExamples: data.train.count, dataNote: data.train.partialNote)
    }
}
