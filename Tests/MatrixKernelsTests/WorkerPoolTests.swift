import XCTest
@testable import MatrixKernels

final class WorkerPoolTests: XCTestCase {
    /// Chunks cover the range exactly once, start on whole 16-float vectors,
    /// and a count below the grain is one chunk.
    func testChunksCoverTheRangeOnceInVectorAlignedPieces() {
        for count in [0, 1, 15, 16, 17, 100, 1000, 266_610] {
            for parts in 1...5 {
                var next = 0
                for part in 0..<parts {
                    let range = chunk(part, of: parts, count: count)
                    if range.isEmpty { continue }
                    XCTAssertEqual(range.lowerBound, next, "count \(count), \(parts) parts: gap or overlap at part \(part)")
                    XCTAssertEqual(range.lowerBound % 16, 0, "count \(count): chunk \(range) starts mid-vector")
                    next = range.upperBound
                }
                XCTAssertEqual(next, count, "count \(count), \(parts) parts: not covered")
            }
        }
        let pool = WorkerPool(threadCount: 3)
        XCTAssertEqual(pool.chunkCount(of: 5000, grain: 10_000), 1)
        XCTAssertEqual(pool.chunkCount(of: 266_610, grain: 1 << 14), 3)
    }

    /// Every part runs exactly once, whatever the number of threads.
    func testPerformRunsEveryPartOnce() {
        struct Tally: ParallelWork {
            let counts: UnsafeMutablePointer<Int>
            func perform(part: Int, of parts: Int) { counts[part] += 1 }  // one writer per part
        }
        for threads in 1...3 {
            let pool = WorkerPool(threadCount: threads)
            for parts in [1, 2, 3, 7] {
                let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
                defer { counts.deallocate() }
                counts.initialize(repeating: 0, count: parts)
                for _ in 0..<50 { pool.perform(Tally(counts: counts), parts: parts) }
                XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: parts)), Array(repeating: 50, count: parts),
                               "\(threads) threads, \(parts) parts")
            }
        }
    }
}
