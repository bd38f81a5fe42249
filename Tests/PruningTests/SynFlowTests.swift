import Datasets
@testable import Networks
import XCTest
@testable import Pruning

/// An oracle over a network that only answers the data-free question.
struct SynapticFlowOracle: GradientOracle {
    let network: Network
    func absoluteGradientSum(batches: Int) throws -> [[Float]] { XCTFail("data used"); return [] }
    func meanGradient(batches: Int) throws -> [[Float]] { XCTFail("data used"); return [] }
    func hessianGradientProduct(batches: Int, temperature: Float) throws -> [[Float]] { XCTFail("data used"); return [] }
    func synapticFlowGradient() throws -> [[Float]] { try Pruning.synapticFlowGradient(of: network) }
}

/// A chain of dense layers with ReLUs between them.
func denseChain(_ widths: [Int]) throws -> Network {
    var layers: [Layer] = []
    for l in 1..<widths.count {
        layers.append(Dense(name: "fc\(l)", inputs: widths[l - 1], outputs: widths[l]))
        if l < widths.count - 1 { layers.append(ReLU(name: "fc\(l).relu")) }
    }
    return try Network(name: "chain", inputShape: FeatureShape(channels: widths[0]), classCount: widths.last!, layers: layers)
}

/// The network's prunable state, as the experiment builds it.
func prunableState(of network: Network) -> PruningState {
    let tensors = network.prunableTensors
    return PruningState(layers: tensors.enumerated().map { index, tensor in
        PrunableLayer(name: tensor.name, isOutput: index == tensors.count - 1, weights: tensor.values,
                      mask: tensor.mask!.map { $0 != 0 })
    })
}

func install(_ masks: [[Bool]], in network: Network) {
    for (tensor, mask) in zip(network.prunableTensors, masks) { tensor.mask = mask.map { $0 ? 1 : 0 } }
}

final class SynFlowTests: XCTestCase {
    private func synflowScores(_ network: Network) throws -> [[Float]] {
        var context = ScoringContext(maskSeed: 1, oracle: SynapticFlowOracle(network: network))
        return try SynFlowCriterion(iterations: 1).scores(for: prunableState(of: network), context: &context)
    }

    private func assertClose(_ actual: [[Float]], _ expected: [[Double]], relative: Double = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.map(\.count), expected.map(\.count), file: file, line: line)
        for (row, want) in zip(actual, expected) {
            for (a, b) in zip(row, want) {
                XCTAssertEqual(Double(a), b, accuracy: relative * max(abs(b), 1e-30), "\(actual) vs \(expected)", file: file, line: line)
            }
        }
    }

    /// 2-2-1 with signed weights and biases. Linearised (|·| everywhere, input
    /// of ones): h = (1+2+0.5, 0.5+3+1) = (3.5, 4.5), R = 2·3.5 + 0.25·4.5 + 1
    /// = 9.125; ∂R/∂W1 rows are |W2| = (2, 0.25); ∂R/∂W2 = h.
    func testScoresEqualTheHandComputedSaliencyOverR() throws {
        let network = try denseChain([2, 2, 1])
        let p = network.parameters
        p[0].values = [1, -2, 0.5, 3]   // fc1.weight [out, in]
        p[1].values = [0.5, -1]         // fc1.bias
        p[2].values = [-2, 0.25]        // fc2.weight
        p[3].values = [1]               // fc2.bias
        let before = network.snapshot()
        let r = 9.125
        assertClose(try synflowScores(network), [[2 / r, 4 / r, 0.125 / r, 0.75 / r], [7 / r, 1.125 / r]])
        XCTAssertEqual(network.snapshot(), before, "scoring leaves signs, values and masks as they were")

        // Masked weights carry no flow: prune W1[0][1] (the −2); h1 = 1.5, R = 3 + 1.125 + 1.
        p[0].mask = [1, 0, 1, 1]
        let masked = 5.125
        assertClose(try synflowScores(network), [[2 / masked, 0, 0.125 / masked, 0.75 / masked], [3 / masked, 1.125 / masked]])
    }

    /// Tanaka et al.'s conservation law: without biases, the saliencies of
    /// every layer sum to R, so our normalised scores sum to 1 per layer.
    func testEachLayerConservesTheFlowWithoutBiases() throws {
        let network = try ModelRegistry.make("lenet-300-100", inputShape: FeatureShape(channels: 1, height: 4, width: 4),
                                             classCount: 4, seed: 3)
        let scores = try synflowScores(network)
        XCTAssertEqual(scores.count, 3)
        for row in scores {
            XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-4)
        }
    }

    /// 24 layers of 8×8 weights equal to 10: R = 8·80²⁴ ≈ 4·10⁴⁶ overflows
    /// Float32, and so does the plain output-sum gradient; the balanced
    /// scaling returns the exact normalised saliency, 1/64 for every weight.
    func testDeepNetworksDoNotOverflowFloat32() throws {
        let network = try denseChain([Int](repeating: 8, count: 25))
        for tensor in network.parameters { tensor.values = [Float](repeating: tensor.kind == .weight ? 10 : 0, count: tensor.count) }
        let plain = network.computeOutputSumGradients(inputs: [Float](repeating: 1, count: 8), count: 1)
        XCTAssertFalse(plain.isFinite, "the example must overflow without the guard (R = \(plain))")
        let scores = try synflowScores(network)
        for row in scores { for value in row { XCTAssertEqual(Double(value), 1.0 / 64, accuracy: 1e-6) } }
    }

    /// The plain computation, no scaling: linearise, one all-ones example,
    /// gradient of the output sum. Returns R and ∂R/∂w / R.
    private func unscaledReference(_ network: Network) throws -> (r: Double, flow: [[Float]]) {
        let saved = network.snapshot()
        defer { try? network.restore(saved) }
        for tensor in network.parameters { tensor.values = tensor.values.map(abs) }
        let r = network.computeOutputSumGradients(inputs: [Float](repeating: 1, count: network.inputShape.count), count: 1)
        return (r, network.prunableTensors.map { $0.gradients.map { Float(Double($0) / r) } })
    }

    /// Batch norm (evaluation mode, running statistics), residual blocks with
    /// 1×1 shortcuts, and non-zero biases, shifts and running means: the
    /// balanced scaling (here s ≈ t ≈ R^(−1/2), far from 1) must give the
    /// same ∂R/∂w / R as the unscaled computation, which does not overflow here.
    func testScalingIsExactWithBatchNormResidualsAndBiases() throws {
        let network = try ModelRegistry.make("resnet-20", inputShape: FeatureShape(channels: 3, height: 8, width: 8),
                                             classCount: 3, seed: 4)
        var generator = SeededGeneratorForTests(seed: 5)
        for tensor in network.parameters where tensor.kind != .weight {
            // Signed values: the linearisation must take |·| of every tensor.
            tensor.values = (0..<tensor.count).map { _ in Float(generator.next() % 2_001) / 1_000 - 1 + (tensor.name.hasSuffix("variance") ? 1.5 : 0) }
        }
        let reference = try unscaledReference(network)
        XCTAssertTrue(reference.r.isFinite && abs(log2(reference.r)) > 8, "the example must exercise the scaling (R = \(reference.r))")
        let flow = try Pruning.synapticFlowGradient(of: network)
        XCTAssertEqual(flow.count, reference.flow.count)
        for (row, want) in zip(flow, reference.flow) {
            let scale = want.reduce(0) { max($0, abs($1)) }
            for (a, b) in zip(row, want) { XCTAssertEqual(a, b, accuracy: 1e-4 * scale) }
        }
    }

    /// A zoo model at its reference input: finite saliencies, and the size of
    /// R that Float32 has to carry (printed for the record). At Kaiming
    /// initialisation R ≈ 1.5·10²⁵ for ResNet-20 and ≈ 3·10²² for VGG-16 (left
    /// out here: building it takes seconds): within Float32 unscaled, but
    /// only 13 orders of magnitude from overflow; deeper models need the guard.
    func testZooModelGivesFiniteSaliencies() throws {
        for name in ["resnet-20"] {
            let network = try ModelRegistry.make(name, inputShape: FeatureShape(channels: 3, height: 32, width: 32), classCount: 10, seed: 1)
            let r = try unscaledReference(network).r
            print("synflow: \(name) at 3×32×32, Kaiming init: R = \(r) (log2 \(log2(r)))")
            let flow = try Pruning.synapticFlowGradient(of: network)
            XCTAssertTrue(flow.allSatisfy { $0.allSatisfy(\.isFinite) }, name)
            XCTAssertTrue(flow.contains { $0.contains { $0 > 0 } }, name)
        }
    }

    /// A first layer of small weights feeding large ones: single-shot global
    /// magnitude at 10% density removes the whole first layer (layer
    /// collapse, the network is cut); SynFlow's iterative schedule keeps a
    /// path through every layer and reaches exactly the requested count.
    func testIterativeSynFlowReachesTheDensityWithoutLayerCollapse() throws {
        let network = try denseChain([4, 8, 8, 2])
        var generator = SeededGeneratorForTests(seed: 11)
        func uniform(_ low: Float, _ high: Float) -> Float {
            low + (high - low) * Float(generator.next() % 10_000) / 10_000
        }
        let magnitudes: [String: (Float, Float)] = ["fc1.weight": (0.01, 0.02), "fc2.weight": (0.5, 1), "fc3.weight": (0.5, 1)]
        for tensor in network.prunableTensors {
            let (low, high) = magnitudes[tensor.name]!
            tensor.values = (0..<tensor.count).map { _ in (generator.next() % 2 == 0 ? 1 : -1) * uniform(low, high) }
        }
        let initial = network.snapshot()
        let total = network.prunableTensors.reduce(0) { $0 + $1.count }  // 32 + 64 + 16 = 112
        let density = 0.1
        let request = { (amount: PruningAmount) in SelectionRequest(scope: .global, amount: amount) }

        func prune(_ criterion: PruningCriterion) throws -> SelectionResult {
            try network.restore(initial, includingMasks: true)
            var context = ScoringContext(maskSeed: 1, oracle: SynapticFlowOracle(network: network))
            return try pruneStepwise(criterion: criterion, density: density, context: &context,
                                     state: { prunableState(of: network) }, request: request,
                                     apply: { install($0, in: network) })
        }
        let magnitude = try prune(MagnitudeCriterion())
        XCTAssertTrue(magnitude.collapsed, "the crafted example must collapse under magnitude: \(magnitude.layers)")
        XCTAssertEqual(magnitude.layers[0].remaining, 0)

        let synflow = try prune(SynFlowCriterion(iterations: 100))
        XCTAssertFalse(synflow.collapsed, "\(synflow.layers)")
        let kept = synflow.layers.reduce(0) { $0 + $1.remaining }
        XCTAssertEqual(kept, Int((Double(total) * density).rounded()), "exactly the requested density, to one weight")
        XCTAssertEqual(network.prunableTensors.reduce(0) { $0 + $1.unmaskedCount }, kept, "the masks are installed")
        XCTAssertEqual(synflow.requestedDensity, Double(kept) / Double(total), accuracy: 1e-12, "the last step's target is the requested one")
    }

    func testSynFlowAtInitThroughTheExperimentHitsTheDensityAndTrains() throws {
        let configuration = toyConfiguration(criterion: "synflow", schedule: .atInitialization(density: 0.1))
        let results = try PruningExperiment(configuration: configuration, data: toyData()).run()
        XCTAssertEqual(results.count, 1)
        let result = results[0]
        let total = result.layers.reduce(0) { $0 + $1.weights }
        XCTAssertLessThanOrEqual(abs(Double(result.layers.reduce(0) { $0 + $1.remaining }) - 0.1 * Double(total)), 0.5)
        XCTAssertEqual(result.status, .ok)
        XCTAssertGreaterThan(try XCTUnwrap(result.finalTestAccuracy), 0.5, "the pruned network should still learn the toy problem")
        // Deterministic: data-free and seeded.
        let again = try PruningExperiment(configuration: configuration, data: toyData()).run()
        XCTAssertEqual(timeless(again), timeless(results))
    }

    func testIterativeRoundsWithAStepwiseCriterionAreRefused() {
        // Before any data is loaded (the sweep validates every run first) and by the experiment.
        XCTAssertThrowsError(try toyConfiguration(criterion: "synflow", schedule: .iterative(rate: 0.5, rounds: 2, rewindIteration: 0)).validated())
        XCTAssertNoThrow(try toyConfiguration(criterion: "synflow", schedule: .atInitialization(density: 0.5)).validated())
        XCTAssertThrowsError(try PruningExperiment(configuration: toyConfiguration(
            criterion: "synflow", schedule: .iterative(rate: 0.5, rounds: 2, rewindIteration: 0)), data: toyData())) { error in
            XCTAssertTrue("\(error)".contains("at-init"), "\(error)")
        }
    }
}
