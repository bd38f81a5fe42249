import Datasets
import Foundation
import MatrixKernels
import Randomness
import XCTest
@testable import Networks

/// The sparse path must give the dense path's bits: per layer (outputs,
/// input gradients, weight gradients with masked entries exactly +0), and
/// over whole training runs (checkpoint bytes), on 1, 2 and 3 threads.
final class SparseExecutionTests: XCTestCase {
    static let densities = [1.0, 0.5, 0.25, 1.0 / 16, 1.0 / 64, 0]

    private func randomMask(count: Int, density: Double, generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Double(generator.nextUniform()) < density ? 1 : 0 }
    }

    private func randomValues(_ count: Int, generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in generator.nextUniform() * 2 - 1 }
    }

    private func assertSameBits(_ got: UnsafePointer<Float>?, _ want: UnsafePointer<Float>?, count: Int, _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        guard let got, let want else { return XCTAssert(got == nil && want == nil, what, file: file, line: line) }
        for i in 0..<count where got[i].bitPattern != want[i].bitPattern {
            return XCTFail("\(what): element \(i) is \(got[i]) sparse, \(want[i]) dense", file: file, line: line)
        }
    }

    /// Runs forward and backward through two copies of a layer, one per
    /// path, on the same batch and output gradient, and compares every result.
    private func assertPathsAgree(make: () -> Layer, inputShape: FeatureShape, count: Int, density: Double, seed: UInt64,
                                  needsInputGradient: Bool = true, poison: Int? = nil,
                                  file: StaticString = #filePath, line: UInt = #line) {
        var generator = SeededGenerator(seed: seed)
        let dense = make(), sparse = make()
        let outputShape = try! dense.outputShape(for: inputShape)
        var x = randomValues(count * inputShape.count, generator: &generator)
        if let poison { x[poison] = .nan }
        let dy = randomValues(count * outputShape.count, generator: &generator)
        for (index, tensor) in dense.parameters.enumerated() {
            let values = randomValues(tensor.count, generator: &generator)
            let mask = tensor.isPrunable ? randomMask(count: tensor.count, density: density, generator: &generator) : nil
            for layer in [dense, sparse] {
                let copy = layer.parameters[index]
                copy.values = values
                if let mask { copy.mask = mask }
                copy.execution = layer === dense ? .dense : .sparse
            }
        }
        for layer in [dense, sparse] { layer.prepare(inputShape: inputShape, batchCapacity: count) }
        let what = "\(dense.name) density \(density) batch \(count) threads \(WorkerPool.shared.threadCount)"
        x.withUnsafeBufferPointer { x in
            dy.withUnsafeBufferPointer { dy in
                let yDense = dense.forward(x.baseAddress!, count: count, mode: .training)
                let ySparse = sparse.forward(x.baseAddress!, count: count, mode: .training)
                assertSameBits(ySparse, yDense, count: count * outputShape.count, "forward of " + what, file: file, line: line)
                let dxDense = dense.backward(dy.baseAddress!, count: count, needsInputGradient: needsInputGradient)
                let dxSparse = sparse.backward(dy.baseAddress!, count: count, needsInputGradient: needsInputGradient)
                assertSameBits(dxSparse, dxDense, count: count * inputShape.count, "input gradient of " + what,
                               file: file, line: line)
            }
        }
        for (d, s) in zip(dense.parameters, sparse.parameters) {
            XCTAssertEqual(s.gradients.map(\.bitPattern), d.gradients.map(\.bitPattern), "\(s.name) gradient, " + what,
                           file: file, line: line)
            if let mask = s.mask {
                for i in 0..<s.count where mask[i] == 0 {
                    XCTAssertEqual(s.gradients[i].bitPattern, 0, "\(s.name) masked gradient \(i)", file: file, line: line)
                }
            }
        }
    }

    private func onOneTwoAndThreeThreads(_ body: () -> Void) {
        defer { setThreadCount(2) }
        for threads in [1, 2, 3] {
            setThreadCount(threads)
            body()
        }
    }

    func testDenseLayerSparsePathGivesTheGEMMBits() {
        onOneTwoAndThreeThreads {
            for (inputs, outputs, count) in [(37, 23, 13), (300, 100, 60), (784, 30, 17), (100, 10, 128)] {
                for density in Self.densities {
                    assertPathsAgree(make: { Dense(name: "fc", inputs: inputs, outputs: outputs) },
                                     inputShape: FeatureShape(channels: inputs), count: count, density: density,
                                     seed: UInt64(inputs * 7 + count))
                }
            }
            // The first layer of a network computes no input gradient.
            assertPathsAgree(make: { Dense(name: "fc1", inputs: 50, outputs: 20, bias: false) },
                             inputShape: FeatureShape(channels: 50), count: 9, density: 0.1, seed: 3, needsInputGradient: false)
        }
    }

    func testConvolutionSparsePathGivesTheGEMMBits() {
        onOneTwoAndThreeThreads {
            let cases: [(String, () -> Layer, FeatureShape, Int)] = [
                // 7×7 outputs: groups of 6 examples, dW summed per group.
                ("3x3", { Convolution(name: "conv", inputs: 3, outputs: 5, kernel: 3, padding: 1) },
                 FeatureShape(channels: 3, height: 7, width: 7), 9),
                ("strided", { Convolution(name: "conv", inputs: 4, outputs: 6, kernel: 3, stride: 2, padding: 1, bias: false) },
                 FeatureShape(channels: 4, height: 16, width: 16), 5),
                ("pointwise", { Convolution(name: "conv", inputs: 6, outputs: 4, kernel: 1) },
                 FeatureShape(channels: 6, height: 5, width: 5), 11),
                // 17×17 outputs: one example per group, dW beside the input gradients.
                ("large", { Convolution(name: "conv", inputs: 2, outputs: 3, kernel: 3, padding: 1) },
                 FeatureShape(channels: 2, height: 17, width: 17), 4),
                // 64 filters of 16×3×3 taps, as in ResNet-20's first stage (on 8×8).
                ("wide", { Convolution(name: "conv", inputs: 16, outputs: 64, kernel: 3, padding: 1, bias: false) },
                 FeatureShape(channels: 16, height: 8, width: 8), 6),
            ]
            for (label, make, shape, count) in cases {
                for density in Self.densities {
                    assertPathsAgree(make: make, inputShape: shape, count: count, density: density,
                                     seed: UInt64(label.count * 31 + count))
                }
                assertPathsAgree(make: make, inputShape: shape, count: count, density: 0.2, seed: 9, needsInputGradient: false)
            }
        }
    }

    /// A NaN in the batch reaches every output through the GEMM, masked
    /// weights included; the sparse path must not hide it, so it defers.
    func testNonFiniteBatchGivesTheGEMMBits() {
        assertPathsAgree(make: { Dense(name: "fc", inputs: 40, outputs: 12) }, inputShape: FeatureShape(channels: 40),
                         count: 5, density: 0.05, seed: 4, poison: 7)
        assertPathsAgree(make: { Convolution(name: "conv", inputs: 2, outputs: 4, kernel: 3, padding: 1) },
                         inputShape: FeatureShape(channels: 2, height: 6, width: 6), count: 3, density: 0.05, seed: 5,
                         poison: 20)
    }

    func testAutoChoosesByShapeAndDensityOnly() {
        let tensor = Parameter(name: "w", kind: .weight, shape: [10, 40])
        XCTAssertFalse(tensor.usesSparseProducts, "an unpruned tensor stays dense")
        tensor.mask = (0..<400).map { $0 % 4 == 0 ? 1 : 0 }
        XCTAssertFalse(tensor.usesSparseProducts, "a dense layer stays dense at 1/4")
        XCTAssertFalse(tensor.usesSparseGradient, "so does its weight gradient")
        tensor.mask = (0..<400).map { $0 % 8 == 0 ? 1 : 0 }
        XCTAssertTrue(tensor.usesSparseProducts, "1/8 is below the crossover")
        XCTAssertFalse(tensor.usesSparseGradient, "1/8 is above the gradient's crossover")
        tensor.mask = (0..<400).map { $0 % 16 == 0 ? 1 : 0 }
        XCTAssertTrue(tensor.usesSparseGradient, "1/16 is below it")
        let kernels = Parameter(name: "k", kind: .weight, shape: [4, 4, 3, 3])
        kernels.mask = (0..<144).map { $0 % 4 == 0 ? 1 : 0 }
        XCTAssertFalse(kernels.usesSparseProducts, "a convolution stays dense at 1/4")
        kernels.mask = (0..<144).map { $0 % 8 == 0 ? 1 : 0 }
        XCTAssertFalse(kernels.usesSparseProducts, "and at 1/8 (a dense layer's products are sparse there)")
        kernels.mask = (0..<144).map { $0 % 16 == 0 ? 1 : 0 }
        XCTAssertTrue(kernels.usesSparseProducts && kernels.usesSparseGradient,
                      "36 taps per filter: products and weight gradient are sparse at 1/16")
        let wide = Parameter(name: "k64", kind: .weight, shape: [8, 64, 3, 3])
        wide.mask = (0..<4608).map { $0 % 16 == 0 ? 1 : 0 }
        XCTAssertTrue(wide.usesSparseProducts && !wide.usesSparseGradient, "576 taps: the GEMM's dW at 1/16")
        wide.mask = (0..<4608).map { $0 % 32 == 0 ? 1 : 0 }
        XCTAssertTrue(wide.usesSparseGradient, "and the sparse one at 1/32")
        kernels.mask = (0..<144).map { $0 % 16 == 0 ? 1 : 0 }
        XCTAssertTrue(kernels.usesSparseGradient, "and all of it at 1/16")
        tensor.execution = .dense
        XCTAssertFalse(tensor.usesSparseProducts)
        tensor.execution = .sparse
        tensor.mask = nil
        XCTAssertTrue(tensor.usesSparseProducts && tensor.usesSparseGradient, "forced sparse even at density 1")
        XCTAssertFalse(Parameter(name: "b", kind: .bias, shape: [10]).usesSparseProducts)
    }

    // MARK: - Whole runs

    /// Trains `network` from `checkpoint` state in one execution mode,
    /// pruning a fresh mask after the first epoch (optimizer state non-zero),
    /// and returns the final checkpoint's bytes and Σ|g| over every step.
    private func trainedBytes(_ make: () -> Network, execution: Execution, data: DatasetPair,
                              configuration: TrainingConfiguration, density: Double) throws -> (Data, [[Float]]) {
        let network = make()
        network.execution = execution
        var generator = SeededGenerator(seed: 17)
        for tensor in network.prunableTensors { tensor.mask = randomMask(count: tensor.count, density: density, generator: &generator) }
        let trainer = Trainer(network: network, data: data, configuration: configuration)
        let sums = AbsoluteGradientSums(network: network)
        trainer.callbacks.append(sums)
        trainer.train(untilEpoch: 1)
        for tensor in network.prunableTensors {
            let old = tensor.mask!
            tensor.mask = old.map { $0 == 1 && generator.nextUniform() < 0.5 ? 1 : 0 }
        }
        XCTAssertEqual(trainer.train(), .completed)
        var checkpoint = trainer.checkpoint()
        // Wall times are the one thing allowed to differ.
        for i in checkpoint.header.history.indices {
            checkpoint.header.history[i].seconds = 0
            checkpoint.header.history[i].examplesPerSecond = 0
        }
        return (try checkpoint.encoded(), sums.sums)
    }

    private func assertRunsAgree(_ label: String, make: () -> Network, data: DatasetPair,
                                 configurations: [TrainingConfiguration], density: Double) throws {
        for configuration in configurations {
            let (dense, denseSums) = try trainedBytes(make, execution: .dense, data: data, configuration: configuration, density: density)
            for execution in [Execution.sparse, .auto] {
                let (bytes, sums) = try trainedBytes(make, execution: execution, data: data, configuration: configuration,
                                                     density: density)
                XCTAssertEqual(bytes, dense, "\(label) \(configuration.optimizer.kind) momentum \(configuration.optimizer.momentum): "
                               + "\(execution) checkpoint differs from dense")
                XCTAssertEqual(sums.map { $0.map(\.bitPattern) }, denseSums.map { $0.map(\.bitPattern) }, "\(label) Σ|g| \(execution)")
            }
        }
    }

    private func configurations(batchSize: Int) -> [TrainingConfiguration] {
        [OptimizerConfiguration.sgd(learningRate: 0.05, weightDecay: 1e-3),
         .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
         .adam(learningRate: 1e-2, weightDecay: 1e-3)].map {
            TrainingConfiguration(epochs: 2, batchSize: batchSize, optimizer: $0, dataSeed: 3)
        }
    }

    func testShortConvolutionalRunGivesTheSameCheckpointOnEitherPath() throws {
        defer { setThreadCount(2) }
        for threads in [1, 3] {
            setThreadCount(threads)
            try assertRunsAgree("tiny-cnn threads \(threads)", make: { tinyConvNet(seed: 2) }, data: syntheticData(),
                                configurations: configurations(batchSize: 8), density: 0.2)
        }
    }

    func testShortLeNetRunOnMNISTGivesTheSameCheckpointOnEitherPath() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        var data = try loadDataset(named: "mnist", in: root + "/datasets/mnist")
        data.train = data.train.prefix(512)
        data.test = data.test.prefix(128)
        let make = { try! ModelRegistry.make("lenet-300-100", inputShape: FeatureShape(channels: 1, height: 28, width: 28),
                                             classCount: 10, seed: 4) }
        try assertRunsAgree("lenet-300-100", make: make, data: data, configurations: configurations(batchSize: 128),
                            density: 0.1)
    }
}

/// Σ|∂L/∂w| over every step, through `Parameter.addAbsoluteGradients` (what
/// the data-dependent criterion accumulates).
private final class AbsoluteGradientSums: TrainingCallback {
    let tensors: [Parameter]
    var sums: [[Float]]

    init(network: Network) {
        tensors = network.prunableTensors
        sums = tensors.map { [Float](repeating: 0, count: $0.count) }
    }

    func trainer(_ trainer: Trainer, didComputeGradients step: StepInfo) {
        for index in tensors.indices { sums[index].withUnsafeMutableBufferPointer { tensors[index].addAbsoluteGradients(to: $0) } }
    }
}
