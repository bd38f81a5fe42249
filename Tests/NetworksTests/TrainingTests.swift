import Datasets
import Foundation
import MatrixKernels
import XCTest
@testable import Networks

final class TrainingTests: XCTestCase {
    let optimizers: [OptimizerConfiguration] = [
        .sgd(learningRate: 0.05, weightDecay: 1e-3),
        .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3),
        .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
        .adam(learningRate: 1e-2, weightDecay: 1e-3),
    ]

    func configuration(_ optimizer: OptimizerConfiguration, epochs: Int = 2) -> TrainingConfiguration {
        TrainingConfiguration(epochs: epochs, batchSize: 8, optimizer: optimizer,
                              schedule: LearningRateSchedule(milestones: [1], factor: 0.5, warmupSteps: 3), dataSeed: 5)
    }

    /// Masks applied mid-training (when momentum and Adam moments are
    /// non-zero) keep the masked weights and their state at exactly +0.
    func testMaskedWeightsStayZeroWithEveryOptimizer() {
        for optimizer in optimizers {
            let network = tinyConvNet(seed: 1)
            let trainer = Trainer(network: network, data: syntheticData(), configuration: configuration(optimizer, epochs: 3))
            trainer.train(untilEpoch: 1)
            maskHalf(network, seed: 2)
            let before = network.snapshot()
            trainer.train()
            XCTAssertEqual(trainer.status, .completed)
            var changed = 0
            for tensor in network.prunableTensors {
                let mask = tensor.mask!, values = tensor.values
                for i in 0..<tensor.count {
                    if mask[i] == 0 {
                        XCTAssertEqual(values[i].bitPattern, 0, "\(optimizer.kind) \(tensor.name)[\(i)]")
                    } else if values[i] != before.values[tensor.name]![i] {
                        changed += 1
                    }
                }
            }
            XCTAssertGreaterThan(changed, 50, "\(optimizer.kind): unmasked weights should train")
            for (name, buffer) in trainer.optimizer.state().buffers {
                let tensorName = String(name.split(separator: "/", maxSplits: 1)[1])
                guard let mask = network.parameter(named: tensorName)!.mask else { continue }
                for i in buffer.indices where mask[i] == 0 { XCTAssertEqual(buffer[i], 0, name) }
            }
        }
    }

    func testLossFallsAndAccuracyRises() {
        let network = tinyConvNet(seed: 3)
        let trainer = Trainer(network: network, data: syntheticData(trainCount: 96),
                              configuration: configuration(.adam(learningRate: 1e-2), epochs: 8))
        let before = trainer.evaluate(trainer.data.test)
        trainer.train()
        let after = trainer.history.last!
        XCTAssertLessThan(after.trainLoss, trainer.history.first!.trainLoss)
        XCTAssertLessThan(after.testLoss!, before.loss * 0.7)
        XCTAssertGreaterThan(after.testAccuracy!, 0.6)
    }

    func testSameSeedsGiveIdenticalBits() {
        for optimizer in [optimizers[2], optimizers[3]] {
            func run(dataSeed: UInt64) -> [String: [UInt32]] {
                let network = tinyConvNet(seed: 4)
                var c = configuration(optimizer)
                c.dataSeed = dataSeed
                Trainer(network: network, data: syntheticData(), configuration: c).train()
                return bits(network)
            }
            XCTAssertEqual(run(dataSeed: 5), run(dataSeed: 5))
            XCTAssertNotEqual(run(dataSeed: 5), run(dataSeed: 6))
        }
    }

    /// Two epochs straight versus one, a checkpoint through a file, a fresh
    /// network (other seed) restored from it, and a second epoch: identical bits.
    func testCheckpointRoundTripResumesExactly() throws {
        let path = NSTemporaryDirectory() + "/networks-test-\(ProcessInfo.processInfo.processIdentifier).ckpt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for optimizer in [optimizers[1], optimizers[3]] {
            let c = configuration(optimizer)
            let straight = tinyConvNet(seed: 6)
            maskHalf(straight, seed: 1)
            let straightTrainer = Trainer(network: straight, data: syntheticData(), configuration: c)
            straightTrainer.train()

            let first = tinyConvNet(seed: 6)
            maskHalf(first, seed: 1)
            let firstTrainer = Trainer(network: first, data: syntheticData(), configuration: c)
            firstTrainer.train(untilEpoch: 1)
            try firstTrainer.checkpoint().write(to: path)

            let resumed = tinyConvNet(seed: 77)
            let resumedTrainer = Trainer(network: resumed, data: syntheticData(), configuration: c)
            try resumedTrainer.restore(Checkpoint.read(from: path))
            XCTAssertEqual(resumedTrainer.epoch, 1)
            resumedTrainer.train()

            XCTAssertEqual(bits(resumed), bits(straight), "\(optimizer.kind)")
            XCTAssertEqual(resumed.prunableTensors.map(\.mask), straight.prunableTensors.map(\.mask))
            XCTAssertEqual(resumedTrainer.optimizer.state(), straightTrainer.optimizer.state())
            XCTAssertEqual(resumedTrainer.history.map(\.trainLoss), straightTrainer.history.map(\.trainLoss))
        }
    }

    /// A stop requested mid-epoch ends training after that step; a checkpoint
    /// of that position, restored into a fresh trainer, finishes with the
    /// bits and the epoch records (training loss and accuracy included) of a
    /// trainer that never stopped.
    func testStopMidEpochThenCheckpointResumesWithTheSameBitsAndRecords() throws {
        final class StopAt: TrainingCallback {
            let step: Int, request: StopRequest
            init(step: Int, request: StopRequest) { self.step = step; self.request = request }
            func trainer(_ trainer: Trainer, didStep info: StepInfo) { if info.globalStep == step { request.request() } }
        }
        let c = configuration(optimizers[3])
        let straight = tinyConvNet(seed: 6)
        let straightTrainer = Trainer(network: straight, data: syntheticData(), configuration: c)
        straightTrainer.train()

        let first = tinyConvNet(seed: 6)
        let firstTrainer = Trainer(network: first, data: syntheticData(), configuration: c)
        let stop = StopRequest()
        firstTrainer.stopRequest = stop
        firstTrainer.callbacks = [StopAt(step: 8, request: stop)]  // 6 steps per epoch: stops inside epoch 2
        firstTrainer.train()
        XCTAssertTrue(firstTrainer.stoppedEarly)
        XCTAssertEqual(firstTrainer.status, .inProgress)
        XCTAssertEqual([firstTrainer.epoch, firstTrainer.stepInEpoch, firstTrainer.globalStep], [1, 3, 9])
        let saved = try Checkpoint(decoding: firstTrainer.checkpoint().encoded())

        let resumed = tinyConvNet(seed: 77)
        let resumedTrainer = Trainer(network: resumed, data: syntheticData(), configuration: c)
        try resumedTrainer.restore(saved)
        resumedTrainer.train()
        XCTAssertFalse(resumedTrainer.stoppedEarly)
        XCTAssertEqual(bits(resumed), bits(straight))
        XCTAssertEqual(resumedTrainer.history.map(\.trainLoss), straightTrainer.history.map(\.trainLoss))
        XCTAssertEqual(resumedTrainer.history.map(\.trainAccuracy), straightTrainer.history.map(\.trainAccuracy))
        XCTAssertEqual(resumedTrainer.history.map(\.testAccuracy), straightTrainer.history.map(\.testAccuracy))
    }

    func testCorruptCheckpointIsAnError() throws {
        let trainer = Trainer(network: tinyMLP(seed: 1), data: syntheticData(), configuration: configuration(optimizers[0]))
        var data = try trainer.checkpoint().encoded()
        XCTAssertEqual(try Checkpoint(decoding: data), trainer.checkpoint())
        data.removeLast(3)
        XCTAssertThrowsError(try Checkpoint(decoding: data))
        XCTAssertThrowsError(try Checkpoint(decoding: Data("not a checkpoint at all".utf8)))
        let other = Trainer(network: tinyConvNet(seed: 1), data: syntheticData(), configuration: configuration(optimizers[0]))
        XCTAssertThrowsError(try other.restore(trainer.checkpoint()))
        // A longer epoch budget may resume the run; another learning rate may not.
        var longer = configuration(optimizers[0], epochs: 5)
        XCTAssertNoThrow(try Trainer(network: tinyMLP(seed: 2), data: syntheticData(), configuration: longer)
            .restore(trainer.checkpoint()))
        longer.optimizer.learningRate = 0.5
        XCTAssertThrowsError(try Trainer(network: tinyMLP(seed: 2), data: syntheticData(), configuration: longer)
            .restore(trainer.checkpoint()))
    }

    func testDivergenceIsARecordedStatus() {
        let network = tinyMLP(seed: 1)
        network.parameter(named: "fc2.weight")!.withMutableValues { $0[3] = .nan }
        let trainer = Trainer(network: network, data: syntheticData(), configuration: configuration(optimizers[1]))
        let status = trainer.train()
        guard case let .diverged(epoch, step, loss) = status else { return XCTFail("expected divergence, got \(status)") }
        XCTAssertEqual(epoch, 0)
        XCTAssertEqual(step, 0)
        XCTAssertTrue(loss.isNaN)
        XCTAssertNil(trainer.trainEpoch())
    }

    func testPerStepHookSeesGradientsBeforeTheStep() {
        final class Accumulator: TrainingCallback {
            var sums: [Double] = []
            var steps = 0
            var weightsAtHook: [Float] = []
            var changedBeforeHook = false
            func trainer(_ trainer: Trainer, didComputeGradients step: StepInfo) {
                let tensor = trainer.network.prunableTensors[0]
                weightsAtHook = tensor.values
                if sums.isEmpty { sums = [Double](repeating: 0, count: tensor.count) }
                tensor.withGradients { g in for i in g.indices { sums[i] += Double(abs(g[i])) } }
                XCTAssertEqual(step.globalStep, steps)
                steps += 1
            }
            func trainer(_ trainer: Trainer, didStep step: StepInfo) {
                // The optimizer has moved the weights the hook saw.
                if trainer.network.prunableTensors[0].values != weightsAtHook { changedBeforeHook = true }
            }
        }
        let accumulator = Accumulator()
        let trainer = Trainer(network: tinyMLP(seed: 2), data: syntheticData(), configuration: configuration(optimizers[3]))
        trainer.callbacks.append(accumulator)
        trainer.train()
        XCTAssertEqual(accumulator.steps, 12) // 2 epochs × 48/8
        XCTAssertTrue(accumulator.changedBeforeHook)
        XCTAssertTrue(accumulator.sums.allSatisfy { $0 > 0 })
    }

    func testLearningRateSchedule() {
        let schedule = LearningRateSchedule(milestones: [2, 4], factor: 0.1, warmupSteps: 4)
        XCTAssertEqual(schedule.rate(base: 1, epoch: 0, globalStep: 0), 0.25)
        XCTAssertEqual(schedule.rate(base: 1, epoch: 0, globalStep: 3), 1)
        XCTAssertEqual(schedule.rate(base: 1, epoch: 1, globalStep: 10), 1)
        XCTAssertEqual(schedule.rate(base: 1, epoch: 2, globalStep: 20), 0.1, accuracy: 1e-7)
        XCTAssertEqual(schedule.rate(base: 1, epoch: 5, globalStep: 50), 0.01, accuracy: 1e-8)
    }

    /// One Adam step from zero state moves every weight by lr · sign(g)
    /// (up to ε): a check of the update rule, not just of its invariants.
    func testAdamFirstStepAndSGDMomentum() {
        let network = tinyMLP(seed: 1)
        let data = syntheticData()
        var iterator = BatchIterator(dataset: data.train, batchSize: 8, normalization: Normalization(computedFrom: data.train), seed: 1)
        var batch = Batch(capacity: 8, shape: data.train.shape)
        _ = iterator.next(into: &batch)
        network.computeGradients(on: batch)
        let tensor = network.prunableTensors[0]
        let w0 = tensor.values, g = tensor.gradients
        let adam = Optimizer(.adam(learningRate: 0.01), network: network)
        adam.step(learningRate: 0.01)
        for i in 0..<tensor.count where abs(g[i]) > 1e-4 {
            XCTAssertEqual(tensor.values[i], w0[i] - 0.01 * (g[i] > 0 ? 1 : -1), accuracy: 1e-5)
        }
        // SGD with momentum μ, two steps with the same gradient: w −= lr·g, then lr·(1+μ)·g.
        let w1 = tensor.values
        let sgd = Optimizer(.sgd(learningRate: 0.1, momentum: 0.5), network: network)
        sgd.step(learningRate: 0.1)
        sgd.step(learningRate: 0.1)
        for i in 0..<tensor.count {
            XCTAssertEqual(tensor.values[i], w1[i] - 0.1 * g[i] * 2.5, accuracy: 1e-6)
        }
    }
}

final class ThreadDeterminismTests: XCTestCase {
    /// The GEMM splits large products over threads; the weights after
    /// training must not depend on how many.
    func testOneAndTwoThreadsGiveIdenticalBits() {
        func run(threads: Int) -> [String: [UInt32]] {
            setThreadCount(threads)
            defer { setThreadCount(2) }
            let layers: [Layer] = [Flatten(name: "flatten")] + denseStack([256, 128, 4], inputs: 72)
            let network = try! Network(name: "wide-mlp", inputShape: FeatureShape(channels: 2, height: 6, width: 6),
                                       classCount: 4, layers: layers)
            network.initialize(seed: 3, scheme: .kaimingNormal)
            let configuration = TrainingConfiguration(epochs: 2, batchSize: 48, optimizer: .adam(learningRate: 1e-3), dataSeed: 1)
            Trainer(network: network, data: syntheticData(trainCount: 96), configuration: configuration).train()
            return bits(network)
        }
        XCTAssertEqual(run(threads: 1), run(threads: 2))
    }

    /// Convolutions split the batch's examples over threads (forward) and
    /// run the weight gradient beside the input gradients (backward); with
    /// 3 threads the input gradients are split in two. The tiny network has
    /// 3×3, strided, pointwise and first-layer (no input gradient) convolutions.
    func testConvolutionalTrainingGivesIdenticalBitsOnOneTwoAndThreeThreads() {
        func run(threads: Int) -> [String: [UInt32]] {
            setThreadCount(threads)
            defer { setThreadCount(2) }
            let network = tinyConvNet(seed: 5)
            maskHalf(network, seed: 2)
            let configuration = TrainingConfiguration(epochs: 2, batchSize: 12, optimizer: .adam(learningRate: 1e-2), dataSeed: 4)
            Trainer(network: network, data: syntheticData(trainCount: 36), configuration: configuration).train()
            return bits(network)
        }
        let one = run(threads: 1)
        XCTAssertEqual(one, run(threads: 2))
        XCTAssertEqual(one, run(threads: 3))
    }

    /// The same on 16×16 images, where a convolution's 256 output pixels
    /// make groups of one example and the weight gradient runs beside the
    /// input gradients.
    func testConvolutionOnLargerImagesGivesIdenticalBitsOnOneTwoAndThreeThreads() {
        func run(threads: Int) -> [String: [UInt32]] {
            setThreadCount(threads)
            defer { setThreadCount(2) }
            let layers: [Layer] = [
                Convolution(name: "conv1", inputs: 2, outputs: 3, kernel: 3, padding: 1),
                ReLU(name: "relu1"),
                Convolution(name: "conv2", inputs: 3, outputs: 4, kernel: 3, padding: 1),
                GlobalAveragePool(name: "gap"),
                Dense(name: "fc", inputs: 4, outputs: 4),
            ]
            let network = try! Network(name: "conv-16", inputShape: FeatureShape(channels: 2, height: 16, width: 16),
                                       classCount: 4, layers: layers)
            network.initialize(seed: 8, scheme: .kaimingNormal)
            let configuration = TrainingConfiguration(epochs: 1, batchSize: 10, optimizer: .sgd(learningRate: 0.05, momentum: 0.9),
                                                      dataSeed: 2)
            let data = syntheticData(trainCount: 30, shape: ImageShape(height: 16, width: 16, channels: 2))
            Trainer(network: network, data: data, configuration: configuration).train()
            return bits(network)
        }
        let one = run(threads: 1)
        XCTAssertEqual(one, run(threads: 2))
        XCTAssertEqual(one, run(threads: 3))
    }
}
