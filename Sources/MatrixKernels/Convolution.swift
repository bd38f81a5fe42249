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
/// row-major), so a convolution becomes `output = weights · columns` with
/// weights `filters × columnRows`. Padding reads as zero.
///
/// Row `(c·kh + dy)·kw + dx`, column `oy·outputWidth + ox` holds
/// `image[c, oy·strideY − paddingY + dy, ox·strideX − paddingX + dx]`.
public func im2col(_ image: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into columns: UnsafeMutablePointer<Float>) {
    let oh = g.outputHeight, ow = g.outputWidth
    var out = columns
    for channel in 0..<g.channels {
        let plane = image + channel * g.height * g.width
        for dy in 0..<g.kernelHeight {
            for dx in 0..<g.kernelWidth {
                for oy in 0..<oh {
                    let y = oy * g.strideY - g.paddingY + dy
                    if y < 0 || y >= g.height {
                        out.update(repeating: 0, count: ow)
                    } else {
                        let row = plane + y * g.width
                        let x0 = dx - g.paddingX
                        for ox in 0..<ow {
                            let x = x0 + ox * g.strideX
                            out[ox] = x >= 0 && x < g.width ? row[x] : 0
                        }
                    }
                    out += ow
                }
            }
        }
    }
}

/// Folds a column matrix back into a CHW image: the adjoint of `im2col`.
///
/// `image` is overwritten with the sum, over every column-matrix entry, of
/// that entry at the pixel it was read from (entries from padding are
/// dropped). This is the input gradient of a convolution, given
/// `columns = weightsᵀ · outputGradient`.
public func col2im(_ columns: UnsafePointer<Float>, geometry g: ConvolutionGeometry,
                   into image: UnsafeMutablePointer<Float>) {
    let oh = g.outputHeight, ow = g.outputWidth
    image.update(repeating: 0, count: g.channels * g.height * g.width)
    var source = columns
    for channel in 0..<g.channels {
        let plane = image + channel * g.height * g.width
        for dy in 0..<g.kernelHeight {
            for dx in 0..<g.kernelWidth {
                for oy in 0..<oh {
                    let y = oy * g.strideY - g.paddingY + dy
                    if y >= 0 && y < g.height {
                        let row = plane + y * g.width
                        let x0 = dx - g.paddingX
                        for ox in 0..<ow {
                            let x = x0 + ox * g.strideX
                            if x >= 0 && x < g.width { row[x] += source[ox] }
                        }
                    }
                    source += ow
                }
            }
        }
    }
}
