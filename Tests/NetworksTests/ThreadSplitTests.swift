@testable import Datasets
import MatrixKernels
import Randomness
import XCTest
@testable import Networks

/// The passes split over threads outside the matrix kernels: the
/// definitions' bits on 1, 2 and 3 threads.
final class ThreadSplitTests: XCTestCase {
    /// The batch fill split over the pool's threads: the one-thread floats,
    /// on batches large enough to split (128 × 784 floats, as MNIST's).
    func testBatchesFilledOnAllThreadsMatchTheSerialFill() {
        defer { setThreadCount(2) }
        let shape = ImageShape(height: 28, width: 28, channels: 1)
        let count = 300
        var generator = SeededGenerator(seed: 5)
        let pixels = (0..<count * shape.pixelCount).map { _ in UInt8(generator.nextIndex(below: 256)) }
        let data = Dataset(name: "toy", split: .train, shape: shape, classCount: 10,
                           pixels: pixels, labels: (0..<count).map { UInt8($0 % 10) })
        let norm = Normalization(computedFrom: data)
        for threads in 1...3 {
            setThreadCount(threads)
            var serial = BatchIterator(dataset: data, batchSize: 128, normalization: norm, seed: 3)
            var split = BatchIterator(dataset: data, batchSize: 128, normalization: norm, seed: 3)
            var expected = Batch(capacity: 128, shape: shape), batch = Batch(capacity: 128, shape: shape)
            var batches = 0
            while serial.next(into: &expected) {
                batch.inputs = [Float](repeating: .nan, count: batch.inputs.count)
                XCTAssertTrue(split.nextOnAllThreads(into: &batch))
                XCTAssertEqual(batch.indices, expected.indices)
                let valid = expected.count * shape.pixelCount
                XCTAssertEqual(batch.inputs[..<valid].map(\.bitPattern), expected.inputs[..<valid].map(\.bitPattern),
                               "\(threads) threads, batch \(batches)")
                batches += 1
            }
            XCTAssertEqual(batches, 3)
        }
    }

    /// Max pooling split over examples (first maximum wins ties, the
    /// gradient goes to it), for the unrolled 2×2 windows and the general loop.
    func testMaxPoolMatchesTheDefinitionOnOneTwoAndThreeThreads() {
        defer { setThreadCount(2) }
        for (window, stride) in [(2, 2), (3, 2), (2, 1)] {
            let shape = FeatureShape(channels: 3, height: 7, width: 6), count = 5
            var generator = SeededGenerator(seed: 91)
            // Few distinct values, so windows hold ties.
            let x = (0..<(count * shape.count)).map { _ in Float(generator.nextIndex(below: 4)) - 1.5 }
            let reference = MaxPool(name: "pool", window: window, stride: stride)
            let out = try! reference.outputShape(for: shape)
            let dy = (0..<(count * out.count)).map { _ in Float(2 * generator.nextUniformDouble() - 1) }
            var expectedY = [Float](), expectedDx = [Float](repeating: 0, count: x.count)
            for n in 0..<count { for c in 0..<shape.channels { for oy in 0..<out.height { for ox in 0..<out.width {
                var best = -Float.infinity, at = -1
                for ky in 0..<window { for kx in 0..<window {
                    let i = n * shape.count + (c * shape.height + oy * stride + ky) * shape.width + ox * stride + kx
                    if at < 0 || x[i] > best { best = x[i]; at = i }
                } }
                expectedDx[at] += dy[expectedY.count]
                expectedY.append(best)
            } } } }
            for threads in 1...3 {
                setThreadCount(threads)
                let pool = MaxPool(name: "pool", window: window, stride: stride)
                pool.prepare(inputShape: shape, batchCapacity: count)
                let (y, dx) = x.withUnsafeBufferPointer { x in
                    dy.withUnsafeBufferPointer { dy in
                        (Array(UnsafeBufferPointer(start: pool.forward(x.baseAddress!, count: count, mode: .training),
                                                   count: count * out.count)),
                         Array(UnsafeBufferPointer(start: pool.backward(dy.baseAddress!, count: count, needsInputGradient: true)!,
                                                   count: x.count)))
                    }
                }
                let what = "window \(window) stride \(stride) threads \(threads)"
                XCTAssertEqual(y.map(\.bitPattern), expectedY.map(\.bitPattern), what)
                XCTAssertEqual(dx.map(\.bitPattern), expectedDx.map(\.bitPattern), what)
            }
        }
    }

    /// ReLU's and residual blocks' elementwise passes, split over threads
    /// above 2¹⁴ elements per thread: the scalar definitions' bits on 1, 2
    /// and 3 threads, on a length that leaves a partial vector, with NaN and −0.
    func testElementwisePassesMatchTheirDefinitionsOnOneTwoAndThreeThreads() {
        defer { setThreadCount(2) }
        let n = 70_001
        var generator = SeededGenerator(seed: 95)
        func values() -> [Float] {
            (0..<n).map { i in i % 97 == 0 ? .nan : i % 89 == 0 ? -0.0 : Float(2 * generator.nextUniformDouble() - 1) }
        }
        let a = values(), b = values(), pattern = (0..<n).map { _ in Float(generator.nextIndex(below: 2)) }
        let expected: [(String, [Float])] = [
            ("relu", a.map { $0 < 0 ? 0 : $0 }),
            ("sumThenReLU", zip(a, b).map { let s = $0 + $1; return s < 0 ? 0 : s }),
            ("sum", zip(a, b).map { $0 + $1 }),
            ("gate", zip(a, b).map { $1 > 0 ? $0 : 0 }),
            ("keep", zip(a, pattern).map { $1 != 0 ? $0 : 0 }),
            ("keepSum", (0..<n).map { pattern[$0] != 0 ? a[$0] + b[$0] : 0 }),
        ]
        for threads in 1...3 {
            setThreadCount(threads)
            for (name, want) in expected {
                var out = [Float](repeating: 7, count: n)
                a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in pattern.withUnsafeBufferPointer { p in
                    out.withUnsafeMutableBufferPointer { out in
                        let a = a.baseAddress!, b = b.baseAddress!, p = p.baseAddress!, o = out.baseAddress!
                        let operation: Elementwise.Operation
                        switch name {
                        case "relu": operation = .relu(a, into: o)
                        case "sumThenReLU": operation = .sumThenReLU(a, b, into: o)
                        case "sum": operation = .sum(a, b, into: o)
                        case "gate": operation = .gate(a, onWherePositive: b, into: o)
                        case "keep": operation = .keep(a, pattern: p, into: o)
                        default: operation = .keepSum(a, b, pattern: p, into: o)
                        }
                        Elementwise.perform(operation, count: n)
                    }
                } } }
                XCTAssertEqual(out.map(\.bitPattern), want.map(\.bitPattern), "\(name) on \(threads) threads")
            }
        }
    }
}
