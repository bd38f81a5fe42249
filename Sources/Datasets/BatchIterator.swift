import Randomness

/// A minibatch in the layout the networks consume: `count × C × H × W`
/// normalised floats and integer labels. Buffers are sized once for the
/// largest batch and reused, so iterating allocates nothing per batch.
public struct Batch {
    /// `capacity × shape.pixelCount` floats; the first `count` examples are valid.
    public internal(set) var inputs: [Float]
    /// `capacity` labels; the first `count` are valid.
    public internal(set) var labels: [Int32]
    /// Dataset indices of the examples in this batch (for per-example bookkeeping).
    public internal(set) var indices: [Int]
    /// Number of valid examples (the last batch of an epoch may be short).
    public internal(set) var count: Int
    public let shape: ImageShape
    public let capacity: Int

    public init(capacity: Int, shape: ImageShape) {
        precondition(capacity > 0, "batch capacity must be positive")
        self.capacity = capacity
        self.shape = shape
        inputs = [Float](repeating: 0, count: capacity * shape.pixelCount)
        labels = [Int32](repeating: 0, count: capacity)
        indices = [Int](repeating: 0, count: capacity)
        count = 0
    }
}

/// Iterates over a data set in minibatches, in an order fixed by a seed.
///
/// Epoch `e` visits the examples in the permutation drawn from
/// `SeededGenerator(seed: seed, stream: e)`, so the order of any epoch is
/// reproducible on its own (a resumed run sees the same batches) and does
/// not depend on how many batches earlier epochs consumed.
///
/// ```swift
/// var iterator = BatchIterator(dataset: train, batchSize: 60, normalization: norm, seed: 1)
/// var batch = Batch(capacity: 60, shape: train.shape)
/// iterator.startEpoch(0)
/// while iterator.next(into: &batch) { /* train on batch */ }
/// ```
public struct BatchIterator {
    public let dataset: Dataset
    public let batchSize: Int
    public let seed: UInt64
    public let shuffles: Bool
    /// Whether a final short batch is skipped.
    public let dropsLast: Bool
    /// `Normalization.lookupTables()`: one table per channel, back to back.
    private let tables: [Float]
    private var order: [Int]
    private var position = 0
    public private(set) var epoch = 0

    public init(dataset: Dataset, batchSize: Int, normalization: Normalization, seed: UInt64,
                shuffles: Bool = true, dropsLast: Bool = false) {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(normalization.mean.count == dataset.shape.channels,
                     "normalisation has \(normalization.mean.count) channels, data set has \(dataset.shape.channels)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.shuffles = shuffles
        self.dropsLast = dropsLast
        self.tables = normalization.lookupTables()
        self.order = Array(0..<dataset.count)
        startEpoch(0)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int {
        dropsLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Rewinds to the start of `epoch`, with that epoch's order.
    public mutating func startEpoch(_ epoch: Int) {
        self.epoch = epoch
        position = 0
        for i in order.indices { order[i] = i }
        if shuffles {
            var generator = SeededGenerator(seed: seed, stream: UInt64(epoch))
            order.seededShuffle(using: &generator)
        }
    }

    /// Skips `batches` batches of the current epoch (to resume mid-epoch).
    public mutating func skip(batches: Int) {
        position = min(dataset.count, position + batches * batchSize)
    }

    /// Fills `batch` with the next minibatch; returns `false` at the end of the epoch.
    ///
    /// `fill` normalises the examples: by default on the calling thread; a
    /// caller with idle threads can split it (`BatchFill.fill(part:of:)`),
    /// which gives the same floats however it is split.
    public mutating func next(into batch: inout Batch,
                              fill: (BatchFill) -> Void = { $0.fill(part: 0, of: 1) }) -> Bool {
        precondition(batch.capacity >= batchSize && batch.shape == dataset.shape,
                     "batch buffer too small or of another shape")
        let remaining = dataset.count - position
        guard remaining > 0, !(dropsLast && remaining < batchSize) else { return false }
        let n = min(batchSize, remaining)
        let shape = dataset.shape
        dataset.pixels.withUnsafeBufferPointer { pixels in
            batch.inputs.withUnsafeMutableBufferPointer { inputs in
                order.withUnsafeBufferPointer { order in
                    tables.withUnsafeBufferPointer { tables in
                        fill(BatchFill(pixels: pixels.baseAddress!, order: order.baseAddress! + position,
                                       tables: tables.baseAddress!, destination: inputs.baseAddress!, count: n,
                                       plane: shape.height * shape.width, channels: shape.channels))
                    }
                }
            }
        }
        for slot in 0..<n {
            let index = order[position + slot]
            batch.labels[slot] = Int32(dataset.labels[index])
            batch.indices[slot] = index
        }
        batch.count = n
        position += n
        return true
    }
}

/// The normalisation of one minibatch's examples, valid only inside the
/// `fill` closure of `BatchIterator.next(into:fill:)`. Each example is
/// written by exactly one part, whatever the split.
public struct BatchFill: @unchecked Sendable {
    fileprivate let pixels: UnsafePointer<UInt8>
    /// The batch's dataset indices, `count` of them.
    fileprivate let order: UnsafePointer<Int>
    /// `Normalization.lookupTables()`: one table per channel, back to back.
    fileprivate let tables: UnsafePointer<Float>
    fileprivate let destination: UnsafeMutablePointer<Float>
    /// Examples in the batch.
    public let count: Int
    fileprivate let plane: Int, channels: Int

    /// Floats the batch holds (`count` examples of every channel's plane).
    public var floatCount: Int { count * plane * channels }

    /// Normalises examples `part · count / parts ..< (part + 1) · count / parts`.
    public func fill(part: Int, of parts: Int) {
        let pixelCount = plane * channels
        for slot in (part * count / parts)..<((part + 1) * count / parts) {
            let source = pixels + order[slot] * pixelCount
            let target = destination + slot * pixelCount
            for channel in 0..<channels {
                normalize(source + channel * plane, count: plane, table: tables + channel * Normalization.tableSize,
                          into: target + channel * plane)
            }
        }
    }
}

/// `y[i] = table[x[i]]`, eight bytes per load: the batch fill runs beside
/// every training step; twice as fast as byte-by-byte indexing.
@inline(__always)
private func normalize(_ x: UnsafePointer<UInt8>, count: Int, table: UnsafePointer<Float>,
                       into y: UnsafeMutablePointer<Float>) {
    var i = 0
    while i &+ 8 <= count {
        let bytes = UnsafeRawPointer(x + i).loadUnaligned(as: UInt64.self)
        for lane in 0..<8 {
            y[i &+ lane] = table[Int(truncatingIfNeeded: (bytes &>> UInt64(8 &* lane)) & 0xff)]
        }
        i &+= 8
    }
    while i < count {
        y[i] = table[Int(x[i])]
        i &+= 1
    }
}
