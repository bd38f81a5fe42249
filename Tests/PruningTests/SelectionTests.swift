import XCTest
@testable import Pruning

final class SelectionTests: XCTestCase {
    /// Layer a: scores 1...8, layer b: scores 0.5, 10, 0.25, 0.75.
    private let crafted = PruningState(layers: [
        PrunableLayer(name: "a", weights: [Float](repeating: 1, count: 8)),
        PrunableLayer(name: "b", isOutput: true, weights: [Float](repeating: 1, count: 4)),
    ])
    private let craftedScores: [[Float]] = [[1, 2, 3, 4, 5, 6, 7, 8], [0.5, 10, 0.25, 0.75]]

    func testGlobalKeepsTheBestOverAllLayers() throws {
        let result = try selectMasks(scores: craftedScores, state: crafted,
                                     request: SelectionRequest(scope: .global, amount: .density(0.5)))
        // 6 of 12 kept: scores 10, 8, 7, 6, 5, 4.
        XCTAssertEqual(result.masks[0], [false, false, false, true, true, true, true, true])
        XCTAssertEqual(result.masks[1], [false, true, false, false])
        XCTAssertEqual(result.achievedDensity, 0.5)
        XCTAssertEqual(result.layers.map(\.remaining), [5, 1])
    }

    func testLayerwiseKeepsTheSameFractionInEachLayer() throws {
        let result = try selectMasks(scores: craftedScores, state: crafted,
                                     request: SelectionRequest(scope: .layerwise, amount: .density(0.5)))
        XCTAssertEqual(result.masks[0], [false, false, false, false, true, true, true, true])
        XCTAssertEqual(result.masks[1], [false, true, false, true])
        XCTAssertEqual(result.layers.map(\.achievedDensity), [0.5, 0.5])
    }

    func testPerLayerRatesAsInFrankleAndCarbin() throws {
        let state = PruningState(layers: [
            PrunableLayer(name: "fc", weights: [Float](repeating: 1, count: 100)),
            PrunableLayer(name: "out", isOutput: true, weights: [Float](repeating: 1, count: 10)),
        ])
        let scores: [[Float]] = [(0..<100).map(Float.init), (0..<10).map(Float.init)]
        let result = try selectMasks(scores: scores, state: state, request: SelectionRequest(
            scope: .layerwise, amount: .fractionOfRemaining(0.2), layerAmounts: ["out": .fractionOfRemaining(0.1)]))
        XCTAssertEqual(result.layers.map(\.remaining), [80, 9])
        XCTAssertEqual(result.masks[1], [false] + [Bool](repeating: true, count: 9))
    }

    func testExcludedLayersAreNeverPruned() throws {
        let result = try selectMasks(scores: craftedScores, state: crafted, request: SelectionRequest(
            scope: .global, amount: .density(0.25), excludedLayers: ["b"]))
        XCTAssertEqual(result.masks[1], [true, true, true, true])
        XCTAssertEqual(result.layers[0].remaining, 2)
        XCTAssertNil(result.layers[1].requestedDensity)
        XCTAssertEqual(result.requestedDensity, 0.5)  // (2 + 4) / 12
        XCTAssertThrowsError(try selectMasks(scores: craftedScores, state: crafted, request: SelectionRequest(
            scope: .global, amount: .density(0.25), excludedLayers: ["nope"])))
    }

    func testAchievedDensityEqualsRequestedToOneWeight() throws {
        let sizes = [300 * 784, 100 * 300, 10 * 100]
        let state = PruningState(layers: sizes.enumerated().map { PrunableLayer(name: "l\($0)", weights: [Float](repeating: 1, count: $1)) })
        var generator = SystemRandomNumberGenerator()
        let scores = sizes.map { n in (0..<n).map { _ in Float.random(in: 0..<1, using: &generator) } }
        for density in [0.5, 0.125, 0.031, 0.0078, 0.001] {
            for scope in PruningScope.allCases {
                let result = try selectMasks(scores: scores, state: state, request: SelectionRequest(scope: scope, amount: .density(density)))
                switch scope {
                case .global:
                    XCTAssertLessThanOrEqual(abs(Double(result.layers.reduce(0) { $0 + $1.remaining }) - density * Double(state.totalWeights)), 0.5 + 1e-9)
                case .layerwise:
                    for layer in result.layers {
                        XCTAssertLessThanOrEqual(abs(Double(layer.remaining) - density * Double(layer.weights)), 0.5 + 1e-9, layer.name)
                    }
                }
            }
        }
    }

    func testTiesAreBrokenByPositionNotBySortStability() throws {
        let state = PruningState(layers: [PrunableLayer(name: "a", weights: [1, 1, 1, 1, 1, 1])])
        let result = try selectMasks(scores: [[2, 1, 1, 1, 1, 2]], state: state,
                                     request: SelectionRequest(scope: .global, amount: .density(0.5)))
        XCTAssertEqual(result.masks[0], [true, true, false, false, false, true])
    }

    func testPrunedWeightsStayPrunedEvenWithHighScores() throws {
        var state = crafted
        state.layers[1].mask = [true, false, true, true]  // the weight scored 10 is already gone
        let result = try selectMasks(scores: craftedScores, state: state,
                                     request: SelectionRequest(scope: .global, amount: .fractionOfRemaining(0.5)))
        XCTAssertFalse(result.masks[1][1])
        XCTAssertEqual(result.layers.reduce(0) { $0 + $1.remaining }, 6)  // half of 11, rounded (5.5 -> 6)
        for (old, new) in zip(state.masks.joined(), result.masks.joined()) where !old { XCTAssertFalse(new) }
    }

    func testDensityAboveWhatIsAliveDoesNotResurrect() throws {
        var state = crafted
        state.layers[0].mask = [Bool](repeating: false, count: 8)
        let result = try selectMasks(scores: craftedScores, state: state, request: SelectionRequest(scope: .global, amount: .density(0.9)))
        XCTAssertEqual(result.masks[0], [Bool](repeating: false, count: 8))
        XCTAssertTrue(result.collapsed)
    }

    func testLayerCollapseIsFlagged() throws {
        let scores: [[Float]] = [[5, 6, 7, 8, 9, 10, 11, 12], [0, 0, 0, 0]]
        let result = try selectMasks(scores: scores, state: crafted, request: SelectionRequest(scope: .global, amount: .density(0.25)))
        XCTAssertTrue(result.layers[1].collapsed)
        XCTAssertTrue(result.collapsed)
        XCTAssertFalse(result.layers[0].collapsed)
    }

    func testNaNScoresArePrunedFirstAndCounted() throws {
        let state = PruningState(layers: [PrunableLayer(name: "a", weights: [1, 1, 1, 1])])
        let result = try selectMasks(scores: [[.nan, -5, .nan, 0]], state: state, request: SelectionRequest(scope: .global, amount: .density(0.5)))
        XCTAssertEqual(result.masks[0], [false, true, false, true])
        XCTAssertEqual(result.nanScores, 2)
    }

    func testBadAmountsAreRejected() {
        for amount in [PruningAmount.density(1.5), .density(-0.1), .fractionOfRemaining(1), .density(.nan)] {
            XCTAssertThrowsError(try selectMasks(scores: craftedScores, state: crafted, request: SelectionRequest(scope: .global, amount: amount)))
        }
        XCTAssertThrowsError(try selectMasks(scores: [[1]], state: crafted, request: SelectionRequest(scope: .global, amount: .density(0.5))))
    }

    func testShuffledMaskKeepsPerLayerDensityAndIsSeeded() {
        let masks = [[true, true, false, false, false, false, true, false], [true, false, false]]
        let a = MaskControls.shuffled(masks, seed: 3)
        XCTAssertEqual(a, MaskControls.shuffled(masks, seed: 3))
        XCTAssertEqual(a.map { $0.filter { $0 }.count }, [3, 1])
        XCTAssertNotEqual(MaskControls.shuffled([[Bool]](repeating: (0..<64).map { $0 % 3 == 0 }, count: 1), seed: 1),
                          [(0..<64).map { $0 % 3 == 0 }])
    }
}
