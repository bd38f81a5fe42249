/// The shape of a 2-D convolution over one channel-planar (CHW) image.
///
/// The output size follows the usual floor rule:
/// `outputHeight = (height + 2·paddingY − kernelHeight) / strideY + 1`.
public struct ConvolutionGeometry: Hashable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideY: Int
    public var strideX: Int
    public var paddingY: Int
    public var paddingX: Int

    /// Creates a geometry; strides default to 1 and padding to 0.
    public init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
                strideY: Int = 1, strideX: Int = 1, paddingY: Int = 0, paddingX: Int = 0) {
        precondition(channels > 0 && height > 0 && width > 0 && kernelHeight > 0 && kernelWidth > 0)
        precondition(strideY > 0 && strideX > 0 && paddingY >= 0 && paddingX >= 0)
        precondition(height + 2 * paddingY >= kernelHeight && width + 2 * paddingX >= kernelWidth,
                     "kernel larger than the padded image")
        self.channels = channels; self.height = height; self.width = width
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideY = strideY; self.strideX = strideX
        self.paddingY = paddingY; self.paddingX = paddingX
    }

    public var outputHeight: Int { (height + 2 * paddingY - kernelHeight) / strideY + 1 }
    public var outputWidth: Int { (width + 2 * paddingX - kernelWidth) / strideX + 1 }
    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    public var columnRows: Int { channels * kernelHeight * kernelWidth }
    /// Columns of the column matrix: one per output pixel.
    public var columnCount: Int { outputHeight * outputWidth }
}

/// Unfolds one CHW image into its column matrix (`columnRows × columnCount`,
/// row-major, rows `leadingDimension` apart), so a convolution becomes
/// `output = weights · columns` with weights `filters × columnRows`. Padding
/// reads as zero. A leading dimension of k·`columnCount` lets k images sit
/// side by side (image i at column offset i·`columnCount`) for one GEMM.
///
/// Row `(c·kh + dy)·kw + dx`, column `oy·outputWidth + ox` holds
/// `image[c, oy·strideY − paddingY + dy, ox·strideX − paddingX + dx]`.
/// With `usedBy`, only the rows of the taps that some kept weight of that
/// `filters × columnRows` matrix uses are written (the sparse kernels read
/// no others).
public func im2col(_ image: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into columns: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil,
                   usedBy kept: CompressedRows? = nil) {
    let ow = g.outputWidth
    forEachSegment(of: g, leadingDimension: leadingDimension, usedBy: kept) { segment, imageRow, valid in
        let out = columns + segment
        guard let imageRow else { return fillZero(out, count: ow) }
        let row = image + imageRow
        fillZero(out, count: valid.lowerBound)
        if g.strideX == 1 {
            copy(row + valid.lowerBound, into: out + valid.lowerBound, count: valid.count)
        } else {
            for ox in valid { out[ox] = row[ox * g.strideX] }
        }
        fillZero(out + valid.upperBound, count: ow - valid.upperBound)
    }
}

// Segments are an output row long (often 32 floats or fewer): inline
// vector loops instead of a memcpy/memset call each.
@inline(__always)
private func copy(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
    typealias V = SIMD16<Float>
    var i = 0
    while i + V.scalarCount <= count {
        UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: V.self),
                                                       as: V.self)
        i += V.scalarCount
    }
    while i < count { target[i] = source[i]; i += 1 }
}

@inline(__always)
private func fillZero(_ target: UnsafeMutablePointer<Float>, count: Int) {
    typealias V = SIMD16<Float>
    var i = 0
    while i + V.scalarCount <= count {
        UnsafeMutableRawPointer(target + i).storeBytes(of: V(), as: V.self)
        i += V.scalarCount
    }
    while i < count { target[i] = 0; i += 1 }
}

/// The walk im2col and col2im share: for every row of the column matrix
/// (channel, kernel row, kernel column) and every output row `oy`, calls
/// `body` with the offset of that `outputWidth`-long segment in the column
/// matrix, the offset in the image of input column `ox = 0`'s position
/// (`nil` when the input row is padding), and the outputs `ox` whose input
/// lies inside the image: the same span for every output row, so neither
/// function tests each element.
@inline(__always)
private func forEachSegment(of g: ConvolutionGeometry, leadingDimension: Int?, usedBy kept: CompressedRows?,
                            _ body: (_ segment: Int, _ imageRow: Int?, _ valid: Range<Int>) -> Void) {
    let oh = g.outputHeight, ow = g.outputWidth
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    var row = 0
    for channel in 0..<g.channels {
        let plane = channel * g.height * g.width
        for dy in 0..<g.kernelHeight {
            for dx in 0..<g.kernelWidth {
                defer { row += 1 }
                if let kept, kept.entries(ofColumn: row).isEmpty { continue }
                let x0 = dx - g.paddingX
                let valid = inBoundsOutputs(offset: x0, stride: g.strideX, inputWidth: g.width, outputWidth: ow)
                for oy in 0..<oh {
                    let y = oy * g.strideY - g.paddingY + dy
                    body(row * ld + oy * ow, y >= 0 && y < g.height ? plane + y * g.width + x0 : nil, valid)
                }
            }
        }
    }
}

/// The output columns `ox` whose input column `offset + ox·stride` lies in
/// `0..<inputWidth`: a contiguous range (possibly empty).
@inline(__always)
func inBoundsOutputs(offset x0: Int, stride: Int, inputWidth: Int, outputWidth: Int) -> Range<Int> {
    let first = min(outputWidth, x0 >= 0 ? 0 : (stride - 1 - x0) / stride)
    let end = x0 >= inputWidth ? 0 : min(outputWidth, (inputWidth - 1 - x0) / stride + 1)
    return first..<max(first, end)
}

/// Folds a column matrix (rows `leadingDimension` apart) back into a CHW
/// image: the adjoint of `im2col`.
///
/// `image` is overwritten with the sum, over every column-matrix entry, of
/// that entry at the pixel it was read from (entries from padding are
/// dropped). This is the input gradient of a convolution, given
/// `columns = weightsᵀ · outputGradient`. With `usedBy`, the rows of taps
/// no kept weight uses (+0 in a sparse product's output) are not read: the
/// same bits, as adding +0 changes no sum that starts at +0 (such a sum is
/// never −0).
public func col2im(_ columns: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into image: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil,
                   usedBy kept: CompressedRows? = nil) {
    image.update(repeating: 0, count: g.channels * g.height * g.width)
    forEachSegment(of: g, leadingDimension: leadingDimension, usedBy: kept) { segment, imageRow, valid in
        guard let imageRow else { return }
        let row = image + imageRow, source = columns + segment
        if g.strideX == 1 {
            addInPlace(row + valid.lowerBound, source + valid.lowerBound, count: valid.count)
        } else {
            for ox in valid { row[ox * g.strideX] += source[ox] }
        }
    }
}

/// `target[i] += addend[i]` for `i < count`, in vectors (the two never overlap).
@inline(__always)
private func addInPlace(_ target: UnsafeMutablePointer<Float>, _ addend: UnsafePointer<Float>, count: Int) {
    typealias V = SIMD8<Float>
    var i = 0
    while i + V.scalarCount <= count {
        let sum = UnsafeRawPointer(target + i).loadUnaligned(as: V.self) + UnsafeRawPointer(addend + i).loadUnaligned(as: V.self)
        UnsafeMutableRawPointer(target + i).storeBytes(of: sum, as: V.self)
        i += V.scalarCount
    }
    while i < count {
        target[i] += addend[i]
        i += 1
    }
}
