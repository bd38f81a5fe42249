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
                      control: TicketControl = .none, parameters: CriterionParameters = .init(),
                      learningRate: Float = 0.05, seed: UInt64 = 7) -> ExperimentConfiguration {
    ExperimentConfiguration(
        model: "lenet-300-100", data: DataSpecification(dataset: "toy"), criterion: criterion,
        criterionParameters: parameters, schedule: schedule, control: control,
        training: TrainingConfiguration(epochs: epochs, batchSize: 20,
                                        optimizer: .sgd(learningRate: learningRate, momentum: 0.9), dataSeed: 0),
        seeds: RunSeeds(runSeed: seed))
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
        XCTAssertGreaterThan(try XCTUnwrap(results[0].finalTestAccuracy), 0.5, "the toy problem should be learnable")
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

    // MARK: - Random streams, late rewinding, divergence (issue #10)

    /// The random criterion's scores of run 1 at round 2 and of run 2 at
    /// round 1 must differ: with per-round seeds `seed + round` they were
    /// the same stream.
    func testRandomScoresOfNeighbouringRunsAndRoundsAreIndependent() throws {
        let random = try CriterionRegistry.make("random", parameters: .init())
        let state = PruningState(layers: [PrunableLayer(
            name: "w", isOutput: false, weights: [Float](repeating: 1, count: 64), initialWeights: [Float](repeating: 1, count: 64),
            mask: [Bool](repeating: true, count: 64), accumulatedGradient: nil)])
        func scores(run: UInt64, round: Int) throws -> [[Float]] {
            var context = ScoringContext(maskSeed: RunSeeds(runSeed: run).seed(for: .mask, round: round))
            return try random.scores(for: state, context: &context)
        }
        XCTAssertNotEqual(try scores(run: 1, round: 2), try scores(run: 2, round: 1))
        XCTAssertEqual(try scores(run: 1, round: 2), try scores(run: 1, round: 2), "the same stream must repeat")
    }

    /// No two (run, purpose, round) share a seed over a grid of neighbours.
    func testEveryRunPurposeAndRoundHasItsOwnSeed() {
        var seen: [UInt64: String] = [:]
        for run in UInt64(0)..<20 {
            for purpose in RunSeeds.Purpose.allCases {
                for round in 0..<20 {
                    let seed = RunSeeds(runSeed: run).seed(for: purpose, round: round)
                    let name = "run \(run) \(purpose) round \(round)"
                    if let other = seen[seed] { XCTFail("\(name) shares its seed with \(other)") }
                    seen[seed] = name
                }
            }
        }
    }

    /// Late rewinding to step k: a later round resumes at step k, so it sees
    /// the minibatches (data-order position) and learning rates of steps
    /// k…T−1 of the dense round, and trains T − k steps.
    func testLateRewindingResumesAtStepKWithTheDenseRoundsDataAndSchedule() throws {
        let k = 7  // 240 examples / batch 20 = 12 steps an epoch, so k is mid-epoch
        let experiment = try PruningExperiment(configuration: toyConfiguration(
            schedule: .iterative(rate: 0.5, rounds: 1, rewindIteration: k), epochs: 2), data: toyData())
        var steps: [Int: [[Int]]] = [:]
        experiment.onStep = { round, step in
            steps[round, default: []].append([step.epoch, step.stepInEpoch, step.globalStep, Int(step.learningRate.bitPattern)])
        }
        _ = try experiment.run()
        let dense = try XCTUnwrap(steps[0]), rewound = try XCTUnwrap(steps[1])
        XCTAssertEqual(dense.count, 24)
        XCTAssertEqual(rewound.count, 24 - k, "a rewound round trains the remaining T - k steps")
        XCTAssertEqual(rewound, Array(dense[k...]), "same positions (so the same minibatches) and rates as steps k...T of round 0")
    }

    /// A round whose loss diverges is a result: status diverged, where it
    /// happened, no accuracy, and the run ends there with a checkpoint that
    /// encodes (it held NaN before and could not be written).
    func testDivergedRoundIsRecordedWithItsPositionAndNoAccuracy() throws {
        let experiment = try PruningExperiment(configuration: toyConfiguration(
            schedule: .iterative(rate: 0.5, rounds: 3, rewindIteration: 0), learningRate: 1000), data: toyData())
        var checkpoints: [ExperimentCheckpoint] = []
        experiment.onRoundFinished = { _, _, checkpoint in checkpoints.append(checkpoint) }
        let results = try experiment.run()
        XCTAssertEqual(results.map(\.status), [.diverged], "the run stops at the diverged round")
        let result = results[0]
        XCTAssertNil(result.finalTestAccuracy)
        XCTAssertNil(result.bestTestAccuracy)
        let divergence = try XCTUnwrap(result.divergence)
        XCTAssertEqual(divergence.epoch, 1)
        XCTAssertGreaterThanOrEqual(divergence.step, 1)
        XCTAssertTrue(["nan", "inf", "-inf"].contains(divergence.loss), divergence.loss)
        let stored = try JSONEncoder().encode(XCTUnwrap(checkpoints.last))
        XCTAssertTrue(try JSONDecoder().decode(ExperimentCheckpoint.self, from: stored).finished)
    }

    func testDivergedOneShotRunReportsItsRoundToo() throws {
        let experiment = try PruningExperiment(configuration: toyConfiguration(
            schedule: .earlyOneShot(denseEpochs: 1, density: 0.5), epochs: 2, learningRate: 1000), data: toyData())
        var finished = 0
        experiment.onRoundFinished = { _, _, _ in finished += 1 }
        let results = try experiment.run()
        XCTAssertEqual(results.map(\.status), [.diverged])
        XCTAssertEqual(finished, 1, "the harness needs the round's mask and checkpoint")
    }

    /// Runs that share a dense prefix (iterative round 0; the dense epochs of
    /// early one-shot) train it once and give exactly the results of training
    /// it each time, whatever the criterion.
    func testSharedDensePrefixesGiveTheResultsOfTrainingEachSeparately() throws {
        let criteria = ["magnitude", "data-dependent", "random"]
        let schedules: [PruningSchedule] = [
            .iterative(rate: 0.5, rounds: 2, rewindIteration: 0), .iterative(rate: 0.5, rounds: 1, rewindIteration: 5),
            .earlyOneShot(denseEpochs: 1, density: 0.5), .earlyOneShot(denseEpochs: 1, density: 0.25),
        ]
        let cache = DensePrefixCache()
        for schedule in schedules {
            for criterion in criteria {
                let configuration = toyConfiguration(criterion: criterion, schedule: schedule, epochs: 2)
                let alone = try PruningExperiment(configuration: configuration, data: toyData()).run()
                let experiment = try PruningExperiment(configuration: configuration, data: toyData())
                experiment.prefixCache = cache
                XCTAssertEqual(timeless(try experiment.run()), timeless(alone), "\(criterion) \(schedule)")
            }
        }
        // Two iterative prefixes (rewind 0 and 5) and one dense epoch shared by both densities.
        XCTAssertEqual(cache.misses, 3)
        XCTAssertEqual(cache.hits, 3 * 4 - 3)
    }

    /// A stop requested at a chosen step (mid-epoch), the in-round state
    /// through its file format, then a fresh experiment resuming from it:
    /// the results of never stopping. Covers the late-rewind capture (before
    /// and after step k), a later round that starts at step k, Σ|∂L/∂w|, and
    /// an early one-shot run before and after its pruning.
    func testStopMidEpochThenResumeFromTheInRoundStateGivesTheSameResults() throws {
        let iterative = PruningSchedule.iterative(rate: 0.5, rounds: 2, rewindIteration: 5)
        let oneShot = PruningSchedule.earlyOneShot(denseEpochs: 1, density: 0.25)
        // (criterion, schedule, round, 0-based step after which to stop); 12 steps per epoch.
        let cases: [(String, PruningSchedule, Int, Int)] = [
            ("data-dependent", iterative, 0, 2), ("data-dependent", iterative, 0, 16), ("magnitude", iterative, 1, 8),
            ("data-dependent", oneShot, 1, 6), ("data-dependent", oneShot, 1, 17),
        ]
        for (criterion, schedule, round, step) in cases {
            let label = "\(criterion) \(schedule.kind) round \(round) step \(step)"
            let configuration = toyConfiguration(criterion: criterion, schedule: schedule, epochs: 2)
            let straight = try PruningExperiment(configuration: configuration, data: toyData()).run()

            let first = try PruningExperiment(configuration: configuration, data: toyData())
            let stop = StopRequest()
            first.stopRequest = stop
            first.onStep = { r, info in if r == round && info.globalStep == step { stop.request() } }
            var roundCheckpoint: ExperimentCheckpoint?, inRound: InRoundCheckpoint?
            first.onRoundFinished = { _, _, checkpoint in roundCheckpoint = checkpoint }
            first.onInRoundCheckpoint = { inRound = $0 }
            XCTAssertThrowsError(try first.run(), label) { XCTAssertTrue($0 is ExperimentInterrupted, "\($0)") }
            let stored = try InRoundCheckpoint(decoding: XCTUnwrap(inRound, label).encoded(), source: label)
            XCTAssertEqual(stored.header.round, round, label)
            XCTAssertEqual(stored.trainer.header.globalStep, step + 1, label)
            XCTAssertGreaterThan(stored.trainer.header.stepInEpoch, 0, "mid-epoch: \(label)")

            let resumed = try PruningExperiment(configuration: configuration, data: toyData())
                .run(resumingFrom: roundCheckpoint, inRound: stored)
            XCTAssertEqual(timeless(resumed), timeless(straight), label)
        }
    }
}
