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
public func im2col(_ image: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into columns: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil) {
    if g.keepsRowWidth {
        let columnCount = g.columnCount
        return forEachShiftedPlane(of: g, leadingDimension: leadingDimension) { rowOffset, plane in
            let out = columns + rowOffset
            let row = out + plane.outputStart, source = image + plane.imageStart
            out.update(repeating: 0, count: plane.outputStart)
            row.update(repeating: 0, count: plane.skipFront)
            (row + plane.skipFront).update(from: source + plane.skipFront, count: plane.copyCount)
            let copied = plane.skipFront + plane.copyCount
            (row + copied).update(repeating: 0, count: plane.count - copied)
            let end = plane.outputStart + plane.count
            (out + end).update(repeating: 0, count: columnCount - end)
            // Where the input column lies left or right of the image the
            // copy read the neighbouring row's edge: those are padding.
            for line in 0..<plane.rows {
                let segment = row + line * g.width
                for ox in plane.invalidColumns.front { segment[ox] = 0 }
                for ox in plane.invalidColumns.back { segment[ox] = 0 }
            }
        }
    }
    let ow = g.outputWidth
    forEachSegment(of: g, leadingDimension: leadingDimension) { segment, imageRow, valid in
        let out = columns + segment
        guard let imageRow else { return out.update(repeating: 0, count: ow) }
        let row = image + imageRow
        out.update(repeating: 0, count: valid.lowerBound)
        if g.strideX == 1 {
            (out + valid.lowerBound).update(from: row + valid.lowerBound, count: valid.count)
        } else {
            for ox in valid { out[ox] = row[ox * g.strideX] }
        }
        (out + valid.upperBound).update(repeating: 0, count: ow - valid.upperBound)
    }
}

/// The walk im2col and col2im share: for every row of the column matrix
/// (channel, kernel row, kernel column) and every output row `oy`, calls
/// `body` with the offset of that `outputWidth`-long segment in the column
/// matrix, the offset in the image of input column `ox = 0`'s position
/// (`nil` when the input row is padding), and the outputs `ox` whose input
/// lies inside the image: the same span for every output row, so neither
/// function tests each element.
@inline(__always)
private func forEachSegment(of g: ConvolutionGeometry, leadingDimension: Int?,
                            _ body: (_ segment: Int, _ imageRow: Int?, _ valid: Range<Int>) -> Void) {
    let oh = g.outputHeight, ow = g.outputWidth
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    var row = 0
    for channel in 0..<g.channels {
        let plane = channel * g.height * g.width
        for dy in 0..<g.kernelHeight {
            for dx in 0..<g.kernelWidth {
                let x0 = dx - g.paddingX
                let valid = inBoundsOutputs(offset: x0, stride: g.strideX, inputWidth: g.width, outputWidth: ow)
                for oy in 0..<oh {
                    let y = oy * g.strideY - g.paddingY + dy
                    body(row * ld + oy * ow, y >= 0 && y < g.height ? plane + y * g.width + x0 : nil, valid)
                }
                row += 1
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
/// `columns = weightsᵀ · outputGradient`.
public func col2im(_ columns: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into image: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil) {
    // Gathering pays on rows narrower than two vectors (ResNet/VGG at 16×16
    // down to 4×4: 1.3-1.9× in one timing of both); on 32-wide rows the
    // scatter's long runs were faster (the gather 0.8×).
    if g.keepsRowWidth && g.width < 2 * TileVector.scalarCount {
        return foldShiftedPlanes(columns, geometry: g, into: image, leadingDimension: leadingDimension)
    }
    image.update(repeating: 0, count: g.channels * g.height * g.width)
    forEachSegment(of: g, leadingDimension: leadingDimension) { segment, imageRow, valid in
        guard let imageRow else { return }
        let row = image + imageRow, source = columns + segment
        if g.strideX == 1 {
            addInPlace(row + valid.lowerBound, source + valid.lowerBound, count: valid.count)
        } else {
            for ox in valid { row[ox * g.strideX] += source[ox] }
        }
    }
}

extension ConvolutionGeometry {
    /// Stride 1 with output rows as wide as the input's (3×3 with padding
    /// 1, 5×5 with 2, ...): each column-matrix row is then its channel's
    /// plane shifted by a constant: im2col copies it in one contiguous run
    /// instead of one short run per output row, col2im gathers along it.
    var keepsRowWidth: Bool { strideX == 1 && strideY == 1 && outputWidth == width }
}

/// One column-matrix row of a `keepsRowWidth` geometry: output rows
/// `outputStart / width ..< + rows` read inside the image, entry
/// `outputStart + j` of the row reads image entry `imageStart + j`, and the
/// run that stays inside those image rows is `skipFront ..< skipFront + copyCount`.
private struct ShiftedPlane {
    var outputStart: Int
    var rows: Int
    var count: Int { rows * width }
    var imageStart: Int
    var skipFront: Int
    var skipBack: Int
    var copyCount: Int { max(0, count - skipFront - skipBack) }

    /// Output columns whose input lies left / right of the image.
    var invalidColumns: (front: Range<Int>, back: Range<Int>)
    let width: Int
}

/// Calls `body` with the offset of each column-matrix row (in order) and its shifted plane.
@inline(__always)
private func forEachShiftedPlane(of g: ConvolutionGeometry, leadingDimension: Int?,
                                 _ body: (_ rowOffset: Int, _ plane: ShiftedPlane) -> Void) {
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    let w = g.width, oh = g.outputHeight
    var row = 0
    for channel in 0..<g.channels {
        for dy in 0..<g.kernelHeight {
            let first = min(oh, max(0, g.paddingY - dy)), end = max(first, min(oh, g.height + g.paddingY - dy))
            for dx in 0..<g.kernelWidth {
                let x0 = dx - g.paddingX
                let valid = inBoundsOutputs(offset: x0, stride: 1, inputWidth: w, outputWidth: w)
                let plane = ShiftedPlane(
                    outputStart: first * w, rows: end - first,
                    imageStart: channel * g.height * w + (first + dy - g.paddingY) * w + x0,
                    skipFront: min((end - first) * w, max(0, -x0)), skipBack: max(0, x0),
                    invalidColumns: (0..<valid.lowerBound, max(valid.lowerBound, valid.upperBound)..<w), width: w)
                body(row * ld, plane)
                row += 1
            }
        }
    }
}

/// col2im for a `keepsRowWidth` geometry, gathering instead of scattering:
/// pixel i of a channel plane (flat, i = y·width + x) is the sum over the
/// kernel taps (dy, dx), in row order, of entry i + (paddingY − dy)·width +
/// (paddingX − dx) of row (c, dy, dx), where that entry's input lies in the
/// image. Sixteen pixels at a time are summed in a register from +0 and
/// stored once, instead of zeroing the image and adding kh·kw shifted rows
/// into it. The same additions in the same order as the scatter (a tap
/// outside the image adds +0, which changes nothing: a sum that starts at +0
/// is never −0), so the same bits.
private func foldShiftedPlanes(_ columns: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                               into image: UnsafeMutablePointer<Float>, leadingDimension: Int?) {
    typealias Lanes = SIMD16<Int32>
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    let w = g.width, plane = g.height * w, oh = Int32(g.outputHeight), ow = Int32(g.outputWidth)
    let columnCount = g.columnCount // computed (two divisions): read once
    let laneIndex = Lanes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    // Masks are built with integer arithmetic (all ones or all zeros per
    // lane), not `SIMDMask`, whose `.&` and `any` compile to per-lane loops.
    /// All ones where 0 ≤ v < bound.
    @inline(__always) func within(_ v: Lanes, _ bound: Int32) -> Lanes { (~v & (v &- bound)) &>> 31 }
    let wraps = (TileVector.scalarCount + w - 1) / w
    for c in 0..<g.channels {
        let firstRow = c * g.kernelHeight * g.kernelWidth
        // Each lane's pixel (x, y), carried from chunk to chunk by wrapping at w.
        var x = laneIndex, y = Lanes()
        var start = 0
        while start < plane {
            for _ in 0..<wraps {
                let wrapped = ~((x &- Int32(w)) &>> 31) // all ones where x ≥ w
                x &-= Lanes(repeating: Int32(w)) & wrapped
                y &-= wrapped
            }
            let lanes = min(TileVector.scalarCount, plane - start)
            let inPlane = within(y, Int32(g.height))
            var sum = TileVector()
            var row = firstRow
            for dy in 0..<g.kernelHeight {
                let rowsInside = inPlane & within(y &+ Int32(g.paddingY - dy), oh)
                for dx in 0..<g.kernelWidth {
                    let inside = rowsInside & within(x &+ Int32(g.paddingX - dx), ow)
                    let first = start + (g.paddingY - dy) * w + (g.paddingX - dx)
                    let entries = columns + row * ld
                    let v: TileVector
                    if first >= 0 && first + TileVector.scalarCount <= columnCount {
                        v = UnsafeRawPointer(entries + first).loadUnaligned(as: TileVector.self)
                    } else {
                        v = gatherInside(entries, first: first, inside: inside)
                    }
                    sum += unsafeBitCast(unsafeBitCast(v, to: Lanes.self) & inside, to: TileVector.self)
                    row += 1
                }
            }
            let target = image + c * plane + start
            if lanes == TileVector.scalarCount {
                UnsafeMutableRawPointer(target).storeBytes(of: sum, as: TileVector.self)
            } else {
                for lane in 0..<lanes { target[lane] = sum[lane] }
            }
            x &+= Lanes(repeating: Int32(TileVector.scalarCount))
            start += lanes
        }
    }
}

/// `entries[first + lane]` in the lanes whose `inside` is nonzero (0
/// elsewhere): near the ends of a plane, where a whole vector would read
/// outside the row.
@inline(never)
private func gatherInside(_ entries: UnsafePointer<Float>, first: Int, inside: SIMD16<Int32>) -> TileVector {
    var v = TileVector()
    for lane in 0..<TileVector.scalarCount where inside[lane] != 0 { v[lane] = entries[first + lane] }
    return v
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
