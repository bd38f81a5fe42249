import Foundation
import XCTest
@testable import Harness

final class RunConfigHashTests: XCTestCase {
    func fixedConfig() -> RunConfig {
        RunConfig(
            model: "lenet-300-100", dataset: "mnist",
            criterion: CriterionConfig(label: "data-dependent", name: "data-dependent",
                                       parameters: ["gamma": .number(1), "accumulate": .text("during-training")]),
            schedule: ScheduleConfig(label: "iterative", schedule: .iterative(rate: 0.5, rounds: 7, rewindIteration: 0)),
            seeds: SeedSet(run: 1, initialization: 11, dataOrder: 12, mask: 13, scoring: 14),
            training: TrainingConfig(optimizer: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 0.0001,
                                     batchSize: 60, epochsPerRound: 2, milestones: [1]),
            numericsVersion: "numerics-1")
    }

    func testCanonicalSerializationIsSortedAndCompact() {
        XCTAssertEqual(fixedConfig().canonical.serialized(), """
            {"criterion":{"control":"none","excludedLayers":[],"label":"data-dependent","name":"data-dependent",\
            "parameters":{"accumulate":"during-training","gamma":1},"scope":"global"},\
            "dataset":"mnist","model":"lenet-300-100","numericsVersion":"numerics-1",\
            "schedule":{"kind":"iterative","label":"iterative","rate":0.5,"rewindIteration":0,"rounds":7},\
            "seeds":{"dataOrder":12,"initialization":11,"mask":13,"run":1,"scoring":14},\
            "training":{"batchSize":60,"epochsPerRound":2,"learningRate":0.1,"learningRateDrop":0.1,\
            "milestones":[1],"momentum":0.9,"nesterov":false,"optimizer":"sgd","trainExamples":null,"weightDecay":0.0001}}
            """)
    }

    /// A regression check: this digest must never change unless the canonical
    /// form changes on purpose (which re-runs every stored sweep).
    func testHashOfAFixedConfigIsPinned() {
        XCTAssertEqual(fixedConfig().fullHash, SHA256.hexDigest(of: Array(fixedConfig().canonical.serialized().utf8)))
        XCTAssertEqual(fixedConfig().hash, "c31e7f6277fc8afb")
        XCTAssertEqual(fixedConfig().hash.count, 16)
    }

    func testEveryFieldChangesTheHash() {
        let base = fixedConfig()
        var variants: [RunConfig] = []
        var c = base; c.model = "vgg-11"; variants.append(c)
        c = base; c.dataset = "fashion-mnist"; variants.append(c)
        c = base; c.criterion.parameters["gamma"] = .number(0.5); variants.append(c)
        c = base; c.criterion.label = "dd"; variants.append(c)
        c = base; c.criterion.control = .reinit; variants.append(c)
        c = base; c.criterion.scope = .layerwise; variants.append(c)
        c = base; c.criterion.excludedLayers = ["fc3.weight"]; variants.append(c)
        c = base; c.training.nesterov = true; variants.append(c)
        c = base; c.schedule.schedule = .iterative(rate: 0.5, rounds: 7, rewindIteration: 100); variants.append(c)
        c = base; c.seeds.mask = 99; variants.append(c)
        c = base; c.seeds.scoring = 99; variants.append(c)
        c = base; c.training.learningRate = 0.05; variants.append(c)
        c = base; c.training.trainExamples = 1000; variants.append(c)
        c = base; c.numericsVersion = "numerics-2"; variants.append(c)
        let hashes = Set(variants.map(\.hash) + [base.hash])
        XCTAssertEqual(hashes.count, variants.count + 1)
    }

    /// Dictionary iteration order is randomised per process; the canonical
    /// form must not depend on it (the pinned digest above covers processes).
    func testHashIgnoresDictionaryOrder() {
        var reordered = fixedConfig()
        reordered.criterion.parameters = Dictionary(uniqueKeysWithValues: reordered.criterion.parameters.reversed())
        XCTAssertEqual(reordered.fullHash, fixedConfig().fullHash)
    }

    func testCanonicalNumbers() {
        XCTAssertEqual(CanonicalNumber.format(1.0), "1")
        XCTAssertEqual(CanonicalNumber.format(-0.0), "0")
        XCTAssertEqual(CanonicalNumber.format(0.1), "0.1")
        XCTAssertEqual(CanonicalNumber.format(1e-5), "0.00001")
        XCTAssertEqual(CanonicalNumber.format(1.5e-7), "0.00000015")
        XCTAssertEqual(CanonicalNumber.format(1e20), "100000000000000000000")
        XCTAssertEqual(CanonicalNumber.format(123.456), "123.456")
        XCTAssertEqual(CanonicalNumber.format(-2.5), "-2.5")
        XCTAssertEqual(CanonicalNumber.format(0.0078125), "0.0078125")
        XCTAssertEqual(CanonicalNumber.format(Float(0.1)), "0.1")
        XCTAssertNil(CanonicalNumber.format(Double.nan))
        XCTAssertNil(CanonicalNumber.format(-Double.infinity))
        // Round trip over awkward values: shortest digits read back exactly.
        var rng = SplitMix(state: 5)
        for _ in 0..<10_000 {
            let value = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) * (rng.next() % 2 == 0 ? 1 : -1)
            let text = CanonicalNumber.format(value)!
            XCTAssertFalse(text.contains("e"), text)
            XCTAssertEqual(CanonicalNumber.parse(text), value, text)
        }
        XCTAssertNil(CanonicalNumber.parse("1,5"))
        XCTAssertNil(CanonicalNumber.parse("nan"))
        XCTAssertNil(CanonicalNumber.parse(""))
    }
}

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
