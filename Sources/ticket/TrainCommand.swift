import ArgumentParser
import Datasets
import Foundation
import MatrixKernels
import Networks

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model of the zoo densely and print one line per epoch.",
        discussion: """
        Each line: epoch, mean training loss, test accuracy, seconds of training, examples per second.
        Example: ticket train --model lenet-300-100 --dataset mnist --epochs 10 --batch-size 60 --optimizer adam --lr 1.2e-3 --seed 1
        """
    )

    @Option(help: "Model name (see `ticket models`).") var model: String = "lenet-300-100"
    @Option(help: "Data set name: mnist, fashion-mnist, cifar-10, cifar-100.") var dataset: String = "mnist"
    @Option(help: "Directory to look in for data sets besides datasets/ and TICKET_DATA.") var dataRoot: String?
    @Option(help: "Epochs to train.") var epochs: Int = 10
    @Option(help: "Minibatch size.") var batchSize: Int = 60
    @Option(help: "sgd or adam.") var optimizer: String = "adam"
    @Option(help: "Learning rate.") var lr: Float = 1.2e-3
    @Option(help: "SGD momentum.") var momentum: Float = 0
    @Flag(help: "Nesterov momentum (SGD).") var nesterov = false
    @Option(help: "Weight decay (L2 coefficient).") var weightDecay: Float = 0
    @Option(help: "Comma-separated epochs at which the rate is multiplied by 0.1.") var milestones: String = ""
    @Option(help: "Linear warm-up steps.") var warmupSteps: Int = 0
    @Option(help: "Model seed: the initial weights depend only on it.") var seed: UInt64 = 1
    @Option(help: "Data-order seed (default: the model seed).") var dataSeed: UInt64?
    @Option(name: [.customLong("init"), .long],
            help: "Initialiser (default: the model's): kaiming-normal, kaiming-uniform, glorot-normal, glorot-uniform.")
    var initializer: String?
    @Option(help: "Input scaling: standard (per-channel mean/std of the training split) or unit (pixel/255).")
    var normalization: String = "standard"
    @Option(help: "Worker threads for the matrix kernels.") var threads: Int = 2
    @Option(help: "Products with pruned weights: auto, dense or sparse (same results; speed only).")
    var execution: Execution = .auto
    @Option(help: "Use only the first N training examples (quick runs).") var trainLimit: Int?
    @Option(help: "Evaluate on only the first N test examples (quick runs).") var testLimit: Int?
    @Option(help: "Write the per-epoch rows to this CSV file.") var csv: String?
    @Option(help: "Write a checkpoint here after every epoch (atomically).") var checkpoint: String?
    @Option(help: "Resume from this checkpoint.") var resume: String?
    @Flag(help: "No progress bar, even on a terminal.") var noProgress = false

    func run() throws {
        // One line per epoch should appear as it happens, even in a log file.
        setvbuf(stdout, nil, _IOLBF, 0)
        try reportingErrors {
            guard epochs > 0, batchSize > 0, threads > 0 else {
                throw ValidationFailure("--epochs, --batch-size and --threads must be positive")
            }
            guard let kind = OptimizerConfiguration.Kind(rawValue: optimizer.lowercased()) else {
                throw ValidationFailure("unknown optimizer \(optimizer); use sgd or adam")
            }
            let scheme = try initializer.map { name -> Initializer in
                guard let scheme = Initializer(rawValue: name) else {
                    throw ValidationFailure("unknown initializer \(name); use \(Initializer.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return scheme
            }
            let milestoneEpochs = try milestones.split(separator: ",").map { text -> Int in
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else { throw ValidationFailure("bad milestone \(text)") }
                return value
            }
            guard ["standard", "unit"].contains(normalization) else {
                throw ValidationFailure("unknown normalization \(normalization); use standard or unit")
            }
            configureThreads(threads)
            Execution.processDefault = execution

            var locator = DataLocator.standard()
            if let dataRoot { locator.roots.append(dataRoot) }
            var data = try locator.load(named: dataset)
            if let note = data.train.partialNote { printError("warning: \(dataset): \(note)") }
            if let trainLimit { data.train = data.train.prefix(trainLimit) }
            if let testLimit { data.test = data.test.prefix(testLimit) }

            let input = FeatureShape(channels: data.train.shape.channels, height: data.train.shape.height,
                                     width: data.train.shape.width)
            let network = try ModelRegistry.make(model, inputShape: input, classCount: data.train.classCount,
                                                 seed: seed, initializer: scheme)
            let optimizerConfiguration = kind == .adam
                ? OptimizerConfiguration.adam(learningRate: lr, weightDecay: weightDecay)
                : .sgd(learningRate: lr, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
            let configuration = TrainingConfiguration(
                epochs: epochs, batchSize: batchSize, optimizer: optimizerConfiguration,
                schedule: LearningRateSchedule(milestones: milestoneEpochs, warmupSteps: warmupSteps),
                dataSeed: dataSeed ?? seed)
            let scaling = normalization == "unit" ? Normalization.unitInterval(channels: data.train.shape.channels) : nil
            let trainer = Trainer(network: network, data: data, configuration: configuration, normalization: scaling)
            if let resume { try trainer.restore(Checkpoint.read(from: resume)) }

            let log = EpochLog(csvPath: csv, model: model, dataset: dataset, seed: seed, threads: threads,
                               optimizer: kind.rawValue, batchSize: batchSize)
            try log.writeHeader()
            trainer.callbacks.append(log)
            if !noProgress, isatty(STDERR_FILENO) != 0 {
                trainer.callbacks.append(ProgressBar(stepsPerEpoch: (data.train.count + batchSize - 1) / batchSize))
            }
            if let checkpoint { trainer.callbacks.append(CheckpointWriter(path: checkpoint)) }

            print("model=\(model) parameters=\(network.parameterCount) dataset=\(dataset) train=\(data.train.count) "
                  + "test=\(data.test.count) optimizer=\(kind.rawValue) lr=\(lr) batch=\(batchSize) seed=\(seed) threads=\(threads)")
            let status = trainer.train()
            if let error = log.error { throw error }
            if let writer = trainer.callbacks.compactMap({ $0 as? CheckpointWriter }).first, let error = writer.error {
                throw error
            }
            if case let .diverged(epoch, step, loss) = status {
                throw ValidationFailure("training diverged at epoch \(epoch + 1), step \(step): loss \(loss)")
            }
        }
    }
}

/// A one-line error for bad options or a failed run.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints one line per epoch and appends the same figures to a CSV file.
final class EpochLog: TrainingCallback {
    let csvPath: String?
    let prefix: String
    var error: Error?

    init(csvPath: String?, model: String, dataset: String, seed: UInt64, threads: Int, optimizer: String, batchSize: Int) {
        self.csvPath = csvPath
        prefix = "\(model),\(dataset),\(optimizer),\(batchSize),\(seed),\(threads)"
    }

    func writeHeader() throws {
        guard let csvPath else { return }
        let header = "model,dataset,optimizer,batch_size,seed,threads,epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,examples_per_second\n"
        do { try header.write(toFile: csvPath, atomically: true, encoding: .utf8) } catch {
            throw ValidationFailure("\(csvPath): cannot write (\(error.localizedDescription))")
        }
    }

    func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord) {
        let accuracy = record.testAccuracy.map { String(format: "%.4f", $0) } ?? "nan"
        print("epoch=\(record.epoch) train_loss=\(String(format: "%.4f", record.trainLoss)) test_accuracy=\(accuracy) "
              + "seconds=\(String(format: "%.3f", record.seconds)) examples_per_second=\(String(format: "%.0f", record.examplesPerSecond))")
        guard let csvPath, error == nil else { return }
        let row = [prefix, String(record.epoch), String(format: "%.6f", record.trainLoss), String(format: "%.6f", record.trainAccuracy),
                   record.testLoss.map { String(format: "%.6f", $0) } ?? "", record.testAccuracy.map { String(format: "%.6f", $0) } ?? "",
                   String(format: "%.4f", record.seconds), String(format: "%.1f", record.examplesPerSecond)].joined(separator: ",") + "\n"
        guard let handle = FileHandle(forWritingAtPath: csvPath) else {
            error = ValidationFailure("\(csvPath): cannot append")
            return
        }
        handle.seekToEndOfFile()
        handle.write(Data(row.utf8))
        handle.closeFile()
    }
}

/// Saves a checkpoint at the end of every epoch.
final class CheckpointWriter: TrainingCallback {
    let path: String
    var error: Error?
    init(path: String) { self.path = path }

    func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord) {
        do { try trainer.checkpoint().write(to: path) } catch { self.error = error }
    }
}

/// A progress bar on standard error, redrawn every 1% of an epoch.
final class ProgressBar: TrainingCallback {
    let stepsPerEpoch: Int
    private var lastDrawn = -1

    init(stepsPerEpoch: Int) { self.stepsPerEpoch = max(stepsPerEpoch, 1) }

    func trainer(_ trainer: Trainer, didStep step: StepInfo) {
        let percent = (step.stepInEpoch + 1) * 100 / stepsPerEpoch
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let filled = percent * 30 / 100
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: 30 - filled)
        FileHandle.standardError.write(Data("\repoch \(step.epoch + 1) [\(bar)] \(percent)% loss \(String(format: "%.4f", step.loss))".utf8))
    }

    func trainer(_ trainer: Trainer, didFinishEpoch record: EpochRecord) {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        lastDrawn = -1
    }
}

/// Sets the matrix kernels' worker count.
func configureThreads(_ count: Int) {
    setThreadCount(count)
}

// `--execution auto|dense|sparse` on train and sweep.
extension Execution: ExpressibleByArgument {}
