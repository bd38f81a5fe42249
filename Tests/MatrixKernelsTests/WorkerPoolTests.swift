import XCTest
@testable import MatrixKernels

final class WorkerPoolTests: XCTestCase {
    /// Every index is visited exactly once, chunks start on whole 16-float
    /// vectors, and small counts stay on one chunk.
    func testForEachChunkCoversTheRangeOnceInVectorAlignedChunks() {
        let pool = WorkerPool(threadCount: 3)
        for (count, grain) in [(0, 1), (1, 1), (17, 1), (100, 1), (1000, 16), (266_610, 1 << 14), (5000, 10_000)] {
            let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
            defer { visits.deallocate() }
            visits.initialize(repeating: 0)
            pool.forEachChunk(of: count, grain: grain) { range in
                // Chunks are disjoint, so these writes do not race.
                for i in range { visits[i] += 1 }
                XCTAssertEqual(range.lowerBound % 16, 0, "count \(count): chunk \(range) starts mid-vector")
            }
            for i in 0..<count where visits[i] != 1 {
                XCTFail("count \(count) grain \(grain): index \(i) visited \(visits[i]) times")
                break
            }
        }
        var calls = 0
        pool.forEachChunk(of: 5000, grain: 10_000) { range in
            calls += 1
            XCTAssertEqual(range, 0..<5000)
        }
        XCTAssertEqual(calls, 1, "a count below the grain runs as one chunk on the caller")
    }
}
