/// Per-channel affine normalisation of 8-bit pixels: `(p / 255 − mean) / std`.
///
/// Statistics come from the training split only, so no information from the
/// test split leaks into training.
public struct Normalization: Hashable, Sendable, Codable {
    /// Per-channel mean of `pixel / 255`.
    public var mean: [Float]
    /// Per-channel (population) standard deviation of `pixel / 255`.
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "mean and std must have one entry per channel")
        self.mean = mean
        self.std = std
    }

    /// Computes per-channel mean and standard deviation over every pixel of
    /// `dataset`. Uses exact integer histograms, so the result does not
    /// depend on summation order and is identical on every machine.
    public init(computedFrom dataset: Dataset) {
        let channels = dataset.shape.channels
        let plane = dataset.shape.height * dataset.shape.width
        var histograms = [[Int]](repeating: [Int](repeating: 0, count: 256), count: channels)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            for example in 0..<dataset.count {
                for channel in 0..<channels {
                    let start = (example * channels + channel) * plane
                    histograms[channel].withUnsafeMutableBufferPointer { histogram in
                        for offset in start..<(start + plane) {
                            histogram[Int(pixels[offset])] += 1
                        }
                    }
                }
            }
        }
        var means = [Float](), stds = [Float]()
        for histogram in histograms {
            var total = 0, sum = 0, sumSquares = 0
            for (value, count) in histogram.enumerated() {
                total += count
                sum += value * count
                sumSquares += value * value * count
            }
            let n = Double(max(total, 1))
            let mean = Double(sum) / n
            let variance = max(Double(sumSquares) / n - mean * mean, 0)
            means.append(Float(mean / 255))
            // A constant channel would divide by zero; leave it unscaled.
            stds.append(variance > 0 ? Float(variance.squareRoot() / 255) : 1)
        }
        self.init(mean: means, std: stds)
    }

    /// Identity-like scaling to `[0, 1]` for `channels` channels.
    public static func unitInterval(channels: Int) -> Normalization {
        Normalization(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    /// Entries of a channel's lookup table: one per byte value.
    static let tableSize = 256

    /// A `tableSize`-entry lookup table per channel, back to back:
    /// normalising a batch is then one table load per pixel, with no
    /// arithmetic in the loop.
    func lookupTables() -> [Float] {
        zip(mean, std).flatMap { mean, std in
            (0..<Self.tableSize).map { (Float($0) / 255 - mean) / std }
        }
    }
}
