import Datasets
import Foundation

/// Everything that determines a training run besides the model and its seed.
public struct TrainingConfiguration: Sendable, Codable, Hashable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerConfiguration
    public var schedule: LearningRateSchedule
    /// Seed of the data order (epoch `e` uses stream `e` of it).
    public var dataSeed: UInt64

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerConfiguration,
                schedule: LearningRateSchedule = LearningRateSchedule(), dataSeed: UInt64) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.schedule = schedule
        self.dataSeed = dataSeed
    }
}

/// How a run stands.
public enum TrainingStatus: Sendable, Codable, Equatable {
    case inProgress
    case completed
    /// The training loss became NaN or infinite at this step; the weights are
    /// those of the failed step (not updated by it).
    case diverged(epoch: Int, step: Int, loss: Double)
}

/// One epoch's figures.
public struct EpochRecord: Sendable, Codable, Equatable {
    /// 1-based number of the epoch just finished.
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double?
    public var learningRate: Float
    /// Wall time of the training steps (evaluation excluded).
    public var seconds: Double
    public var examplesPerSecond: Double
}

/// Loss and accuracy on a data set.
public struct Evaluation: Sendable, Codable, Equatable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int
}

/// What a training step exposes to callbacks.
public struct StepInfo {
    /// 0-based epoch.
    public var epoch: Int
    /// 0-based step within the epoch.
    public var stepInEpoch: Int
    /// 0-based step since the start of training.
    public var globalStep: Int
    public var loss: Double
    /// Examples in this minibatch.
    public var count: Int
    public var learningRate: Float
}

/// Observes a training run. Every method has an empty default, so a
/// callback implements only what it needs.
public protocol TrainingCallback: AnyObject {
    /// After the backward pass, before the optimizer step: every tensor's
    /// gradient (`Parameter.withGradients`) is ∂L/∂w of this minibatch.
    /// This is where |∂L/∂w| can be accumulated.
    func trainer(_ trainer: Trainer, didComputeGradients step: StepInfo)
    /// After the optimizer step (weights updated): where to snapshot the
    /// weights of iteration k for late rewinding.
    func trainer(_ trainer: Trainer, didStep step: StepInfo)
    /// After an epoch and its evaluation.
    func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord)
}

extension TrainingCallback {
    public func trainer(_ trainer: Trainer, didComputeGradients step: StepInfo) {}
    public func trainer(_ trainer: Trainer, didStep step: StepInfo) {}
    public func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord) {}
}

/// A minimal training loop: minibatches in a seeded order, one optimizer
/// step each, an evaluation per epoch, and callbacks for everything else.
///
/// ```swift
/// let trainer = Trainer(network: network, data: mnist, configuration: configuration)
/// trainer.callbacks.append(gradientAccumulator)
/// let status = trainer.train()
/// ```
public final class Trainer {
    public let network: Network
    public let configuration: TrainingConfiguration
    public let optimizer: Optimizer
    public let data: DatasetPair
    /// Computed from the training split only.
    public let normalization: Normalization
    public var callbacks: [TrainingCallback] = []
    /// Whether each epoch ends with an evaluation on the test split.
    public var evaluatesEachEpoch = true
    /// Completed epochs.
    public private(set) var epoch = 0
    /// Steps done in the current (incomplete) epoch; 0 at epoch boundaries.
    public private(set) var stepInEpoch = 0
    public private(set) var globalStep = 0
    public private(set) var status = TrainingStatus.inProgress
    public private(set) var history: [EpochRecord] = []
    /// Polled at every step boundary: once set, `train` and `trainEpoch`
    /// return after the step in flight, mid-epoch if need be, leaving a
    /// position that `checkpoint()` saves and `restore` resumes exactly.
    public var stopRequest: StopRequest?
    /// Whether the last `train` or `trainEpoch` returned because of `stopRequest`.
    public private(set) var stoppedEarly = false

    /// The current epoch's running sums (part of a mid-epoch checkpoint, so
    /// a resumed epoch reports the same training loss and accuracy).
    private var epochLossSum = 0.0, epochCorrect = 0, epochSeen = 0

    private var iterator: BatchIterator
    private var batch: Batch
    private var evaluationBatch: Batch

    public init(network: Network, data: DatasetPair, configuration: TrainingConfiguration,
                normalization: Normalization? = nil) {
        precondition(data.train.shape.pixelCount == network.inputShape.count,
                     "data set examples are \(data.train.shape), the network takes \(network.inputShape)")
        self.network = network
        self.data = data
        self.configuration = configuration
        self.normalization = normalization ?? Normalization(computedFrom: data.train)
        optimizer = Optimizer(configuration.optimizer, network: network)
        iterator = BatchIterator(dataset: data.train, batchSize: configuration.batchSize,
                                 normalization: self.normalization, seed: configuration.dataSeed)
        batch = Batch(capacity: configuration.batchSize, shape: data.train.shape)
        evaluationBatch = Batch(capacity: configuration.batchSize, shape: data.train.shape)
        network.prepare(batchCapacity: configuration.batchSize)
    }

    /// The learning rate of the next step.
    public var learningRate: Float {
        configuration.schedule.rate(base: configuration.optimizer.learningRate, epoch: epoch, globalStep: globalStep)
    }

    /// Trains until `configuration.epochs` are done (or `untilEpoch`, if
    /// given), the loss diverges, or a stop is requested (`stoppedEarly`).
    /// Resumes mid-epoch after `restore`.
    @discardableResult
    public func train(untilEpoch target: Int? = nil) -> TrainingStatus {
        let last = target ?? configuration.epochs
        stoppedEarly = false
        while epoch < last, status == .inProgress, !stoppedEarly {
            trainEpoch()
        }
        if status == .inProgress, epoch >= configuration.epochs { status = .completed }
        return status
    }

    /// Runs the rest of the current epoch; returns its record, or `nil` if
    /// the run diverged (see `status`) or stopped (`stoppedEarly`).
    @discardableResult
    public func trainEpoch() -> EpochRecord? {
        stoppedEarly = false
        guard status == .inProgress else { return nil }
        if stopRequest?.isRequested == true {
            stoppedEarly = true
            return nil
        }
        iterator.startEpoch(epoch)
        iterator.skip(batches: stepInEpoch)
        if stepInEpoch == 0 { (epochLossSum, epochCorrect, epochSeen) = (0, 0, 0) }
        let start = ContinuousClock.now
        let rate = learningRate
        while iterator.nextOnAllThreads(into: &batch) {
            let lr = learningRate
            let result = network.computeGradients(on: batch)
            var info = StepInfo(epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep,
                                loss: result.loss, count: batch.count, learningRate: lr)
            guard result.loss.isFinite else {
                status = .diverged(epoch: epoch, step: stepInEpoch, loss: result.loss)
                return nil
            }
            for callback in callbacks { callback.trainer(self, didComputeGradients: info) }
            optimizer.step(learningRate: lr)
            epochLossSum += result.loss * Double(batch.count)
            epochCorrect += result.correct
            epochSeen += batch.count
            stepInEpoch += 1
            globalStep += 1
            info.stepInEpoch = stepInEpoch - 1
            for callback in callbacks { callback.trainer(self, didStep: info) }
            // One relaxed atomic load per step.
            if stopRequest?.isRequested == true {
                stoppedEarly = true
                return nil
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        let test = evaluatesEachEpoch ? evaluate(data.test) : nil
        epoch += 1
        stepInEpoch = 0
        let seen = epochSeen
        let record = EpochRecord(epoch: epoch, trainLoss: epochLossSum / Double(max(seen, 1)),
                                 trainAccuracy: Double(epochCorrect) / Double(max(seen, 1)),
                                 testLoss: test?.loss, testAccuracy: test?.accuracy, learningRate: rate,
                                 seconds: seconds, examplesPerSecond: Double(seen) / max(seconds, 1e-9))
        history.append(record)
        for callback in callbacks { callback.trainer(self, didFinishEpoch: record) }
        if epoch >= configuration.epochs, status == .inProgress { status = .completed }
        return record
    }

    /// Mean loss and accuracy on `dataset` in evaluation mode (batch-norm
    /// running statistics), normalised like the training data.
    public func evaluate(_ dataset: Dataset) -> Evaluation {
        var evaluator = BatchIterator(dataset: dataset, batchSize: configuration.batchSize,
                                      normalization: normalization, seed: 0, shuffles: false)
        var lossSum = 0.0, correct = 0
        while evaluator.nextOnAllThreads(into: &evaluationBatch) {
            let result = network.evaluate(on: evaluationBatch)
            lossSum += result.loss * Double(evaluationBatch.count)
            correct += result.correct
        }
        let n = max(dataset.count, 1)
        return Evaluation(loss: lossSum / Double(n), accuracy: Double(correct) / Double(n), count: dataset.count)
    }

    /// Optimizer steps in one epoch.
    public var stepsPerEpoch: Int { iterator.batchesPerEpoch }

    /// Positions a fresh trainer at global step `step` (keeping weights,
    /// masks and a fresh optimizer): the next step draws step `step`'s
    /// minibatch and learning rate, and training runs the remaining steps.
    /// This is late rewinding's resume point (Frankle et al. 2020).
    public func start(atStep step: Int) {
        precondition(globalStep == 0 && history.isEmpty, "start(atStep:) is for a trainer that has not trained yet")
        let perEpoch = max(stepsPerEpoch, 1)
        setPosition(epoch: step / perEpoch, stepInEpoch: step % perEpoch, globalStep: step,
                    status: .inProgress, history: [])
    }

    /// Resets the optimizer state and the step counters to the start of
    /// training (keeping the weights and masks): a new pruning round.
    public func restart() {
        optimizer.reset()
        epoch = 0
        stepInEpoch = 0
        globalStep = 0
        status = .inProgress
        history = []
        (epochLossSum, epochCorrect, epochSeen) = (0, 0, 0)
    }

    /// The current epoch's running sums (for `checkpoint()`).
    var epochSums: (loss: Double, correct: Int, seen: Int) { (epochLossSum, epochCorrect, epochSeen) }

    /// Moves the position counters (used by `restore`).
    func setPosition(epoch: Int, stepInEpoch: Int, globalStep: Int, status: TrainingStatus, history: [EpochRecord],
                     epochSums: (loss: Double, correct: Int, seen: Int) = (0, 0, 0)) {
        (epochLossSum, epochCorrect, epochSeen) = epochSums
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.status = status
        self.history = history
    }
}

extension Duration {
    /// Seconds as a Double.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
