import ArgumentParser
import Datasets
import MatrixKernels
import Networks
import Randomness

/// The fixed workloads whose instruction counts `make bench-check` compares
/// with `results/baseline/instructions.csv` (under `valgrind --tool=callgrind`).
///
/// Hidden from the help: it exists for the regression guard, not for users.
/// A subcommand of `ticket` rather than its own executable so the guard
/// measures exactly the binary users run, built once by `make build`.
/// Everything is synthetic and seeded (no data files, so it runs on any
/// clone) and on one thread (a second thread's spinning would make the count
/// depend on scheduling).
struct InstructionWorkloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instruction-workload",
        abstract: "Run one fixed, seeded workload on 1 thread (for make bench-check).",
        discussion: "Workloads: \(InstructionWorkload.allCases.map(\.rawValue).joined(separator: ", ")).",
        shouldDisplay: false
    )

    @Argument(help: "The workload to run.") var workload: String?
    @Flag(help: "List the workload names, one a line.") var list = false

    func run() throws {
        try reportingErrors {
            if list {
                for workload in InstructionWorkload.allCases { print(workload.rawValue) }
                return
            }
            guard let workload, let chosen = InstructionWorkload(rawValue: workload) else {
                throw ValidationFailure("unknown or missing workload \(workload ?? ""); known: "
                                        + InstructionWorkload.allCases.map(\.rawValue).joined(separator: ", "))
            }
            configureThreads(1)
            print("\(chosen.rawValue): checksum \(try chosen.run())")
        }
    }
}

/// One workload of the instruction-count guard. Only the work inside
/// `measuredRegion` is counted (the guard runs callgrind with
/// `--toggle-collect=*measuredRegion*`), so process start-up, model
/// construction and the random inputs do not dilute a kernel's change.
/// Sizes are small so that the whole set runs in well under two minutes
/// under callgrind (~50x slower than native).
enum InstructionWorkload: String, CaseIterable {
    /// Training steps: SGD with momentum and weight decay on random images.
    case lenet = "train-lenet-300-100", conv2 = "train-conv-2", resnet20 = "train-resnet-20"
    /// The same steps with every weight tensor pruned to a random mask, so
    /// that `auto` takes the sparse kernels (issue 12): LeNet at 1/64 (all
    /// of fc1, fc2 and fc3 fully sparse), Conv-2 at 1/16 (every product
    /// sparse, and every weight gradient but that of the 576-tap second
    /// convolution, which keeps the GEMM's).
    case lenetSparse = "train-lenet-300-100-at-1/64", conv2Sparse = "train-conv-2-at-1/16"
    /// Single products: a square, LeNet's forward product as the trainer
    /// issues it, and a small-m convolution product (ResNet-20's first stage).
    case gemmSquare = "gemm-256x256x256", gemmDense = "gemm-60x300x784-nt", gemmConv = "gemm-16x1024x144"

    /// Runs the workload; returns a checksum of its output, so a reader can
    /// see that two runs computed the same thing.
    func run() throws -> Float {
        switch self {
        case .lenet: return try train("lenet-300-100", shape: ImageShape(height: 28, width: 28, channels: 1), batch: 60, steps: 3)
        // Conv-2 on 16×16 images: the same layers with a quarter of the
        // dense weights, whose seeded initialisation (outside the counted
        // region) otherwise took most of the guard's time.
        case .conv2: return try train("conv-2", shape: ImageShape(height: 16, width: 16, channels: 3), batch: 2, steps: 2)
        // Batch 4 so ResNet-20's 8×8 stage still unfolds a group of four
        // examples together, as at batch 128; one step keeps it under 30 s.
        case .resnet20: return try train("resnet-20", shape: ImageShape(height: 32, width: 32, channels: 3), batch: 4, steps: 1)
        case .lenetSparse:
            return try train("lenet-300-100", shape: ImageShape(height: 28, width: 28, channels: 1), batch: 60, steps: 3,
                             density: 1.0 / 64)
        case .conv2Sparse:
            return try train("conv-2", shape: ImageShape(height: 16, width: 16, channels: 3), batch: 2, steps: 2,
                             density: 1.0 / 16)
        case .gemmSquare: return product(m: 256, n: 256, k: 256, transB: .none)
        case .gemmDense: return product(m: 60, n: 300, k: 784, transB: .transposed)
        case .gemmConv: return product(m: 16, n: 1024, k: 144, transB: .none)
        }
    }

    /// `steps` training steps of `model` on seeded random pixels, every
    /// weight tensor first pruned to a seeded random mask of `density` if
    /// given; returns the sum of the final weights.
    private func train(_ model: String, shape: ImageShape, batch: Int, steps: Int, density: Double? = nil) throws -> Float {
        let count = batch * steps
        var generator = SeededGenerator(seed: 11)
        let pixels = (0..<count * shape.pixelCount).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let labels = (0..<count).map { _ in UInt8(generator.nextIndex(below: 10)) }
        let images = Dataset(name: "synthetic", split: .train, shape: shape, classCount: 10, pixels: pixels, labels: labels)
        let network = try ModelRegistry.make(model, inputShape: FeatureShape(channels: shape.channels, height: shape.height,
                                                                            width: shape.width), classCount: 10, seed: 1)
        if let density {
            var masks = SeededGenerator(seed: 13)
            for tensor in network.prunableTensors {
                tensor.mask = (0..<tensor.count).map { _ in masks.nextUniformDouble() < density ? 1 : 0 }
            }
        }
        let configuration = TrainingConfiguration(
            epochs: 1, batchSize: batch,
            optimizer: .sgd(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4),
            schedule: LearningRateSchedule(), dataSeed: 1)
        let trainer = Trainer(network: network, data: DatasetPair(train: images, test: images.prefix(0)),
                              configuration: configuration)
        trainer.evaluatesEachEpoch = false
        _ = measuredRegion { trainer.train() }
        return network.trainableParameters.reduce(0) { sum, tensor in
            tensor.withValues { values in values.reduce(sum, +) }
        }
    }

    /// One `gemm` of seeded random operands (B stored `n × k` when transposed); returns the sum of C.
    private func product(m: Int, n: Int, k: Int, transB: Transpose) -> Float {
        var generator = SeededGenerator(seed: 12)
        let a = (0..<m * k).map { _ in generator.nextUniform() - 0.5 }
        let b = (0..<k * n).map { _ in generator.nextUniform() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        measuredRegion {
            gemm(transB: transB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: transB == .none ? n : k, c: &c, ldc: n)
        }
        return c.reduce(0, +)
    }
}

/// Runs `body`; the instruction-count guard counts only what happens inside
/// (callgrind toggles collection on entering and leaving a function of this
/// name, so it must not be inlined, nor call itself).
@inline(never)
func measuredRegion<Result>(_ body: () throws -> Result) rethrows -> Result {
    try body()
}
