import MatrixKernels
import Randomness
import XCTest
@testable import Networks

/// Batch norm's vectorised passes and its fused ReLU: the same bits as the
/// straightforward per-element computation and as `BatchNorm` then `ReLU`,
/// on any thread count, with channel counts and planes that leave partial
/// channel groups (of 8) and partial vectors (of 16).
final class FusedLayerTests: XCTestCase {
    /// (channels, height, width, examples): 19 channels = 8 + 8 + 3 lanes; planes
    /// of 35 (2 vectors + 3), 16 (one vector), 1 (dense features) and 4 (VGG's 2×2).
    let shapes = [(19, 5, 7, 3), (8, 4, 4, 2), (11, 1, 1, 5), (32, 2, 2, 4)]

    func testBatchNormMatchesTheElementwiseReferenceBitForBit() {
        for (channels, height, width, count) in shapes {
            for relu in [false, true] {
                for mode in [Mode.training, .evaluation] {
                    let shape = FeatureShape(channels: channels, height: height, width: width)
                    let layer = BatchNorm(name: "bn", channels: channels, relu: relu)
                    randomize(layer.parameters, seed: 21)
                    layer.runningVariance.values = layer.runningVariance.values.map { abs($0) + 0.5 }
                    let reference = ReferenceBatchNorm(layer)
                    let x = values(count * shape.count, seed: 22), dy = values(count * shape.count, seed: 23)
                    let (y, dx) = run(layer, shape: shape, x: x, dy: dy, count: count, mode: mode)
                    let expected = reference.run(shape: shape, x: x, dy: dy, count: count, mode: mode)
                    let what = "\(shape) × \(count) relu \(relu) \(mode)"
                    XCTAssertEqual(y.map(\.bitPattern), expected.y.map(\.bitPattern), what)
                    XCTAssertEqual(dx.map(\.bitPattern), expected.dx.map(\.bitPattern), what)
                    XCTAssertEqual(layer.scale.gradients.map(\.bitPattern), expected.dgamma.map(\.bitPattern), what)
                    XCTAssertEqual(layer.shift.gradients.map(\.bitPattern), expected.dbeta.map(\.bitPattern), what)
                    XCTAssertEqual(layer.runningMean.values.map(\.bitPattern), expected.runningMean.map(\.bitPattern), what)
                    XCTAssertEqual(layer.runningVariance.values.map(\.bitPattern),
                                   expected.runningVariance.map(\.bitPattern), what)
                }
            }
        }
    }

    func testFusedReLUMatchesBatchNormThenReLUBitForBit() {
        for (channels, height, width, count) in shapes {
            let shape = FeatureShape(channels: channels, height: height, width: width)
            let fused = BatchNorm(name: "bn", channels: channels, relu: true)
            let plain = BatchNorm(name: "bn", channels: channels)
            randomize(fused.parameters, seed: 31)
            randomize(plain.parameters, seed: 31)
            let relu = ReLU(name: "relu")
            let x = values(count * shape.count, seed: 32), dy = values(count * shape.count, seed: 33)
            let (y, dx) = run(fused, shape: shape, x: x, dy: dy, count: count, mode: .training)
            let (y2, dx2) = run([plain, relu], shape: shape, x: x, dy: dy, count: count)
            XCTAssertEqual(y.map(\.bitPattern), y2.map(\.bitPattern), "\(shape)")
            XCTAssertEqual(dx.map(\.bitPattern), dx2.map(\.bitPattern), "\(shape)")
            XCTAssertEqual(fused.scale.gradients.map(\.bitPattern), plain.scale.gradients.map(\.bitPattern))
            XCTAssertEqual(fused.shift.gradients.map(\.bitPattern), plain.shift.gradients.map(\.bitPattern))
            XCTAssertGreaterThan(y.filter { $0 == 0 }.count, 0, "the ReLU clips something")
        }
    }

    /// Frozen, the fused ReLU is linear where it was on, as a frozen `ReLU` is.
    func testFrozenFusedReLUMatchesFrozenReLU() {
        let shape = FeatureShape(channels: 9, height: 3, width: 6), count = 3
        let fused = BatchNorm(name: "bn", channels: 9, relu: true)
        let plain = BatchNorm(name: "bn", channels: 9)
        randomize(fused.parameters, seed: 41)
        randomize(plain.parameters, seed: 41)
        let relu = ReLU(name: "relu")
        let x = values(count * shape.count, seed: 42), dy = values(count * shape.count, seed: 43)
        _ = run(fused, shape: shape, x: x, dy: dy, count: count, mode: .training)
        _ = run([plain, relu], shape: shape, x: x, dy: dy, count: count)
        fused.freezePattern()
        relu.freezePattern()
        defer { fused.thawPattern(); relu.thawPattern() }
        // Another input flips units; the frozen pattern must not follow.
        let shifted = values(count * shape.count, seed: 44)
        let (y, dx) = run(fused, shape: shape, x: shifted, dy: dy, count: count, mode: .training)
        let (y2, dx2) = run([plain, relu], shape: shape, x: shifted, dy: dy, count: count)
        XCTAssertEqual(y.map(\.bitPattern), y2.map(\.bitPattern))
        XCTAssertEqual(dx.map(\.bitPattern), dx2.map(\.bitPattern))
        XCTAssertTrue(y.contains { $0 < 0 }, "a frozen unit passes negative values")
    }

    func testBatchNormGivesIdenticalBitsOnOneTwoAndThreeThreads() {
        defer { setThreadCount(2) }
        for (channels, height, width, count) in shapes {
            let shape = FeatureShape(channels: channels, height: height, width: width)
            let x = values(count * shape.count, seed: 52), dy = values(count * shape.count, seed: 53)
            var results: [[UInt32]] = []
            for threads in 1...3 {
                setThreadCount(threads)
                let layer = BatchNorm(name: "bn", channels: channels, relu: true)
                randomize(layer.parameters, seed: 51)
                let (y, dx) = run(layer, shape: shape, x: x, dy: dy, count: count, mode: .training)
                results.append((y + dx + layer.scale.gradients + layer.shift.gradients + layer.runningVariance.values)
                    .map(\.bitPattern))
            }
            XCTAssertEqual(results[0], results[1], "\(shape)")
            XCTAssertEqual(results[0], results[2], "\(shape)")
        }
    }

    func testFusedBatchNormGradient() {
        let layer = BatchNorm(name: "bn", channels: 3, relu: true)
        randomize([layer.scale, layer.shift], seed: 61)
        var checker = GradientChecker()
        checker.absoluteTolerance = 5e-3
        checker.check(layer, inputShape: FeatureShape(channels: 3, height: 2, width: 3), count: 3)
    }

    /// A network trained with fused batch norm + ReLU ends with the bits of
    /// the same network with separate layers.
    func testTrainingWithFusedReLUGivesTheBitsOfSeparateLayers() {
        func train(fused: Bool) -> [String: [UInt32]] {
            func bn(_ name: String, _ channels: Int) -> [Layer] {
                fused ? [BatchNorm(name: name + ".bn", channels: channels, relu: true)]
                    : [BatchNorm(name: name + ".bn", channels: channels), ReLU(name: name + ".relu")]
            }
            let layers: [Layer] = [Convolution(name: "conv1", inputs: 2, outputs: 5, kernel: 3, padding: 1)] + bn("conv1", 5)
                + [Convolution(name: "conv2", inputs: 5, outputs: 9, kernel: 3, padding: 1)] + bn("conv2", 9)
                + [GlobalAveragePool(name: "gap"), Dense(name: "fc", inputs: 9, outputs: 4)]
            let network = try! Network(name: "bn-relu", inputShape: FeatureShape(channels: 2, height: 6, width: 6),
                                       classCount: 4, layers: layers)
            network.initialize(seed: 9, scheme: .kaimingNormal)
            let configuration = TrainingConfiguration(epochs: 2, batchSize: 12,
                                                      optimizer: .sgd(learningRate: 0.1, momentum: 0.9), dataSeed: 3)
            Trainer(network: network, data: syntheticData(trainCount: 36), configuration: configuration).train()
            return bits(network)
        }
        XCTAssertEqual(train(fused: true), train(fused: false))
    }

    /// A residual block whose main branch ends in batch norm adds the
    /// shortcut and applies the ReLU in that batch norm's pass: the same bits
    /// as the separate layers composed by hand, with an identity and with a
    /// projection shortcut, and with the pattern frozen (the unfused path).
    func testResidualSumFusedIntoBatchNormMatchesTheComposition() {
        for projection in [false, true] {
            func branches() -> (main: [Layer], shortcut: [Layer]) {
                let main: [Layer] = [
                    Convolution(name: "b.conv1", inputs: 4, outputs: 4, kernel: 3, padding: 1, bias: false),
                    BatchNorm(name: "b.bn1", channels: 4, relu: true),
                    Convolution(name: "b.conv2", inputs: 4, outputs: 4, kernel: 3, padding: 1, bias: false),
                    BatchNorm(name: "b.bn2", channels: 4),
                ]
                let shortcut: [Layer] = projection ? [
                    Convolution(name: "b.shortcut", inputs: 4, outputs: 4, kernel: 1, bias: false),
                    BatchNorm(name: "b.shortcut.bn", channels: 4),
                ] : []
                for (index, layer) in (main + shortcut).enumerated() { randomize(layer.parameters, seed: 70 + UInt64(index)) }
                return (main, shortcut)
            }
            let (main, shortcut) = branches()
            let block = Residual(name: "b", main: main, shortcut: shortcut)
            let reference = branches()
            let shape = FeatureShape(channels: 4, height: 5, width: 5), count = 3, n = count * shape.count
            let x = values(n, seed: 81), dy = values(n, seed: 82)
            let (y, dx) = run(block, shape: shape, x: x, dy: dy, count: count, mode: .training)
            for layer in reference.main + reference.shortcut { layer.prepare(inputShape: shape, batchCapacity: count) }
            let (y2, dx2) = x.withUnsafeBufferPointer { x -> ([Float], [Float]) in
                var a = x.baseAddress!, b = x.baseAddress!
                for layer in reference.main { a = layer.forward(a, count: count, mode: .training) }
                for layer in reference.shortcut { b = layer.forward(b, count: count, mode: .training) }
                let sum = (0..<n).map { a[$0] + b[$0] }
                let y = sum.map { $0 < 0 ? 0 : $0 }
                let g = (0..<n).map { y[$0] > 0 ? dy[$0] : 0 }
                return g.withUnsafeBufferPointer { g in
                    var da = g.baseAddress!, db = g.baseAddress!
                    for layer in reference.main.reversed() { da = layer.backward(da, count: count, needsInputGradient: true)! }
                    for layer in reference.shortcut.reversed() { db = layer.backward(db, count: count, needsInputGradient: true)! }
                    return (y, (0..<n).map { da[$0] + db[$0] })
                }
            }
            XCTAssertEqual(y.map(\.bitPattern), y2.map(\.bitPattern), "projection \(projection)")
            XCTAssertEqual(dx.map(\.bitPattern), dx2.map(\.bitPattern), "projection \(projection)")
            let referenceParameters = (reference.main + reference.shortcut).flatMap(\.parameters)
            for (p, q) in zip(block.parameters, referenceParameters) {
                XCTAssertEqual(p.gradients.map(\.bitPattern), q.gradients.map(\.bitPattern), p.name)
                XCTAssertEqual(p.values.map(\.bitPattern), q.values.map(\.bitPattern), p.name)
            }
            // Frozen at this point, the block takes the separate loop and gives the same bits.
            block.freezePattern()
            let (y3, dx3) = run(block, shape: shape, x: x, dy: dy, count: count, mode: .training)
            block.thawPattern()
            let (y4, dx4) = (y, dx)
            XCTAssertEqual(y3.map(\.bitPattern), y4.map(\.bitPattern), "projection \(projection), frozen")
            XCTAssertEqual(dx3.map(\.bitPattern), dx4.map(\.bitPattern), "projection \(projection), frozen")
        }
    }

    // MARK: Helpers

    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(2 * generator.nextUniformDouble() - 1) }
    }

    private func run(_ layer: Layer, shape: FeatureShape, x: [Float], dy: [Float], count: Int,
                     mode: Mode) -> (y: [Float], dx: [Float]) {
        layer.prepare(inputShape: shape, batchCapacity: count)
        let n = count * shape.count
        return x.withUnsafeBufferPointer { x in
            let y = Array(UnsafeBufferPointer(start: layer.forward(x.baseAddress!, count: count, mode: mode), count: n))
            let dx = dy.withUnsafeBufferPointer { dy in
                Array(UnsafeBufferPointer(start: layer.backward(dy.baseAddress!, count: count, needsInputGradient: true)!,
                                          count: n))
            }
            return (y, dx)
        }
    }

    private func run(_ layers: [Layer], shape: FeatureShape, x: [Float], dy: [Float], count: Int) -> (y: [Float], dx: [Float]) {
        for layer in layers { layer.prepare(inputShape: shape, batchCapacity: count) }
        let n = count * shape.count
        return x.withUnsafeBufferPointer { x in
            var a = x.baseAddress!
            for layer in layers { a = layer.forward(a, count: count, mode: .training) }
            let y = Array(UnsafeBufferPointer(start: a, count: n))
            let dx = dy.withUnsafeBufferPointer { dy in
                var g = dy.baseAddress!
                for layer in layers.reversed() { g = layer.backward(g, count: count, needsInputGradient: true)! }
                return Array(UnsafeBufferPointer(start: g, count: n))
            }
            return (y, dx)
        }
    }
}

/// Batch norm (+ ReLU) one element at a time, as the layer computed it
/// before it was vectorised (numerics-2): every sum in `Double`, in the
/// order examples, positions.
private struct ReferenceBatchNorm {
    let gamma: [Float], beta: [Float], runningMean: [Float], runningVariance: [Float]
    let epsilon: Float, momentum: Float, relu: Bool

    init(_ layer: BatchNorm) {
        gamma = layer.scale.values
        beta = layer.shift.values
        runningMean = layer.runningMean.values
        runningVariance = layer.runningVariance.values
        epsilon = layer.epsilon
        momentum = layer.momentum
        relu = layer.appliesReLU
    }

    func run(shape: FeatureShape, x: [Float], dy outputGradient: [Float], count: Int, mode: Mode)
        -> (y: [Float], dx: [Float], dgamma: [Float], dbeta: [Float], runningMean: [Float], runningVariance: [Float]) {
        let plane = shape.planeSize, stride = shape.count, m = count * plane
        var y = [Float](repeating: 0, count: x.count), xhat = y, dx = y
        var rm = runningMean, rv = runningVariance
        var dgamma = [Float](repeating: 0, count: shape.channels), dbeta = dgamma, inv = dgamma
        func indices(_ c: Int) -> [Int] { (0..<count).flatMap { n in (0..<plane).map { n * stride + c * plane + $0 } } }
        for c in 0..<shape.channels {
            var mean: Float, invStd: Float
            if mode == .training {
                var sum = 0.0
                for i in indices(c) { sum += Double(x[i]) }
                let mu = sum / Double(max(m, 1))
                var squares = 0.0
                for i in indices(c) { let d = Double(x[i]) - mu; squares += d * d }
                let variance = squares / Double(max(m, 1))
                mean = Float(mu)
                invStd = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = m > 1 ? squares / Double(m - 1) : variance
                rm[c] = (1 - momentum) * rm[c] + momentum * mean
                rv[c] = (1 - momentum) * rv[c] + momentum * Float(unbiased)
            } else {
                mean = rm[c]
                invStd = 1 / (rv[c] + epsilon).squareRoot()
            }
            inv[c] = invStd
            for i in indices(c) {
                xhat[i] = (x[i] - mean) * invStd
                let t = gamma[c] * xhat[i] + beta[c]
                y[i] = relu && t < 0 ? 0 : t
            }
        }
        let dy = zip(outputGradient, y).map { g, y in !relu || y > 0 ? g : 0 }
        for c in 0..<shape.channels {
            var sumDy = 0.0, sumDyXhat = 0.0
            for i in indices(c) {
                sumDy += Double(dy[i])
                sumDyXhat += Double(dy[i]) * Double(xhat[i])
            }
            dgamma[c] = Float(sumDyXhat)
            dbeta[c] = Float(sumDy)
            let k = gamma[c] * inv[c]
            let meanDy = Float(sumDy) / Float(m), meanDyXhat = Float(sumDyXhat) / Float(m)
            for i in indices(c) {
                dx[i] = mode == .training ? k * (dy[i] - meanDy - xhat[i] * meanDyXhat) : k * dy[i]
            }
        }
        return (y, dx, dgamma, dbeta, rm, rv)
    }
}
