import Foundation
import XCTest
import Datasets
import Networks
import Pruning
@testable import Harness
@testable import Reports

final class RunConfigHashTests: XCTestCase {
    static let fingerprint = DataFingerprint(DatasetPair(
        train: Dataset(name: "mnist", split: .train, shape: ImageShape(height: 1, width: 2, channels: 1), classCount: 10,
                       pixels: [1, 2, 3, 4], labels: [0, 1]),
        test: Dataset(name: "mnist", split: .test, shape: ImageShape(height: 1, width: 2, channels: 1), classCount: 10,
                      pixels: [5, 6], labels: [2])))

    func fixedExperiment(model: String = "lenet-300-100", data: DataSpecification? = nil,
                         parameters: CriterionParameters = ["gamma": .number(1), "accumulate": .text("during-training")],
                         schedule: PruningSchedule = .iterative(rate: 0.5, rounds: 7, rewindIteration: 0),
                         scope: PruningScope = .global, excludedLayers: [String] = [], control: TicketControl = .none,
                         optimizer: OptimizerConfiguration = .sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 0.0001),
                         milestones: [Int] = [1], initializer: Initializer? = nil,
                         seeds: RunSeeds = RunSeeds(run: 1, initialization: 11, dataOrder: 12, mask: 13, scoring: 14))
        -> ExperimentConfiguration {
        ExperimentConfiguration(
            model: model, initializer: initializer,
            data: data ?? DataSpecification(dataset: "mnist", fingerprint: Self.fingerprint),
            criterion: "data-dependent", criterionParameters: parameters, schedule: schedule, scope: scope,
            excludedLayers: excludedLayers, control: control,
            training: TrainingConfiguration(epochs: 2, batchSize: 60, optimizer: optimizer,
                                            schedule: LearningRateSchedule(milestones: milestones), dataSeed: 0),
            seeds: seeds)
    }

    func fixedConfig(_ experiment: ExperimentConfiguration? = nil) -> RunConfig {
        RunConfig(criterionLabel: "data-dependent", scheduleLabel: "iterative", experiment: experiment ?? fixedExperiment(),
                  numericsVersion: "numerics-1")
    }

    func testCanonicalSerializationIsSortedAndCompactAndNamesEveryResolvedSetting() {
        let text = fixedConfig().canonical.serialized()
        XCTAssertTrue(text.hasPrefix(#"{"criterionLabel":"data-dependent","experiment":{"control":"none","criterion":"data-dependent","#), text)
        XCTAssertFalse(text.contains(" "), "no white space: \(text)")
        for setting in [#""initializer":"kaiming-normal""#, #""normalization":"standard""#, #""beta1":0.9"#, #""beta2":0.999"#,
                        #""epsilon":0.00000001"#, #""digest":"#, #""count":2"#,
                        #""accumulate":"during-training""#, #""numericsVersion":"numerics-1""#] {
            XCTAssertTrue(text.contains(setting), "\(setting) missing from \(text)")
        }
    }

    /// A regression check: this digest must never change unless the canonical
    /// form changes on purpose (which re-runs every stored sweep).
    func testHashOfAFixedConfigIsPinned() {
        XCTAssertEqual(fixedConfig().fullHash, SHA256.hexDigest(of: Array(fixedConfig().canonical.serialized().utf8)))
        XCTAssertEqual(fixedConfig().hash, "c247e2db06cee396")
        XCTAssertEqual(fixedConfig().hash.count, 16)
    }

    /// What the issue found missing from the hash (data, Adam's constants,
    /// the initialiser, the input normalisation) and everything that was
    /// there before: each change gives another run.
    func testEveryFieldChangesTheHash() {
        let otherData = DataFingerprint(DatasetPair(train: Dataset(name: "mnist", split: .train,
            shape: ImageShape(height: 1, width: 2, channels: 1), classCount: 10, pixels: [1, 2], labels: [0]),
            test: Dataset(name: "mnist", split: .test, shape: ImageShape(height: 1, width: 2, channels: 1), classCount: 10,
                          pixels: [5, 6], labels: [2])))
        let variants: [RunConfig] = [
            fixedConfig(fixedExperiment(model: "vgg-11")),
            fixedConfig(fixedExperiment(data: DataSpecification(dataset: "fashion-mnist", fingerprint: Self.fingerprint))),
            fixedConfig(fixedExperiment(data: DataSpecification(dataset: "mnist", fingerprint: otherData))),
            fixedConfig(fixedExperiment(data: DataSpecification(dataset: "mnist", trainExamples: 1000, fingerprint: Self.fingerprint))),
            fixedConfig(fixedExperiment(data: DataSpecification(dataset: "mnist", normalization: .unitInterval, fingerprint: Self.fingerprint))),
            fixedConfig(fixedExperiment(initializer: .glorotNormal)),
            fixedConfig(fixedExperiment(parameters: ["gamma": .number(0.5)])),
            fixedConfig(fixedExperiment(control: .reinit)),
            fixedConfig(fixedExperiment(scope: .layerwise)),
            fixedConfig(fixedExperiment(excludedLayers: ["fc3.weight"])),
            fixedConfig(fixedExperiment(optimizer: .sgd(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.0001))),
            fixedConfig(fixedExperiment(optimizer: .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 0.0001))),
            fixedConfig(fixedExperiment(optimizer: .adam(learningRate: 0.1))),
            fixedConfig(fixedExperiment(optimizer: .adam(learningRate: 0.1, beta2: 0.99))),
            fixedConfig(fixedExperiment(optimizer: .adam(learningRate: 0.1, epsilon: 1e-6))),
            fixedConfig(fixedExperiment(milestones: [])),
            fixedConfig(fixedExperiment(schedule: .iterative(rate: 0.5, rounds: 7, rewindIteration: 100))),
            fixedConfig(fixedExperiment(seeds: RunSeeds(run: 1, initialization: 11, dataOrder: 12, mask: 99, scoring: 14))),
            fixedConfig(fixedExperiment(seeds: RunSeeds(run: 1, initialization: 11, dataOrder: 12, mask: 13, scoring: 99))),
            fixedConfig(fixedExperiment(seeds: RunSeeds(run: 1, initialization: 11, dataOrder: 99, mask: 13, scoring: 14))),
            RunConfig(criterionLabel: "dd", scheduleLabel: "iterative", experiment: fixedExperiment(), numericsVersion: "numerics-1"),
            RunConfig(criterionLabel: "data-dependent", scheduleLabel: "iterative", experiment: fixedExperiment(),
                      numericsVersion: "numerics-2"),
        ]
        let hashes = Set(variants.map(\.hash) + [fixedConfig().hash])
        XCTAssertEqual(hashes.count, variants.count + 1)
    }

    /// The setup hash (summary groups) ignores seeds and criterion and
    /// nothing else; the criterion hash is the criterion's alone.
    func testSetupHashLeavesOutExactlySeedsAndCriterion() {
        let base = fixedConfig()
        let otherSeed = fixedConfig(fixedExperiment(seeds: RunSeeds(runSeed: 5)))
        let otherCriterion = fixedConfig(fixedExperiment(parameters: ["gamma": .number(0.5)]))
        XCTAssertEqual(otherSeed.setupHash, base.setupHash)
        XCTAssertEqual(otherCriterion.setupHash, base.setupHash)
        XCTAssertEqual(otherSeed.criterionHash, base.criterionHash)
        XCTAssertNotEqual(otherCriterion.criterionHash, base.criterionHash)
        XCTAssertNotEqual(fixedConfig(fixedExperiment(optimizer: .adam(learningRate: 0.1))).setupHash, base.setupHash)
        // One-shot densities are the summary's density axis, not setups; their dense epochs are.
        let half = fixedConfig(fixedExperiment(schedule: .earlyOneShot(denseEpochs: 1, density: 0.5)))
        XCTAssertEqual(fixedConfig(fixedExperiment(schedule: .earlyOneShot(denseEpochs: 1, density: 0.25))).setupHash, half.setupHash)
        XCTAssertNotEqual(fixedConfig(fixedExperiment(schedule: .earlyOneShot(denseEpochs: 2, density: 0.5))).setupHash, half.setupHash)
        XCTAssertNotEqual(fixedConfig(fixedExperiment(data: DataSpecification(dataset: "mnist", trainExamples: 10,
                                                                              fingerprint: Self.fingerprint))).setupHash,
                          base.setupHash)
    }

    /// config.json reads back into the configuration the executor runs.
    func testStoredConfigurationDecodesToTheSameRun() throws {
        let text = fixedConfig().canonical.serialized()
        let decoded = try JSONDecoder().decode(RunConfig.self, from: Data(text.utf8))
        XCTAssertEqual(decoded, fixedConfig())
        XCTAssertEqual(decoded.hash, fixedConfig().hash)
    }

    /// Dictionary iteration order is randomised per process; the canonical
    /// form must not depend on it (the pinned digest above covers processes).
    func testHashIgnoresDictionaryOrder() {
        let parameters: [(String, CriterionParameterValue)] = [("gamma", .number(1)), ("accumulate", .text("during-training"))]
        let reordered = fixedConfig(fixedExperiment(parameters: CriterionParameters(Dictionary(uniqueKeysWithValues: parameters.reversed()))))
        XCTAssertEqual(reordered.fullHash, fixedConfig().fullHash)
    }
}
