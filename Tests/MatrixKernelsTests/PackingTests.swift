import XCTest
@testable import MatrixKernels

final class PackingTests: XCTestCase {
    /// packB's layout, element by element, for a B stored transposed (the
    /// trainer's X·Wᵀ): full panels take the 4 × 4 register-transpose path,
    /// the ragged last panel and a depth that is not a multiple of 4 the
    /// scalar one.
    func testTransposedBPacksIntoNRColumnPanels() {
        let nr = Blocking.nr
        for (depth, columns) in [(7, 2 * nr), (4, nr), (13, nr + 5), (1, nr)] {
            let leadingDimension = depth + 3
            // Stored columns × depth (row-major), read as op(B) = depth × columns.
            let stored = (0..<(columns * leadingDimension)).map { Float($0) }
            stored.withUnsafeBufferPointer { storage in
                let b = StridedMatrix(storage.baseAddress!, leadingDimension: leadingDimension,
                                      transpose: .transposed, rows: depth, columns: columns)
                let panels = (columns + nr - 1) / nr
                let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * nr * depth)
                defer { packed.deallocate() }
                packed.update(repeating: .nan, count: panels * nr * depth)
                packB(b, row: 0, depth: depth, column: 0, columns: columns, into: packed)
                for q in 0..<panels {
                    for p in 0..<depth {
                        for j in 0..<nr {
                            let column = q * nr + j
                            let want: Float = column < columns ? stored[column * leadingDimension + p] : 0
                            let got = packed[q * nr * depth + p * nr + j]
                            XCTAssertEqual(got, want, "depth \(depth) columns \(columns): panel \(q) p \(p) j \(j)")
                        }
                    }
                }
            }
        }
    }
}
