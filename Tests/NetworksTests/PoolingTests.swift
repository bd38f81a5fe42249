import MatrixKernels
import Randomness
import XCTest
@testable import Networks

/// Max pooling split over examples: the definition's bits (first maximum
/// wins ties, the gradient goes to it) on 1, 2 and 3 threads, for the
/// unrolled 2×2 windows and the general loop.
final class PoolingTests: XCTestCase {
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
}
