import Datasets
import Networks
import XCTest
@testable import Pruning

/// A small learnable problem: 4×4 images whose label is the brightest
/// quadrant-row pair, so a tiny network trains in milliseconds.
func toyData(train: Int = 240, test: Int = 80, seed: UInt64 = 1) -> DatasetPair {
    func make(_ count: Int, _ split: Split, _ salt: UInt64) -> Dataset {
        var generator = SeededGeneratorForTests(seed: seed &+ salt)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for _ in 0..<count {
            let label = generator.next() % 4
            for p in 0..<16 {
                let bright = p / 4 == Int(label)
                pixels.append(UInt8(bright ? 150 + generator.next() % 100 : generator.next() % 100))
            }
            labels.append(UInt8(label))
        }
        return Dataset(name: "toy", split: split, shape: ImageShape(height: 4, width: 4, channels: 1),
                       classCount: 4, pixels: pixels, labels: labels)
    }
    return DatasetPair(train: make(train, .train, 0), test: make(test, .test, 99))
}

struct SeededGeneratorForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state >> 33)
    }
}

func toyConfiguration(criterion: String = "magnitude", schedule: PruningSchedule, epochs: Int = 2,
                      control: TicketControl = .none, parameters: CriterionParameters = .init()) -> ExperimentConfiguration {
    ExperimentConfiguration(
        model: "lenet-300-100", criterion: criterion, criterionParameters: parameters, schedule: schedule,
        control: control,
        training: TrainingConfiguration(epochs: epochs, batchSize: 20, optimizer: .sgd(learningRate: 0.05, momentum: 0.9), dataSeed: 3),
        seeds: RunSeeds(runSeed: 7))
}

/// Results without wall time, which is the one thing allowed to differ.
func timeless(_ results: [RoundResult]) -> [RoundResult] {
    results.map { var r = $0; r.wallSeconds = 0; return r }
}

final class ExperimentTests: XCTestCase {
    func testIterativeHalvesTheRemainingWeightsEachRoundAndNeverResurrects() throws {
        let experiment = try PruningExperiment(configuration: toyConfiguration(
            criterion: "data-dependent", schedule: .iterative(rate: 0.5, rounds: 3, rewindIteration: 0)), data: toyData())
        var masks: [[String: [Bool]]] = []
        experiment.onRoundFinished = { _, trained, _ in masks.append(trained) }
        let results = try experiment.run()
        XCTAssertEqual(results.map(\.round), [0, 1, 2, 3])
        let total = results[0].layers.reduce(0) { $0 + $1.weights }
        for (r, result) in results.enumerated() {
            let kept = result.layers.reduce(0) { $0 + $1.remaining }
            XCTAssertLessThanOrEqual(abs(Double(kept) - Double(total) * pow(0.5, Double(r))), Double(r) * 0.5 + 1e-9, "round \(r)")
            XCTAssertEqual(result.status, .ok)
            XCTAssertEqual(result.epochs, 2)
        }
        XCTAssertGreaterThan(results[0].finalTestAccuracy, 0.5, "the toy problem should be learnable")
        for r in 1..<masks.count {
            for (name, mask) in masks[r] {
                for (i, alive) in mask.enumerated() where alive { XCTAssertTrue(masks[r - 1][name]![i], "resurrected \(name)[\(i)]") }
            }
        }
    }

    func testSameConfigurationGivesBitIdenticalResults() throws {
        let configuration = toyConfiguration(schedule: .iterative(rate: 0.5, rounds: 2, rewindIteration: 0))
        let a = try PruningExperiment(configuration: configuration, data: toyData()).run()
        let b = try PruningExperiment(configuration: configuration, data: toyData()).run()
        XCTAssertEqual(timeless(a), timeless(b))
    }

    func testInterruptedRunResumesToTheSameResults() throws {
        let configuration = toyConfiguration(schedule: .iterative(rate: 0.5, rounds: 3, rewindIteration: 5))
        let straight = try PruningExperiment(configuration: configuration, data: toyData()).run()
        struct Interrupted: Error {}
        var saved: ExperimentCheckpoint?
        let first = try PruningExperiment(configuration: configuration, data: toyData())
        first.onRoundFinished = { result, _, checkpoint in
            saved = checkpoint
            if result.round == 1 { throw Interrupted() }
        }
        XCTAssertThrowsError(try first.run())
        // Through JSON, as the harness stores it.
        let stored = try JSONDecoder().decode(ExperimentCheckpoint.self, from: JSONEncoder().encode(XCTUnwrap(saved)))
        XCTAssertEqual(stored, saved)
        let resumed = try PruningExperiment(configuration: configuration, data: toyData()).run(resumingFrom: stored)
        XCTAssertEqual(timeless(resumed), timeless(straight))
    }

    func testRewindRestoresExactlyTheSavedWeightsOfSurvivors() throws {
        let network = try ModelRegistry.make("lenet-300-100", inputShape: FeatureShape(channels: 1, height: 4, width: 4), classCount: 4, seed: 2)
        let initial = network.snapshot()
        let tensor = network.prunableTensors[0]
        tensor.values = tensor.values.map { $0 * 3 + 1 }  // "training"
        tensor.mask = (0..<tensor.count).map { $0 % 3 == 0 ? 0 : 1 }
        try network.restore(initial)
        let values = tensor.values
        for i in 0..<tensor.count {
            XCTAssertEqual(values[i], i % 3 == 0 ? 0 : initial.values[tensor.name]![i])
        }
    }

    func testEarlyOneShotHitsTheRequestedDensity() throws {
        let experiment = try PruningExperiment(configuration: toyConfiguration(
            criterion: "data-dependent", schedule: .earlyOneShot(denseEpochs: 1, density: 0.125), epochs: 3), data: toyData())
        let results = try experiment.run()
        XCTAssertEqual(results.count, 1)
        let total = results[0].layers.reduce(0) { $0 + $1.weights }
        XCTAssertLessThanOrEqual(abs(Double(results[0].layers.reduce(0) { $0 + $1.remaining }) - 0.125 * Double(total)), 0.5)
        XCTAssertEqual(results[0].epochs, 2, "best/final accuracy come from the epochs after pruning")
    }

    func testAtInitWithGradientsOnlyKnownAfterTrainingIsRefused() {
        XCTAssertThrowsError(try PruningExperiment(configuration: toyConfiguration(
            criterion: "data-dependent", schedule: .atInitialization(density: 0.5)), data: toyData())) { error in
            XCTAssertTrue("\(error)".contains("early-one-shot"), "\(error)")
        }
    }

    func testSNIPAtInitAndControlsRun() throws {
        let snip = try PruningExperiment(configuration: toyConfiguration(criterion: "snip", schedule: .atInitialization(density: 0.2)), data: toyData()).run()
        XCTAssertEqual(snip[0].achievedDensity, 0.2, accuracy: 1e-3)
        for control in [TicketControl.reinit, .shuffleMask] {
            let results = try PruningExperiment(configuration: toyConfiguration(
                schedule: .iterative(rate: 0.5, rounds: 1, rewindIteration: 0), control: control), data: toyData()).run()
            XCTAssertEqual(results.count, 2)
            XCTAssertEqual(results[1].achievedDensity, 0.5, accuracy: 1e-3)
        }
    }

    func testLayerCollapseIsReported() throws {
        let results = try PruningExperiment(configuration: toyConfiguration(
            criterion: "random", schedule: .atInitialization(density: 0.0002), epochs: 1), data: toyData()).run()
        XCTAssertEqual(results[0].status, .collapsed)
    }
}
