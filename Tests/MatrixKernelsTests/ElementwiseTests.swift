import XCTest
@testable import MatrixKernels

final class ElementwiseTests: XCTestCase {
    func testColumnSumsMatchNaiveLoopAndAccumulate() {
        var generator = TestGenerator(seed: 37)
        for (rows, columns, ld) in [(60, 300, 300), (7, 33, 40), (1, 5, 5), (0, 4, 4), (3, 16, 16)] {
            let x = generator.floats(max(1, rows * ld))
            var sums = [Float](repeating: .nan, count: columns)
            columnSums(x, rows: rows, columns: columns, ld: ld, into: &sums)
            var naive = [Float](repeating: 0, count: columns)
            for i in 0..<rows { for j in 0..<columns { naive[j] += x[i * ld + j] } }
            XCTAssertEqual(sums, naive, "rows are summed in order, so bits agree")
            columnSums(x, rows: rows, columns: columns, ld: ld, into: &sums, accumulate: true)
            for j in 0..<columns {
                var twice = naive[j]
                for i in 0..<rows { twice += x[i * ld + j] }
                XCTAssertEqual(sums[j], twice)
            }
        }
    }

    func testRowSumsMatchNaiveLoop() {
        var generator = TestGenerator(seed: 41)
        for (rows, columns, ld) in [(6, 576, 576), (5, 33, 35), (3, 1, 1), (2, 0, 0)] {
            let x = generator.floats(max(1, rows * ld))
            var sums = [Float](repeating: .nan, count: rows)
            rowSums(x, rows: rows, columns: columns, ld: ld, into: &sums)
            for i in 0..<rows {
                let naive = (0..<columns).reduce(0.0) { $0 + Double(x[i * ld + $1]) }
                XCTAssertEqual(Double(sums[i]), naive, accuracy: 1e-5 * Double(columns + 1))
            }
            var accumulated = [Float](repeating: 1, count: rows)
            rowSums(x, rows: rows, columns: columns, ld: ld, into: &accumulated, accumulate: true)
            for i in 0..<rows { XCTAssertEqual(accumulated[i], 1 + sums[i]) }
        }
    }

    func testAddBiasWithAndWithoutReLU() {
        var generator = TestGenerator(seed: 43)
        for (rows, columns, ld) in [(60, 300, 300), (4, 10, 13), (2, 17, 17)] {
            let x = generator.floats(rows * ld)
            let bias = generator.floats(columns)
            for relu in [false, true] {
                var y = x
                addBias(&y, rows: rows, columns: columns, ld: ld, bias: bias, relu: relu)
                for i in 0..<rows {
                    for j in 0..<ld {
                        let index = i * ld + j
                        if j >= columns {
                            XCTAssertEqual(y[index], x[index], "padding untouched")
                        } else {
                            let v = x[index] + bias[j]
                            XCTAssertEqual(y[index], relu ? max(0, v) : v)
                        }
                    }
                }
            }
        }
    }

    func testReLUBackwardMasksByOutput() {
        var generator = TestGenerator(seed: 47)
        for count in [0, 1, 15, 16, 17, 300, 1001] {
            var output = generator.floats(count).map { max(0, $0) }
            if count > 2 { output[1] = -0.0; output[2] = .nan }
            let gradient = generator.floats(count)
            var result = gradient
            reluBackward(&result, output: output, count: count)
            for i in 0..<count {
                XCTAssertEqual(result[i], output[i] > 0 ? gradient[i] : 0, "index \(i)")
            }
            if count > 0 { XCTAssert(result.contains(0) || output.allSatisfy { $0 > 0 }) }
        }
    }
}
