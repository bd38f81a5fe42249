import Datasets
import Randomness
import XCTest
@testable import Networks

/// The central difference of the mean loss in entry `i` of `tensor`, or
/// `nil` where the loss has a kink within `epsilon` (a ReLU or max-pool
/// switching): there the one-sided differences disagree and no difference
/// quotient approximates the derivative, so the entry says nothing.
func smoothDerivative(_ network: Network, _ batch: Batch, _ tensor: Parameter, _ i: Int, epsilon: Float) -> Double? {
    let v = tensor.value.pointer, saved = v[i]
    let center = network.computeGradients(on: batch).loss
    v[i] = saved + epsilon; let plus = network.computeGradients(on: batch).loss
    v[i] = saved - epsilon; let minus = network.computeGradients(on: batch).loss
    v[i] = saved
    network.computeGradients(on: batch)  // the analytic gradients stay those of `saved`
    let forward = (plus - center) / Double(epsilon), backward = (center - minus) / Double(epsilon)
    guard abs(forward - backward) <= 2e-3 + 2e-2 * max(abs(forward), abs(backward)) else { return nil }
    return (plus - minus) / (2 * Double(epsilon))
}

final class NetworkTests: XCTestCase {
    /// Finite differences of the whole network's mean loss, with half of
    /// every prunable tensor masked.
    func testCompositeNetworkGradientsWithMasks() {
        let network = tinyConvNet(seed: 3)
        maskHalf(network, seed: 4)
        let data = syntheticData()
        var iterator = BatchIterator(dataset: data.train, batchSize: 6,
                                     normalization: Normalization(computedFrom: data.train), seed: 1)
        var batch = Batch(capacity: 6, shape: data.train.shape)
        XCTAssertTrue(iterator.next(into: &batch))
        network.computeGradients(on: batch)
        var generator = SeededGenerator(seed: 5)
        let epsilon: Float = 5e-3
        var checked = 0
        for tensor in network.trainableParameters {
            let gradient = tensor.gradients, mask = tensor.mask
            for _ in 0..<min(tensor.count, 8) {
                let i = generator.nextIndex(below: tensor.count)
                if let mask, mask[i] == 0 {
                    XCTAssertEqual(gradient[i], 0, "\(tensor.name)[\(i)] masked")
                    XCTAssertEqual(tensor.values[i], 0, "\(tensor.name)[\(i)] masked")
                    continue
                }
                guard let numeric = smoothDerivative(network, batch, tensor, i, epsilon: epsilon) else { continue }
                XCTAssertEqual(Double(gradient[i]), numeric, accuracy: 5e-4 + 1e-2 * abs(numeric), "\(tensor.name)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    func testMLPGradients() {
        let network = tinyMLP(seed: 9)
        let data = syntheticData()
        var iterator = BatchIterator(dataset: data.train, batchSize: 5,
                                     normalization: Normalization(computedFrom: data.train), seed: 2)
        var batch = Batch(capacity: 5, shape: data.train.shape)
        XCTAssertTrue(iterator.next(into: &batch))
        network.computeGradients(on: batch)
        var generator = SeededGenerator(seed: 6)
        var checked = 0
        defer { XCTAssertGreaterThan(checked, 30) }
        for tensor in network.trainableParameters {
            let gradient = tensor.gradients
            for _ in 0..<10 {
                let i = generator.nextIndex(below: tensor.count)
                guard let numeric = smoothDerivative(network, batch, tensor, i, epsilon: 5e-3) else { continue }
                XCTAssertEqual(Double(gradient[i]), numeric, accuracy: 5e-4 + 1e-2 * abs(numeric), "\(tensor.name)[\(i)]")
                checked += 1
            }
        }
    }

    func testInitializationDependsOnlyOnSeedAndName() {
        let a = tinyConvNet(seed: 11), b = tinyConvNet(seed: 11), c = tinyConvNet(seed: 12)
        XCTAssertEqual(bits(a), bits(b))
        XCTAssertNotEqual(bits(a)["conv1.weight"], bits(c)["conv1.weight"])
        // The same layer in a different model gets the same values.
        let mlp = tinyMLP(seed: 11)
        let other = try! Network(name: "other", inputShape: FeatureShape(channels: 72), classCount: 12,
                                 layers: [Dense(name: "fc1", inputs: 72, outputs: 12)])
        other.initialize(seed: 11, scheme: .kaimingUniform)
        XCTAssertEqual(mlp.parameter(named: "fc1.weight")!.values, other.parameter(named: "fc1.weight")!.values)
    }

    func testInitializerScales() {
        let layer = Dense(name: "fc", inputs: 400, outputs: 300)
        let network = try! Network(name: "n", inputShape: FeatureShape(channels: 400), classCount: 300, layers: [layer])
        for (scheme, expectedStd) in [(Initializer.kaimingNormal, (2.0 / 400).squareRoot()),
                                      (.kaimingUniform, (2.0 / 400).squareRoot()),
                                      (.glorotNormal, (2.0 / 700).squareRoot()),
                                      (.glorotUniform, (2.0 / 700).squareRoot())] {
            network.initialize(seed: 1, scheme: scheme)
            let w = layer.weight.values.map(Double.init)
            let mean = w.reduce(0, +) / Double(w.count)
            let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 3e-3 * expectedStd * 10, "\(scheme)")
            XCTAssertEqual(std, expectedStd, accuracy: 0.01 * expectedStd, "\(scheme)")
            XCTAssertEqual(layer.bias!.values, [Float](repeating: 0, count: 300))
        }
    }

    func testSnapshotRestoreKeepsCurrentMasks() throws {
        let network = tinyMLP(seed: 1)
        let initial = network.snapshot()
        maskHalf(network, seed: 2)
        network.initialize(seed: 99, scheme: .kaimingUniform)
        try network.restore(initial)
        for tensor in network.prunableTensors {
            let mask = tensor.mask!, values = tensor.values, original = initial.values[tensor.name]!
            for i in 0..<tensor.count {
                XCTAssertEqual(values[i], mask[i] == 0 ? 0 : original[i])
            }
        }
        XCTAssertLessThan(network.density, 0.6)
        try network.restore(initial, includingMasks: true)
        XCTAssertEqual(network.density, 1)
        XCTAssertEqual(bits(network), bits(tinyMLP(seed: 1)))
    }

    func testOutputSumGradientsOfLinearNetwork() {
        // For y = W x + b, d(Σy)/dW[o][i] = Σ_n x[n][i].
        let layer = Dense(name: "fc", inputs: 3, outputs: 2)
        let network = try! Network(name: "n", inputShape: FeatureShape(channels: 3), classCount: 2, layers: [layer])
        network.initialize(seed: 1, scheme: .glorotUniform)
        _ = network.computeOutputSumGradients(inputs: [1, 2, 3, 4, 5, 6], count: 2)
        XCTAssertEqual(layer.weight.gradients, [5, 7, 9, 5, 7, 9])
        XCTAssertEqual(layer.bias!.gradients, [2, 2])
    }

    func testShapeMismatchIsAnError() {
        XCTAssertThrowsError(try Network(name: "bad", inputShape: FeatureShape(channels: 5), classCount: 3,
                                         layers: [Dense(name: "fc", inputs: 4, outputs: 3)]))
        XCTAssertThrowsError(try ModelRegistry.make("vgg-11", inputShape: FeatureShape(channels: 1, height: 28, width: 28), seed: 1))
        XCTAssertThrowsError(try ModelRegistry.make("no-such-model", seed: 1))
    }
}

final class HessianTests: XCTestCase {
    /// One dense layer (no bias) with softmax cross-entropy on one example:
    /// H = (diag(p) − ppᵀ) ⊗ xxᵀ, so (Hv)[o][i] = Σ_o' (diag(p) − ppᵀ)[o][o'] · (v[o'] · x) · x[i].
    func testHessianVectorProductMatchesTheClosedForm() throws {
        let layer = Dense(name: "fc", inputs: 3, outputs: 4, bias: false)
        let network = try Network(name: "linear", inputShape: FeatureShape(channels: 3, height: 1, width: 1),
                                  classCount: 4, layers: [layer])
        network.initialize(seed: 2, scheme: .glorotNormal)
        let data = DatasetPair(
            train: Dataset(name: "one", split: .train, shape: ImageShape(height: 1, width: 1, channels: 3), classCount: 4,
                           pixels: [200, 30, 120], labels: [2]),
            test: Dataset(name: "one", split: .test, shape: ImageShape(height: 1, width: 1, channels: 3), classCount: 4,
                          pixels: [200, 30, 120], labels: [2]))
        var iterator = BatchIterator(dataset: data.train, batchSize: 1, normalization: .unitInterval(channels: 3), seed: 1)
        var batch = Batch(capacity: 1, shape: data.train.shape)
        XCTAssertTrue(iterator.next(into: &batch))
        let x = Array(batch.inputs[0..<3]).map(Double.init)
        let w = layer.weight.values.map(Double.init)
        let logits = (0..<4).map { o in (0..<3).reduce(0.0) { $0 + w[o * 3 + $1] * x[$1] } }
        let top = logits.max()!
        let e = logits.map { exp($0 - top) }, p = e.map { $0 / e.reduce(0, +) }
        var generator = SeededGenerator(seed: 3)
        let v = (0..<12).map { _ in Float(2 * generator.nextUniformDouble() - 1) }
        let before = layer.weight.values
        let hv = try network.hessianVectorProduct(on: batch, vector: ["fc.weight": v])["fc.weight"]!
        XCTAssertEqual(layer.weight.values, before, "weights restored")
        let vx = (0..<4).map { o in (0..<3).reduce(0.0) { $0 + Double(v[o * 3 + $1]) * x[$1] } }
        for o in 0..<4 {
            let s = (0..<4).reduce(0.0) { $0 + ((o == $1 ? p[o] : 0) - p[o] * p[$1]) * vx[$1] }
            for i in 0..<3 {
                XCTAssertEqual(Double(hv[o * 3 + i]), s * x[i], accuracy: 2e-3 * max(1, abs(s * x[i])), "Hv[\(o)][\(i)]")
            }
        }
        XCTAssertTrue(hv.contains { abs($0) > 0.01 }, "a non-trivial product")
    }
}
