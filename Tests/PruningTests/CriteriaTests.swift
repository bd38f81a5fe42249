import XCTest
@testable import Pruning

/// A two-layer toy network whose scores are easy to compute by hand.
func toyState(withGradients: Bool = true) -> PruningState {
    PruningState(layers: [
        PrunableLayer(name: "fc1", weights: [0.5, -2, 0.1, -0.3], initialWeights: [1, -1, 0.2, 0.3],
                      accumulatedGradient: withGradients ? [4, 0.25, 10, 1] : nil),
        PrunableLayer(name: "out", isOutput: true, weights: [3, -0.5], initialWeights: [-3, 0.1],
                      accumulatedGradient: withGradients ? [0.5, 2] : nil),
    ])
}

/// A fixed oracle: gradients known in advance.
struct FixedOracle: GradientOracle {
    var mean: [[Float]]
    var absoluteSum: [[Float]]
    var hessianGradient: [[Float]] = []
    var synapticFlow: [[Float]] = []
    func absoluteGradientSum(batches: Int) throws -> [[Float]] { absoluteSum }
    func meanGradient(batches: Int) throws -> [[Float]] { mean }
    func hessianGradientProduct(batches: Int, temperature: Float) throws -> [[Float]] { hessianGradient }
    func synapticFlowGradient() throws -> [[Float]] { synapticFlow }
}

final class CriteriaTests: XCTestCase {
    private func score(_ name: String, _ parameters: CriterionParameters = .init(), state: PruningState = toyState(),
                       oracle: GradientOracle? = nil) throws -> [[Float]] {
        var context = ScoringContext(maskSeed: 1, oracle: oracle)
        return try CriterionRegistry.make(name, parameters: parameters).scores(for: state, context: &context)
    }

    func testMagnitudeIsAbsoluteFinalWeight() throws {
        XCTAssertEqual(try score("magnitude"), [[0.5, 2, 0.1, 0.3], [3, 0.5]])
    }

    func testDataDependentIsMagnitudeTimesAccumulatedGradient() throws {
        XCTAssertEqual(try score("data-dependent"), [[2, 0.5, 1, 0.3], [1.5, 1]])
    }

    func testDataDependentGammaWeightsTheGradient() throws {
        let half = try score("data-dependent", ["gamma": .number(0.5)])
        let expected: [[Float]] = [[0.5 * 2, 2 * 0.5, 0.1 * Float(10).squareRoot(), 0.3 * 1], [3 * Float(0.5).squareRoot(), 0.5 * Float(2).squareRoot()]]
        for (row, want) in zip(half, expected) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        XCTAssertEqual(try score("data-dependent", ["gamma": .number(0)]), try score("magnitude"), "γ = 0 is magnitude")
    }

    func testDataDependentWithoutGradientsSaysWhatIsMissing() {
        XCTAssertThrowsError(try score("data-dependent", state: toyState(withGradients: false))) { error in
            guard case .missingInput(let criterion, let why)? = error as? PruningError else { return XCTFail("\(error)") }
            XCTAssertEqual(criterion, "data-dependent")
            XCTAssertTrue(why.contains("fc1"), why)
        }
    }

    func testDataDependentEndOfRoundUsesTheOracle() throws {
        let oracle = FixedOracle(mean: [], absoluteSum: [[1, 1, 1, 1], [2, 2]])
        XCTAssertEqual(try score("data-dependent", ["accumulate": .text("end-of-round")], oracle: oracle),
                       [[0.5, 2, 0.1, 0.3], [6, 1]])
        XCTAssertThrowsError(try score("data-dependent", ["accumulate": .text("sometimes")]))
    }

    func testSNIPIsAbsoluteGradientTimesWeight() throws {
        let oracle = FixedOracle(mean: [[-1, 2, 0, 10], [0.5, -4]], absoluteSum: [])
        XCTAssertEqual(try score("snip", oracle: oracle), [[0.5, 4, 0, 3], [1.5, 2]])
        XCTAssertThrowsError(try score("snip"), "SNIP without an oracle must fail, not guess")
    }

    func testGraSPKeepsTheSignedThetaTimesHg() throws {
        // GraSP removes the highest −θ⊙Hg; we keep the highest θ⊙Hg: signed, no |·|.
        let oracle = FixedOracle(mean: [], absoluteSum: [], hessianGradient: [[1, -1, 2, 0], [-1, 1]])
        let scores = try score("grasp", oracle: oracle)
        let expected: [[Float]] = [[0.5, 2, 0.2, 0], [-3, -0.5]]
        for (row, want) in zip(scores, expected) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        XCTAssertThrowsError(try score("grasp"), "GraSP without an oracle must fail, not guess")
        XCTAssertThrowsError(try CriterionRegistry.make("grasp", parameters: ["batches": .number(0)]))
    }

    func testSynFlowIsAbsoluteWeightTimesFlowGradient() throws {
        let oracle = FixedOracle(mean: [], absoluteSum: [], synapticFlow: [[1, -1, 2, 0], [-1, 1]])
        let scores = try score("synflow", oracle: oracle)
        let expected: [[Float]] = [[0.5, 2, 0.2, 0], [3, 0.5]]
        for (row, want) in zip(scores, expected) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        XCTAssertEqual(try CriterionRegistry.make("synflow").pruningSteps, 100, "the paper's 100 iterations by default")
        XCTAssertEqual(try CriterionRegistry.make("synflow", parameters: ["iterations": .number(7)]).pruningSteps, 7)
        XCTAssertEqual(try CriterionRegistry.make("snip").pruningSteps, 1)
        XCTAssertThrowsError(try CriterionRegistry.make("synflow", parameters: ["iterations": .number(0)]))
        XCTAssertThrowsError(try score("synflow"), "SynFlow without an oracle must fail")
    }

    func testZhouCriteria() throws {
        XCTAssertEqual(try score("large-init"), [[1, 1, 0.2, 0.3], [3, 0.1]])
        let movement = try score("movement")
        let expectedMovement: [[Float]] = [[0.5, 1, 0.1, 0.6], [6, 0.6]]
        for (row, want) in zip(movement, expectedMovement) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        let increase = try score("magnitude-increase")
        let expectedIncrease: [[Float]] = [[-0.5, 1, -0.1, 0], [0, 0.4]]
        for (row, want) in zip(increase, expectedIncrease) {
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
    }

    func testRandomDependsOnlyOnTheMaskSeed() throws {
        let state = toyState()
        var a = ScoringContext(maskSeed: 5), b = ScoringContext(maskSeed: 5), c = ScoringContext(maskSeed: 6)
        let criterion = try CriterionRegistry.make("random")
        let sa = try criterion.scores(for: state, context: &a)
        XCTAssertEqual(sa, try criterion.scores(for: state, context: &b))
        XCTAssertNotEqual(sa, try criterion.scores(for: state, context: &c))
        XCTAssertTrue(sa.joined().allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testUnknownCriterionListsTheKnownOnes() {
        XCTAssertThrowsError(try CriterionRegistry.make("magnitud")) { error in
            XCTAssertTrue("\(error)".contains("data-dependent"), "\(error)")
        }
        XCTAssertThrowsError(try CriterionRegistry.make("data-dependent", parameters: ["gamma": .number(-1)]))
    }
}
