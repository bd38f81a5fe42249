import XCTest
@testable import MatrixKernels

final class ConvolutionTests: XCTestCase {
    static let geometries = [
        ConvolutionGeometry(channels: 1, height: 28, width: 28, kernelHeight: 5, kernelWidth: 5),
        ConvolutionGeometry(channels: 3, height: 8, width: 7, kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 2, height: 9, width: 10, kernelHeight: 3, kernelWidth: 2,
                            strideY: 2, strideX: 3, paddingY: 2, paddingX: 1),
        ConvolutionGeometry(channels: 4, height: 5, width: 5, kernelHeight: 5, kernelWidth: 5, paddingY: 0, paddingX: 2),
        // ResNet's downsampling 3×3 and 1×1 shortcut (stride 2), and padding
        // wider than the image.
        ConvolutionGeometry(channels: 2, height: 32, width: 32, kernelHeight: 3, kernelWidth: 3,
                            strideY: 2, strideX: 2, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 3, height: 16, width: 16, kernelHeight: 1, kernelWidth: 1, strideY: 2, strideX: 2),
        ConvolutionGeometry(channels: 1, height: 1, width: 1, kernelHeight: 3, kernelWidth: 3, paddingY: 2, paddingX: 2),
        // Stride 1 keeping the row width (one shifted run per column-matrix
        // row): ResNet/VGG's 3×3 "same" layers down to 1×1, 5×5 with padding 2
        // on images narrower than the padding, and a non-square kernel.
        ConvolutionGeometry(channels: 2, height: 32, width: 32, kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 3, height: 16, width: 16, kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 3, height: 2, width: 2, kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 2, height: 1, width: 1, kernelHeight: 3, kernelWidth: 3, paddingY: 1, paddingX: 1),
        ConvolutionGeometry(channels: 2, height: 3, width: 1, kernelHeight: 5, kernelWidth: 5, paddingY: 2, paddingX: 2),
        ConvolutionGeometry(channels: 2, height: 6, width: 5, kernelHeight: 5, kernelWidth: 3, paddingY: 1, paddingX: 1),
    ]

    func testInBoundsOutputsMatchesAnElementwiseCheck() {
        for stride in 1...3 {
            for inputWidth in 1...9 {
                for outputWidth in 0...12 {
                    for offset in -5...11 {
                        let want = (0..<outputWidth).filter { (0..<inputWidth).contains(offset + $0 * stride) }
                        let got = inBoundsOutputs(offset: offset, stride: stride, inputWidth: inputWidth,
                                                  outputWidth: outputWidth)
                        XCTAssertEqual(Array(got), want, "offset \(offset) stride \(stride) in \(inputWidth) out \(outputWidth)")
                    }
                }
            }
        }
    }

    /// Pixel of the padded image, zero outside.
    private func pixel(_ image: [Float], _ g: ConvolutionGeometry, _ c: Int, _ y: Int, _ x: Int) -> Float {
        y >= 0 && y < g.height && x >= 0 && x < g.width ? image[(c * g.height + y) * g.width + x] : 0
    }

    func testOutputSize() {
        let g = Self.geometries[2]
        XCTAssertEqual(g.outputHeight, (9 + 4 - 3) / 2 + 1)
        XCTAssertEqual(g.outputWidth, (10 + 2 - 2) / 3 + 1)
        XCTAssertEqual(Self.geometries[0].columnCount, 24 * 24)
    }

    func testConvolutionThroughIm2colAndGEMMMatchesDirectLoops() {
        var generator = TestGenerator(seed: 29)
        let filters = 6
        for g in Self.geometries {
            let image = generator.floats(g.channels * g.height * g.width)
            let weights = generator.floats(filters * g.columnRows)
            var columns = [Float](repeating: .nan, count: g.columnRows * g.columnCount)
            im2col(image, geometry: g, into: &columns)
            var output = [Float](repeating: .nan, count: filters * g.columnCount)
            gemm(m: filters, n: g.columnCount, k: g.columnRows, a: weights, lda: g.columnRows,
                 b: columns, ldb: g.columnCount, c: &output, ldc: g.columnCount)
            for f in 0..<filters {
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        var sum: Float = 0
                        for c in 0..<g.channels {
                            for dy in 0..<g.kernelHeight {
                                for dx in 0..<g.kernelWidth {
                                    let w = weights[f * g.columnRows + (c * g.kernelHeight + dy) * g.kernelWidth + dx]
                                    sum += w * pixel(image, g, c, oy * g.strideY - g.paddingY + dy,
                                                     ox * g.strideX - g.paddingX + dx)
                                }
                            }
                        }
                        let got = output[f * g.columnCount + oy * g.outputWidth + ox]
                        XCTAssertEqual(got, sum, accuracy: 1e-4, "\(g) filter \(f) at (\(oy), \(ox))")
                    }
                }
            }
        }
    }

    private func submatrix(_ matrix: [Float], rows: Int, columns: Int, leadingDimension: Int, offset: Int) -> [Float] {
        var result: [Float] = []
        for r in 0..<rows {
            let start = r * leadingDimension + offset
            result += matrix[start..<(start + columns)]
        }
        return result
    }

    func testImagesSideBySideWithALeadingDimension() {
        // Two images unfolded into one matrix (image i at column offset
        // i·columnCount, rows ld apart) equal their separate column
        // matrices, and col2im of either block equals col2im of a copy.
        var generator = TestGenerator(seed: 37)
        for g in Self.geometries {
            let count = g.columnCount, ld = 2 * count + 3
            let images = [generator.floats(g.channels * g.height * g.width), generator.floats(g.channels * g.height * g.width)]
            var joint = [Float](repeating: .nan, count: g.columnRows * ld)
            joint.withUnsafeMutableBufferPointer { joint in
                for (i, image) in images.enumerated() {
                    im2col(image, geometry: g, into: joint.baseAddress! + i * count, leadingDimension: ld)
                }
            }
            for (i, image) in images.enumerated() {
                var alone = [Float](repeating: .nan, count: g.columnRows * count)
                im2col(image, geometry: g, into: &alone)
                let block = submatrix(joint, rows: g.columnRows, columns: count, leadingDimension: ld, offset: i * count)
                XCTAssertEqual(block.map(\.bitPattern), alone.map(\.bitPattern), "\(g) image \(i)")

                let gradient = generator.floats(g.columnRows * ld)
                var folded = [Float](repeating: .nan, count: image.count)
                gradient.withUnsafeBufferPointer { gradient in
                    col2im(gradient.baseAddress! + i * count, geometry: g, into: &folded, leadingDimension: ld)
                }
                let copy = submatrix(gradient, rows: g.columnRows, columns: count, leadingDimension: ld, offset: i * count)
                var expected = [Float](repeating: .nan, count: image.count)
                col2im(copy, geometry: g, into: &expected)
                XCTAssertEqual(folded.map(\.bitPattern), expected.map(\.bitPattern), "\(g) image \(i)")
            }
        }
    }

    func testCol2imIsTheAdjointOfIm2col() {
        // <im2col(x), y> == <x, col2im(y)> for all x, y, and col2im matches a
        // naive scatter.
        var generator = TestGenerator(seed: 31)
        for g in Self.geometries {
            let x = generator.floats(g.channels * g.height * g.width)
            let y = generator.floats(g.columnRows * g.columnCount)
            var columns = [Float](repeating: 0, count: y.count)
            im2col(x, geometry: g, into: &columns)
            var folded = [Float](repeating: .nan, count: x.count)
            col2im(y, geometry: g, into: &folded)
            let left = zip(columns, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(x, folded).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(left, right, accuracy: 1e-3, "\(g)")

            var naive = [Float](repeating: 0, count: x.count)
            for c in 0..<g.channels { for dy in 0..<g.kernelHeight { for dx in 0..<g.kernelWidth {
                let row = (c * g.kernelHeight + dy) * g.kernelWidth + dx
                for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth {
                    let iy = oy * g.strideY - g.paddingY + dy, ix = ox * g.strideX - g.paddingX + dx
                    if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                        naive[(c * g.height + iy) * g.width + ix] += y[row * g.columnCount + oy * g.outputWidth + ox]
                    }
                } }
            } } }
            XCTAssertEqual(folded, naive, "\(g)")
        }
    }

    /// Every entry of the column matrix is the pixel it is defined as (bits,
    /// −0 included), and col2im adds each pixel's entries in row order from
    /// +0, as the definition does.
    func testIm2colAndCol2imMatchTheDefinitionBitForBit() {
        var generator = TestGenerator(seed: 41)
        for g in Self.geometries {
            let x = generator.floats(g.channels * g.height * g.width).enumerated().map { $0.offset % 7 == 0 ? -0.0 : $0.element }
            let y = generator.floats(g.columnRows * g.columnCount).enumerated().map { $0.offset % 5 == 0 ? -0.0 : $0.element }
            var columns = [Float](repeating: .nan, count: y.count)
            im2col(x, geometry: g, into: &columns)
            var folded = [Float](repeating: .nan, count: x.count)
            col2im(y, geometry: g, into: &folded)
            var expectedColumns = [Float](repeating: .nan, count: y.count)
            var expectedImage = [Float](repeating: 0, count: x.count)
            for c in 0..<g.channels { for dy in 0..<g.kernelHeight { for dx in 0..<g.kernelWidth {
                let row = (c * g.kernelHeight + dy) * g.kernelWidth + dx
                for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth {
                    let iy = oy * g.strideY - g.paddingY + dy, ix = ox * g.strideX - g.paddingX + dx
                    let entry = row * g.columnCount + oy * g.outputWidth + ox
                    expectedColumns[entry] = pixel(x, g, c, iy, ix)
                    if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                        expectedImage[(c * g.height + iy) * g.width + ix] += y[entry]
                    }
                } }
            } } }
            XCTAssertEqual(columns.map(\.bitPattern), expectedColumns.map(\.bitPattern), "im2col \(g)")
            XCTAssertEqual(folded.map(\.bitPattern), expectedImage.map(\.bitPattern), "col2im \(g)")
        }
    }
}
