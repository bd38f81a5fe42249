/// The spatial shape of one example.
public struct ImageShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Values per example: `height × width × channels`.
    public var pixelCount: Int { height * width * channels }

    /// `HxWxC`, as printed by `ticket data info`.
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// Which part of a data set: the one statistics are computed on, or the held-out one.
public enum Split: String, Sendable, Codable, CaseIterable {
    case train
    case test
}

/// One split of an image-classification data set, as stored: 8-bit pixels
/// and labels.
///
/// Pixels are channel-planar per example (`C × H × W`, row-major within a
/// plane), which is the order CIFAR stores and the order the convolution
/// kernels consume; for one-channel data (MNIST) that is plain row-major.
public struct Dataset: Sendable {
    /// Data-set name, e.g. `mnist`, `cifar-10`.
    public var name: String
    public var split: Split
    public var shape: ImageShape
    public var classCount: Int
    /// `count × shape.pixelCount` bytes.
    public var pixels: [UInt8]
    /// `count` labels, each in `0..<classCount`.
    public var labels: [UInt8]
    /// Human-readable class names when the source provides them.
    public var classNames: [String]?
    /// Set when only part of the official split was found (e.g. one of
    /// CIFAR-10's five training batches): the harness records it next to
    /// every result trained on this split.
    public var partialNote: String?

    public init(name: String, split: Split, shape: ImageShape, classCount: Int,
                pixels: [UInt8], labels: [UInt8], classNames: [String]? = nil,
                partialNote: String? = nil) {
        precondition(pixels.count == labels.count * shape.pixelCount, "pixel buffer does not match labels × shape")
        self.name = name
        self.split = split
        self.shape = shape
        self.classCount = classCount
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
        self.partialNote = partialNote
    }

    /// Number of examples.
    public var count: Int { labels.count }

    /// Examples per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The first `n` examples (or all, if fewer): for quick runs and tests.
    public func prefix(_ n: Int) -> Dataset {
        let kept = min(max(n, 0), count)
        return Dataset(name: name, split: split, shape: shape, classCount: classCount,
                       pixels: Array(pixels[0..<(kept * shape.pixelCount)]),
                       labels: Array(labels[0..<kept]), classNames: classNames,
                       partialNote: partialNote)
    }
}

/// Training and test splits of one data set.
public struct DatasetPair: Sendable {
    public var train: Dataset
    public var test: Dataset

    public init(train: Dataset, test: Dataset) {
        self.train = train
        self.test = test
    }
}
