import Foundation
import XCTest
import Pruning
@testable import Harness
@testable import Reports

/// A valid manifest; tests break one thing at a time in it.
let validManifest = """
{
  "name": "test",
  "models": ["lenet-300-100"],
  "datasets": ["mnist"],
  "criteria": [
    {"name": "magnitude"},
    {"name": "data-dependent", "gamma": 1, "accumulate": "during-training"},
    {"name": "data-dependent", "label": "dd-end", "gamma": 0.5, "accumulate": "end-of-round"}
  ],
  "schedules": [
    {"kind": "iterative", "rate": 0.5, "rounds": 3},
    {"kind": "early-one-shot", "denseEpochs": 1, "densities": [0.5, 0.125]}
  ],
  "seeds": [1, {"run": 2, "initialization": 77}],
  "training": {"optimizer": "sgd", "learningRate": 0.1, "momentum": 0.9, "weightDecay": 0.0001,
               "batchSize": 60, "epochsPerRound": 2, "milestones": [1]}
}
"""

final class SweepManifestTests: XCTestCase {
    func parse(_ text: String) throws -> SweepManifest {
        try SweepManifest.parse(Data(text.utf8), file: "m.json")
    }

    /// Parses `text`, expecting failure; returns the error's one-line text.
    func failure(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try parse(text)
            XCTFail("manifest was accepted", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func assertMessage(_ message: String, hasPrefix prefix: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(message.hasPrefix(prefix), "message was: \(message)", file: file, line: line)
    }

    func assertMessage(_ message: String, contains part: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(message.contains(part), "message was: \(message)", file: file, line: line)
    }

    func replacing(_ old: String, with new: String) -> String {
        precondition(validManifest.contains(old), "test edit does not apply: \(old)")
        return validManifest.replacingOccurrences(of: old, with: new)
    }

    func testValidManifestExpandsToTheOrderedCrossProduct() throws {
        let manifest = try parse(validManifest)
        XCTAssertEqual(manifest.criteria.map(\.label), ["magnitude", "data-dependent", "dd-end"])
        XCTAssertEqual(manifest.criteria[1].parameters, ["gamma": .number(1), "accumulate": .text("during-training"), "batches": .number(0)])
        XCTAssertEqual(manifest.schedules.map(\.schedule), [
            .iterative(rate: 0.5, rounds: 3, rewindIteration: 0),
            .earlyOneShot(denseEpochs: 1, density: 0.5),
            .earlyOneShot(denseEpochs: 1, density: 0.125),
        ])
        XCTAssertEqual(manifest.seeds[1].initialization, 77)
        XCTAssertEqual(manifest.seeds[1].dataOrder, RunSeeds(runSeed: 2).dataOrder)
        XCTAssertEqual(manifest.training.training.schedule.milestones, [1])
        let runs = manifest.expand()
        XCTAssertEqual(runs.count, 1 * 1 * 3 * 2 * 3)
        XCTAssertEqual(runs.prefix(4).map(\.criterionLabel), ["magnitude", "data-dependent", "dd-end", "magnitude"])
        XCTAssertEqual(runs.prefix(4).map(\.seeds.run), [1, 1, 1, 2])
        XCTAssertEqual(Set(runs.map(\.hash)).count, runs.count, "every run must have its own hash")
        XCTAssertEqual(try parse(validManifest).expand(), runs, "expansion is deterministic")
    }

    func testDefaultsAreFilledInSoExplicitAndImplicitDefaultsHashAlike() throws {
        let explicit = try parse(validManifest)
        let implicit = try parse(replacing(#"{"name": "data-dependent", "gamma": 1, "accumulate": "during-training"}"#,
                                           with: #"{"name": "data-dependent"}"#))
        XCTAssertEqual(explicit.expand().map(\.hash), implicit.expand().map(\.hash))
    }

    func testScopeControlAndExcludedLayers() throws {
        let manifest = try parse(replacing(#"{"name": "magnitude"}"#, with: #"""
            {"name": "magnitude"}, {"name": "magnitude", "label": "magnitude-reinit", "control": "reinit",
             "scope": "layerwise", "excludedLayers": ["fc3.weight"]}
            """#))
        let control = manifest.criteria[1]
        XCTAssertEqual(control.control, .reinit)
        XCTAssertEqual(control.scope, .layerwise)
        XCTAssertEqual(control.excludedLayers, ["fc3.weight"])
        XCTAssertEqual(manifest.criteria[0].control, TicketControl.none)
        XCTAssertEqual(manifest.criteria[0].scope, .global)
        assertMessage(failure(replacing(#"{"name": "magnitude"}"#, with: #"{"name": "magnitude", "control": "shuffle"}"#)),
                      hasPrefix: "m.json: criteria[0].control: \"shuffle\" is not one of \"none\", \"reinit\", \"shuffle-mask\"")
    }

    func testDerivedSeedsDifferByPurpose() {
        let seeds = RunSeeds(runSeed: 1)
        XCTAssertEqual(Set(RunSeeds.Purpose.allCases.map { seeds.seed(for: $0) }).count, RunSeeds.Purpose.allCases.count)
        XCTAssertNotEqual(RunSeeds(runSeed: 2).seed(for: .mask), seeds.seed(for: .mask))
        XCTAssertEqual(RunSeeds(runSeed: 1), seeds)
    }

    func testUnknownCriterionListsTheKnownOnes() {
        let message = failure(replacing(#"{"name": "magnitude"}"#, with: #"{"name": "magnitud"}"#))
        XCTAssertEqual(message, "m.json: criteria[0].name: unknown criterion \"magnitud\"; known: "
            + "random, magnitude, data-dependent, snip, large-init, movement, magnitude-increase, grasp, synflow")
    }

    func testMissingFieldNamesItsPath() {
        XCTAssertEqual(failure(replacing(#""batchSize": 60,"#, with: "")),
                       "m.json: training.batchSize: missing required field")
        XCTAssertEqual(failure(replacing(#""rate": 0.5, "#, with: "")),
                       "m.json: schedules[0].rate: missing required field")
        assertMessage(failure(replacing(#""models": ["lenet-300-100"],"#, with: "")), hasPrefix: "m.json: models: missing")
    }

    func testOutOfRangeValues() {
        XCTAssertEqual(failure(replacing("[0.5, 0.125]", with: "[0.5, 0]")),
                       "m.json: schedules[1].densities[1]: density 0.0 is outside (0, 1]")
        assertMessage(failure(replacing("[0.5, 0.125]", with: "[1.5]")), contains: "densities[0]: density 1.5 is outside (0, 1]")
        XCTAssertEqual(failure(replacing(#""rate": 0.5"#, with: #""rate": 1"#)),
                       "m.json: schedules[0].rate: rate 1.0 is outside (0, 1)")
        assertMessage(failure(replacing(#""gamma": 0.5"#, with: #""gamma": -1"#)), contains: "criteria[2].gamma: -1.0 is outside")
        assertMessage(failure(replacing(#""accumulate": "end-of-round""#, with: #""accumulate": "later""#)), contains: "criteria[2].accumulate: \"later\" is not one of")
        assertMessage(failure(replacing(#""milestones": [1]"#, with: #""milestones": [2]"#)), contains: "training.milestones[0]")
        assertMessage(failure(replacing(#""denseEpochs": 1"#, with: #""denseEpochs": 2"#)), contains: "denseEpochs 2 must be less")
    }

    func testEmptyListsAndDuplicates() {
        XCTAssertEqual(failure(replacing(#"[1, {"run": 2, "initialization": 77}]"#, with: "[]")),
                       "m.json: seeds: must not be empty")
        assertMessage(failure(replacing(#"[1, {"run": 2"#, with: #"[2, {"run": 2"#)), contains: "seeds[1]: duplicate")
        assertMessage(failure(replacing(#""label": "dd-end", "#, with: "")), contains: "criteria[2]: duplicate: criterion label \"data-dependent\"")
        XCTAssertEqual(failure(replacing(#""criteria": ["#, with: #""criteria": [], "unused": ["#)),
                       "m.json: unused: unknown key (a typo?); allowed here: name, description, models, datasets, criteria, schedules, seeds, training")
    }

    func testTyposInKeysAreErrors() {
        assertMessage(failure(replacing(#""weightDecay""#, with: #""weightdecay""#)), hasPrefix: "m.json: training.weightdecay: unknown key")
        assertMessage(failure(replacing(#""gamma": 0.5"#, with: #""gama": 0.5"#)), hasPrefix: "m.json: criteria[2].gama: unknown key")
        assertMessage(failure(replacing(#""rounds": 3"#, with: #""rounds": 3, "densities": [0.5]"#)), hasPrefix: "m.json: schedules[0].densities: unknown key")
        assertMessage(failure(replacing(#""initialization": 77"#, with: #""init": 77"#)), hasPrefix: "m.json: seeds[1].init: unknown key")
    }

    func testWrongTypesAndBadJSON() {
        XCTAssertEqual(failure(replacing(#""batchSize": 60"#, with: #""batchSize": "60""#)),
                       "m.json: training.batchSize: wrong type: expected a number")
        assertMessage(failure(replacing(#""batchSize": 60"#, with: #""batchSize": 60.5"#)), hasPrefix: "m.json: training.batchSize: 60.5 is not an integer")
        assertMessage(failure(replacing("[1, {", with: "[-1, {")), hasPrefix: "m.json: seeds[0]: wrong type")
        assertMessage(failure("{\"models\": ["), hasPrefix: "m.json: not valid JSON")
        assertMessage(failure("{\"models\": [1,\n x]}"), hasPrefix: "m.json: not valid JSON (Invalid value around character 16. (line 2, column 2))")
        assertMessage(failure(replacing(#""initialization": 77"#, with: #""initialization": "x""#)),
                      hasPrefix: "m.json: seeds[1].initialization: wrong type: expected a non-negative integer seed")
    }

    func testLoadNamesAMissingFile() {
        XCTAssertThrowsError(try SweepManifest.load(from: URL(fileURLWithPath: "/nonexistent/x.json"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/x.json: cannot read"), "\(error)")
        }
    }

    // MARK: - Duplicate keys (issue #10)

    func testADuplicateKeyIsRefusedWithItsPathWhereverItIs() {
        let training = failure(replacing(#""learningRate": 0.1"#, with: #""learningRate": 0.1, "learningRate": 5.0"#))
        XCTAssertTrue(training.hasPrefix(#"m.json: training.learningRate: duplicate: key "learningRate" appears twice"#), training)
        let nested = failure(replacing(#"{"name": "magnitude"}"#, with: #"{"name": "magnitude", "scope": "global", "scope": "layerwise"}"#))
        XCTAssertTrue(nested.hasPrefix(#"m.json: criteria[0].scope: duplicate:"#), nested)
    }

    func testTheSameKeyInSiblingObjectsAndKeyLikeStringsAreNotDuplicates() {
        let scan = { (text: String) in DuplicateKeyScanner.firstDuplicate(in: Data(text.utf8)) }
        XCTAssertNil(scan(#"{"a": [{"k": 1}, {"k": 2}], "b": {"k": "k"}, "c": "{\"c\": 1, \"c\": 2}"}"#))
        XCTAssertNil(scan(#"{"x": {"y": 1}, "y": 2}"#))
        XCTAssertEqual(scan(#"{"x": {"y": 1, "z": [1, {"q": 0}], "y": 2}}"#)?.path, "x.y")
        XCTAssertEqual(scan(#"{"a\u0062": 1, "ab": 2}"#)?.key, "ab", "escapes are compared decoded")
        XCTAssertEqual(scan(#"{"l": [{"m": {}}, {"m": 1, "m": 2}]}"#)?.path, "l[1].m")
    }
}
