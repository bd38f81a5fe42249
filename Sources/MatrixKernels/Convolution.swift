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
    // Rows narrower than a vector gather (ResNet/VGG at 8×8 down to 2×2:
    // 1.7-5.0× the per-run copies in one timing of both; at 16×16 the copy
    // below was faster, 2.1× against 1.5×).
    // The whole-plane paths write every row; a sparse product's used rows
    // go through the segments below.
    if kept == nil && g.keepsRowWidth && g.width < TileVector.scalarCount {
        return unfoldShiftedPlanes(image, geometry: g, into: columns, leadingDimension: leadingDimension)
    }
    if kept == nil && g.keepsRowWidth {
        let columnCount = g.columnCount
        return forEachShiftedPlane(of: g, leadingDimension: leadingDimension) { rowOffset, plane in
            let out = columns + rowOffset
            let row = out + plane.outputStart, source = image + plane.imageStart
            // The padding runs are an output row or less: `fillZero`, not
            // memset calls (1.4% of a ResNet-20 step from here); the plane's copy is long.
            fillZero(out, count: plane.outputStart)
            fillZero(row, count: plane.skipFront)
            (row + plane.skipFront).update(from: source + plane.skipFront, count: plane.copyCount)
            let copied = plane.skipFront + plane.copyCount
            fillZero(row + copied, count: plane.count - copied)
            let end = plane.outputStart + plane.count
            fillZero(out + end, count: columnCount - end)
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
    // Gathering pays on rows narrower than two vectors (ResNet/VGG at 16×16
    // down to 2×2: 1.4-3.9× in one timing of both); on 32-wide rows the
    // scatter's long runs were faster (the gather 0.8×).
    if kept == nil && g.keepsRowWidth && g.width < 2 * TileVector.scalarCount {
        return foldShiftedPlanes(columns, geometry: g, into: image, leadingDimension: leadingDimension)
    }
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

/// Sixteen consecutive pixels of a plane `width` wide (flat index
/// `start + lane`), with each lane's column x and row y, for the gathering
/// forms of im2col and col2im. Masks are integer vectors (all ones or all
/// zeros per lane), not `SIMDMask`, whose `.&` and `any` compile to per-lane loops.
private struct PixelChunk {
    typealias Lanes = SIMD16<Int32>
    private static let laneIndex = Lanes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    private let width: Int32
    private let wraps: Int
    private(set) var x: Lanes
    private(set) var y = Lanes()
    private(set) var start = 0

    init(width: Int) {
        self.width = Int32(width)
        wraps = (TileVector.scalarCount + width - 1) / width
        x = Self.laneIndex
        wrap()
    }

    mutating func advance() {
        x &+= Lanes(repeating: Int32(TileVector.scalarCount))
        start += TileVector.scalarCount
        wrap()
    }

    /// Carries x ≥ width into the next rows.
    private mutating func wrap() {
        for _ in 0..<wraps {
            let wrapped = ~((x &- width) &>> 31)
            x &-= Lanes(repeating: width) & wrapped
            y &-= wrapped
        }
    }

    /// All ones where 0 ≤ v < bound.
    @inline(__always)
    static func within(_ v: Lanes, _ bound: Int) -> Lanes { (~v & (v &- Int32(bound))) &>> 31 }

    /// `v` where `mask` is all ones, +0 elsewhere.
    @inline(__always)
    static func masked(_ v: TileVector, _ mask: Lanes) -> TileVector {
        unsafeBitCast(unsafeBitCast(v, to: Lanes.self) & mask, to: TileVector.self)
    }

    /// `p[first ..< first + 16]` where `mask` is on; a whole vector when
    /// `first ..< first + 16` lies in `readable` (lanes outside the mask are
    /// then read but dropped), else lane by lane.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ first: Int, mask: Lanes, readable: Range<Int>) -> TileVector {
        if first >= readable.lowerBound && first + TileVector.scalarCount <= readable.upperBound {
            return masked(UnsafeRawPointer(p + first).loadUnaligned(as: TileVector.self), mask)
        }
        return gatherInside(p, first: first, inside: mask)
    }

    /// Stores the first `min(16, count - start)` lanes at `p + start`.
    @inline(__always)
    func store(_ v: TileVector, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if start + TileVector.scalarCount <= count {
            UnsafeMutableRawPointer(p + start).storeBytes(of: v, as: TileVector.self)
        } else {
            for lane in 0..<(count - start) { p[start + lane] = v[lane] }
        }
    }
}

/// im2col for a `keepsRowWidth` geometry on rows narrower than a vector, gathering: entry
/// (row (c, dy, dx), output pixel i) is image pixel i + (dy − paddingY)·width
/// + (dx − paddingX) of channel c where that lies in the image, else 0; 16
/// entries per vector load, instead of a copy call per short run.
private func unfoldShiftedPlanes(_ image: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                                 into columns: UnsafeMutablePointer<Float>, leadingDimension: Int?) {
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    let w = g.width, plane = g.height * w, count = g.columnCount, oh = g.outputHeight
    for c in 0..<g.channels {
        let source = image + c * plane
        // The example's image, from this channel's start.
        let readable = (-c * plane)..<((g.channels - c) * plane)
        var row = c * g.kernelHeight * g.kernelWidth
        var chunk = PixelChunk(width: w)
        let rows = row
        while chunk.start < count {
            row = rows
            let inOutput = PixelChunk.within(chunk.y, oh)
            for dy in 0..<g.kernelHeight {
                let rowsInside = inOutput & PixelChunk.within(chunk.y &+ Int32(dy - g.paddingY), g.height)
                for dx in 0..<g.kernelWidth {
                    let inside = rowsInside & PixelChunk.within(chunk.x &+ Int32(dx - g.paddingX), w)
                    let first = chunk.start + (dy - g.paddingY) * w + (dx - g.paddingX)
                    chunk.store(PixelChunk.load(source, first, mask: inside, readable: readable), columns + row * ld,
                                count: count)
                    row += 1
                }
            }
            chunk.advance()
        }
    }
}

/// col2im for a `keepsRowWidth` geometry on narrow rows, gathering instead
/// of scattering: pixel i of a channel plane (flat, i = y·width + x) is the
/// sum over the kernel taps (dy, dx), in row order, of entry i + (paddingY −
/// dy)·width + (paddingX − dx) of row (c, dy, dx), where that entry's input
/// lies in the image. Sixteen pixels at a time are summed in a register from
/// +0 and stored once, instead of zeroing the image and adding kh·kw shifted
/// rows into it. The same additions in the same order as the scatter (a tap
/// outside the image adds +0, which changes nothing: a sum that starts at +0
/// is never −0), so the same bits.
private func foldShiftedPlanes(_ columns: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                               into image: UnsafeMutablePointer<Float>, leadingDimension: Int?) {
    let ld = leadingDimension ?? g.columnCount
    precondition(ld >= g.columnCount, "im2col/col2im: leading dimension below the column count")
    let w = g.width, plane = g.height * w, oh = g.outputHeight, ow = g.outputWidth
    // The end of the last row, from the first row's start (computed
    // properties with divisions: read once).
    let lastRowEnd = (g.columnRows - 1) * ld + g.columnCount
    for c in 0..<g.channels {
        let target = image + c * plane
        var chunk = PixelChunk(width: w)
        while chunk.start < plane {
            let inPlane = PixelChunk.within(chunk.y, g.height)
            var sum = TileVector()
            var row = c * g.kernelHeight * g.kernelWidth
            for dy in 0..<g.kernelHeight {
                let rowsInside = inPlane & PixelChunk.within(chunk.y &+ Int32(g.paddingY - dy), oh)
                for dx in 0..<g.kernelWidth {
                    let inside = rowsInside & PixelChunk.within(chunk.x &+ Int32(g.paddingX - dx), ow)
                    let first = chunk.start + (g.paddingY - dy) * w + (g.paddingX - dx)
                    // Whole vectors wherever they stay inside the matrix (lanes
                    // reading a neighbouring row are dropped).
                    sum += PixelChunk.load(columns + row * ld, first, mask: inside,
                                           readable: (-row * ld)..<(lastRowEnd - row * ld))
                    row += 1
                }
            }
            chunk.store(sum, target, count: plane)
            chunk.advance()
        }
    }
}

/// `entries[first + lane]` in the lanes whose `inside` is nonzero (0
/// elsewhere): near the ends of the matrix, where a whole vector would read
/// outside it.
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
