import Randomness
import XCTest
@testable import Networks

final class LayerGradientTests: XCTestCase {
    let checker = GradientChecker()

    func testDense() {
        let layer = Dense(name: "fc", inputs: 7, outputs: 5)
        randomize(layer.parameters, seed: 2)
        checker.check(layer, inputShape: FeatureShape(channels: 7), count: 3)
    }

    func testDenseWithMaskedWeights() {
        let layer = Dense(name: "fc", inputs: 6, outputs: 4)
        randomize(layer.parameters, seed: 3)
        layer.weight.mask = (0..<24).map { $0 % 3 == 0 ? 0 : 1 }
        XCTAssertEqual(layer.weight.values.enumerated().filter { $0.offset % 3 == 0 }.map(\.element), [Float](repeating: 0, count: 8))
        var checker = self.checker
        checker.samplesPerTensor = 100
        checker.check(layer, inputShape: FeatureShape(channels: 6), count: 2)
    }

    func testConvolutionPaddedStride1() {
        let layer = Convolution(name: "conv", inputs: 2, outputs: 3, kernel: 3, padding: 1)
        randomize(layer.parameters, seed: 4)
        checker.check(layer, inputShape: FeatureShape(channels: 2, height: 5, width: 4), count: 2)
    }

    func testConvolutionStrided() {
        let layer = Convolution(name: "conv", inputs: 3, outputs: 2, kernel: 3, stride: 2, padding: 1, bias: false)
        randomize(layer.parameters, seed: 5)
        checker.check(layer, inputShape: FeatureShape(channels: 3, height: 7, width: 6), count: 2)
    }

    func testConvolutionPointwiseStrided() {
        let layer = Convolution(name: "conv", inputs: 3, outputs: 4, kernel: 1, stride: 2)
        randomize(layer.parameters, seed: 6)
        checker.check(layer, inputShape: FeatureShape(channels: 3, height: 4, width: 4), count: 2)
    }

    func testConvolutionPointwiseWithMask() {
        let layer = Convolution(name: "conv", inputs: 3, outputs: 2, kernel: 1)
        randomize(layer.parameters, seed: 7)
        layer.weight.mask = [1, 0, 1, 0, 0, 1]
        var checker = self.checker
        checker.samplesPerTensor = 100
        checker.check(layer, inputShape: FeatureShape(channels: 3, height: 3, width: 3), count: 2)
    }

    func testConvolutionUnpaddedWithMask() {
        let layer = Convolution(name: "conv", inputs: 2, outputs: 2, kernel: 2)
        randomize(layer.parameters, seed: 8)
        layer.weight.mask = (0..<16).map { $0 % 2 == 0 ? 1 : 0 }
        checker.check(layer, inputShape: FeatureShape(channels: 2, height: 4, width: 5), count: 2)
    }

    func testConvolutionMatchesDirectSum() {
        // Direct evaluation of the definition, independent of im2col.
        let layer = Convolution(name: "conv", inputs: 2, outputs: 3, kernel: 3, stride: 2, padding: 1)
        randomize(layer.parameters, seed: 9)
        let shape = FeatureShape(channels: 2, height: 5, width: 5)
        layer.prepare(inputShape: shape, batchCapacity: 1)
        var generator = SeededGenerator(seed: 10)
        let x = (0..<shape.count).map { _ in Float(generator.nextUniformDouble()) }
        let out = try! layer.outputShape(for: shape)
        XCTAssertEqual(out, FeatureShape(channels: 3, height: 3, width: 3))
        let w = layer.weight.values, b = layer.bias!.values
        let y = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: layer.forward($0.baseAddress!, count: 1, mode: .training), count: out.count)) }
        for o in 0..<3 { for oy in 0..<3 { for ox in 0..<3 {
            var sum = Double(b[o])
            for c in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                guard iy >= 0, iy < 5, ix >= 0, ix < 5 else { continue }
                sum += Double(w[((o * 2 + c) * 3 + ky) * 3 + kx]) * Double(x[(c * 5 + iy) * 5 + ix])
            } } }
            XCTAssertEqual(Double(y[(o * 3 + oy) * 3 + ox]), sum, accuracy: 1e-5)
        } } }
    }

    func testMaxPool() {
        // Distinct values 0.05 apart, so a ±0.01 step never changes a window's winner.
        checker.check(MaxPool(name: "pool"), inputShape: FeatureShape(channels: 2, height: 4, width: 6), count: 2) { generator, n in
            var values = (0..<n).map { Float($0) * 0.05 - 1 }
            values.seededShuffle(using: &generator)
            return values
        }
    }

    func testMaxPoolOddInputDropsLastRowAndColumn() throws {
        let pool = MaxPool(name: "pool")
        XCTAssertEqual(try pool.outputShape(for: FeatureShape(channels: 1, height: 5, width: 3)),
                       FeatureShape(channels: 1, height: 2, width: 1))
    }

    func testGlobalAveragePool() {
        checker.check(GlobalAveragePool(name: "gap"), inputShape: FeatureShape(channels: 3, height: 3, width: 2), count: 2)
    }

    func testReLU() {
        // Inputs kept away from the kink by more than the step.
        checker.check(ReLU(name: "relu"), inputShape: FeatureShape(channels: 10), count: 3) { generator, n in
            (0..<n).map { _ in
                let v = Float(2 * generator.nextUniformDouble() - 1)
                return v >= 0 ? v + 0.05 : v - 0.05
            }
        }
    }

    func testBatchNormTraining() {
        let layer = BatchNorm(name: "bn", channels: 3)
        randomize([layer.scale, layer.shift], seed: 11)
        checker.check(layer, inputShape: FeatureShape(channels: 3, height: 2, width: 2), count: 3)
    }

    func testBatchNormTrainingOnDenseFeatures() {
        let layer = BatchNorm(name: "bn", channels: 4)
        randomize([layer.scale, layer.shift], seed: 12)
        checker.check(layer, inputShape: FeatureShape(channels: 4), count: 5)
    }

    func testBatchNormEvaluation() {
        let layer = BatchNorm(name: "bn", channels: 2)
        randomize([layer.scale, layer.shift], seed: 13)
        layer.runningMean.values = [0.3, -0.2]
        layer.runningVariance.values = [0.5, 2.0]
        checker.check(layer, inputShape: FeatureShape(channels: 2, height: 2, width: 3), count: 2, mode: .evaluation)
    }

    func testBatchNormStatistics() {
        let layer = BatchNorm(name: "bn", channels: 1)
        layer.prepare(inputShape: FeatureShape(channels: 1), batchCapacity: 4)
        let x: [Float] = [1, 2, 3, 6]
        let y = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: layer.forward($0.baseAddress!, count: 4, mode: .training), count: 4)) }
        // mean 3, biased variance 3.5, unbiased 14/3.
        XCTAssertEqual(y[3], Float(3 / (3.5 + 1e-5).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(layer.runningMean.values[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(layer.runningVariance.values[0], 0.9 + 0.1 * 14 / 3, accuracy: 1e-6)
    }

    func testResidualWithIdentityShortcut() {
        let block = Residual(name: "block", main: [
            Convolution(name: "block.conv1", inputs: 2, outputs: 2, kernel: 3, padding: 1),
            BatchNorm(name: "block.bn1", channels: 2),
        ])
        randomize(block.parameters, seed: 14)
        var checker = self.checker
        checker.epsilon = 1e-3
        checker.absoluteTolerance = 5e-3
        checker.check(block, inputShape: FeatureShape(channels: 2, height: 3, width: 3), count: 2)
    }

    func testResidualWithProjectionShortcut() {
        let block = Residual(name: "block", main: [
            Convolution(name: "block.conv1", inputs: 2, outputs: 3, kernel: 3, stride: 2, padding: 1, bias: false),
            ReLU(name: "block.relu"),
            Convolution(name: "block.conv2", inputs: 3, outputs: 3, kernel: 3, padding: 1, bias: false),
        ], shortcut: [
            Convolution(name: "block.shortcut", inputs: 2, outputs: 3, kernel: 1, stride: 2, bias: false),
        ])
        randomize(block.parameters, seed: 15)
        var checker = self.checker
        checker.epsilon = 1e-3
        checker.absoluteTolerance = 5e-3
        checker.check(block, inputShape: FeatureShape(channels: 2, height: 4, width: 4), count: 2)
    }

    func testSoftmaxCrossEntropyGradient() {
        let loss = SoftmaxCrossEntropy(classes: 4)
        loss.prepare(batchCapacity: 3)
        var generator = SeededGenerator(seed: 16)
        var logits = (0..<12).map { _ in Float(4 * generator.nextUniformDouble() - 2) }
        let labels: [Int32] = [0, 3, 1]
        func value() -> Double {
            logits.withUnsafeBufferPointer { z in labels.withUnsafeBufferPointer { l in
                loss.evaluate(logits: z.baseAddress!, labels: l.baseAddress!, count: 3, computeGradient: true).loss
            } }
        }
        _ = value()
        let analytic = Array(UnsafeBufferPointer(start: loss.gradientPointer, count: 12))
        for i in 0..<12 {
            let saved = logits[i]
            logits[i] = saved + 1e-2; let plus = value()
            logits[i] = saved - 1e-2; let minus = value()
            logits[i] = saved
            XCTAssertEqual(Double(analytic[i]), (plus - minus) / 2e-2, accuracy: 2e-4, "logit \(i)")
        }
    }

    func testSoftmaxCrossEntropyIsStableForHugeLogits() {
        let loss = SoftmaxCrossEntropy(classes: 3)
        loss.prepare(batchCapacity: 1)
        let logits: [Float] = [1e4, -1e4, 9990]
        let result = logits.withUnsafeBufferPointer { z in [Int32(2)].withUnsafeBufferPointer { l in
            loss.evaluate(logits: z.baseAddress!, labels: l.baseAddress!, count: 1, computeGradient: true)
        } }
        XCTAssertEqual(result.loss, 10, accuracy: 1e-3)
        XCTAssertEqual(result.correct, 0)
        XCTAssertEqual(loss.gradientPointer[0], 1, accuracy: 1e-4)
    }
}
