import XCTest
@testable import Datasets

final class BatchIteratorTests: XCTestCase {
    /// 10 one-pixel examples whose pixel value encodes the example index.
    private func indexedDataset(count: Int = 10, channels: Int = 1) -> Dataset {
        let shape = ImageShape(height: 1, width: 1, channels: channels)
        let pixels = (0..<count).flatMap { i in (0..<channels).map { c in UInt8(i * 10 + c) } }
        return Dataset(name: "toy", split: .train, shape: shape, classCount: 10,
                       pixels: pixels, labels: (0..<count).map { UInt8($0 % 10) })
    }

    private func epochOrder(_ iterator: inout BatchIterator, epoch: Int) -> [Int] {
        var batch = Batch(capacity: iterator.batchSize, shape: iterator.dataset.shape)
        iterator.startEpoch(epoch)
        var order: [Int] = []
        while iterator.next(into: &batch) { order += batch.indices[0..<batch.count] }
        return order
    }

    func testSameSeedGivesSameOrderAndEveryExampleOncePerEpoch() {
        let data = indexedDataset()
        var a = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 42)
        var b = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 42)
        let first = epochOrder(&a, epoch: 0)
        XCTAssertEqual(first, epochOrder(&b, epoch: 0))
        XCTAssertEqual(first.sorted(), Array(0..<10))
        XCTAssertNotEqual(first, epochOrder(&a, epoch: 1), "epochs should reshuffle")
        var c = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 43)
        XCTAssertNotEqual(first, epochOrder(&c, epoch: 0), "seeds should differ")
    }

    func testAnEpochsOrderDoesNotDependOnEarlierEpochs() {
        let data = indexedDataset()
        var fresh = BatchIterator(dataset: data, batchSize: 4, normalization: .unitInterval(channels: 1), seed: 7)
        var used = BatchIterator(dataset: data, batchSize: 4, normalization: .unitInterval(channels: 1), seed: 7)
        _ = epochOrder(&used, epoch: 0)
        _ = epochOrder(&used, epoch: 1)
        XCTAssertEqual(epochOrder(&fresh, epoch: 2), epochOrder(&used, epoch: 2))
    }

    func testSkipResumesMidEpoch() {
        let data = indexedDataset()
        var full = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 5)
        let order = epochOrder(&full, epoch: 1)
        var resumed = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 5)
        resumed.startEpoch(1)
        resumed.skip(batches: 2)
        var batch = Batch(capacity: 3, shape: data.shape)
        var rest: [Int] = []
        while resumed.next(into: &batch) { rest += batch.indices[0..<batch.count] }
        XCTAssertEqual(rest, Array(order[6...]))
    }

    func testLastShortBatchAndDropLast() {
        let data = indexedDataset()
        var keep = BatchIterator(dataset: data, batchSize: 4, normalization: .unitInterval(channels: 1), seed: 1)
        var batch = Batch(capacity: 4, shape: data.shape)
        var sizes: [Int] = []
        while keep.next(into: &batch) { sizes.append(batch.count) }
        XCTAssertEqual(sizes, [4, 4, 2])
        XCTAssertEqual(keep.batchesPerEpoch, 3)
        var drop = BatchIterator(dataset: data, batchSize: 4, normalization: .unitInterval(channels: 1), seed: 1, dropsLast: true)
        sizes = []
        while drop.next(into: &batch) { sizes.append(batch.count) }
        XCTAssertEqual(sizes, [4, 4])
    }

    func testInputsAreNormalisedPerChannelAndLabelsFollowTheirExamples() {
        let data = indexedDataset(count: 4, channels: 2)
        let norm = Normalization(mean: [0.1, 0.2], std: [0.5, 0.25])
        var iterator = BatchIterator(dataset: data, batchSize: 4, normalization: norm, seed: 3)
        var batch = Batch(capacity: 4, shape: data.shape)
        XCTAssertTrue(iterator.next(into: &batch))
        for slot in 0..<4 {
            let index = batch.indices[slot]
            XCTAssertEqual(batch.labels[slot], Int32(data.labels[index]))
            for c in 0..<2 {
                let pixel = Float(index * 10 + c)
                XCTAssertEqual(batch.inputs[slot * 2 + c], (pixel / 255 - norm.mean[c]) / norm.std[c], accuracy: 1e-6)
            }
        }
    }

    /// Planes of 5 × 5 (three 8-byte loads and a tail) in 3 channels, pixel
    /// values covering all 256 bytes: each input is its channel's formula, bit for bit.
    func testEveryByteOfWholePlanesIsNormalisedExactly() {
        let shape = ImageShape(height: 5, width: 5, channels: 3)
        let count = 12
        let pixels = (0..<count * shape.pixelCount).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let data = Dataset(name: "toy", split: .train, shape: shape, classCount: 10,
                           pixels: pixels, labels: (0..<count).map { UInt8($0 % 10) })
        let norm = Normalization(mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 0.7])
        var iterator = BatchIterator(dataset: data, batchSize: 5, normalization: norm, seed: 4)
        var batch = Batch(capacity: 5, shape: shape)
        var seen = 0
        while iterator.next(into: &batch) {
            for slot in 0..<batch.count {
                let index = batch.indices[slot]
                for c in 0..<3 {
                    for p in 0..<25 {
                        let pixel = Float(pixels[index * 75 + c * 25 + p])
                        let expected = (pixel / 255 - norm.mean[c]) / norm.std[c]
                        XCTAssertEqual(batch.inputs[slot * 75 + c * 25 + p].bitPattern, expected.bitPattern)
                    }
                }
            }
            seen += batch.count
        }
        XCTAssertEqual(seen, count)
    }

    /// A fill split into parts (run in reverse, as threads may) writes every
    /// example exactly as the one-part fill does, including splits into
    /// more parts than examples; a part left out would leave NaN behind.
    func testAFillSplitIntoPartsGivesTheOnePartFloats() {
        let shape = ImageShape(height: 3, width: 5, channels: 2)
        let count = 11
        let pixels = (0..<count * shape.pixelCount).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let data = Dataset(name: "toy", split: .train, shape: shape, classCount: 10,
                           pixels: pixels, labels: (0..<count).map { UInt8($0 % 10) })
        let norm = Normalization(mean: [0.3, 0.6], std: [0.2, 0.9])
        var reference = BatchIterator(dataset: data, batchSize: 4, normalization: norm, seed: 2)
        var expected = Batch(capacity: 4, shape: shape)
        for parts in [1, 2, 3, 4, 9] {
            var iterator = BatchIterator(dataset: data, batchSize: 4, normalization: norm, seed: 2)
            reference.startEpoch(0)
            var batch = Batch(capacity: 4, shape: shape)
            var batches = 0
            while reference.next(into: &expected) {
                batch.inputs = [Float](repeating: .nan, count: batch.inputs.count)
                XCTAssertTrue(iterator.next(into: &batch) { fill in
                    for part in (0..<parts).reversed() { fill.fill(part: part, of: parts) }
                })
                XCTAssertEqual(batch.count, expected.count)
                XCTAssertEqual(batch.indices, expected.indices)
                XCTAssertEqual(batch.labels, expected.labels)
                let valid = expected.count * shape.pixelCount
                XCTAssertEqual(batch.inputs[..<valid].map(\.bitPattern), expected.inputs[..<valid].map(\.bitPattern),
                               "\(parts) parts, batch \(batches)")
                batches += 1
            }
            XCTAssertEqual(batches, 3)
            XCTAssertFalse(iterator.next(into: &batch))
        }
    }

    func testIterationReusesTheBatchBuffers() {
        let data = indexedDataset()
        var iterator = BatchIterator(dataset: data, batchSize: 3, normalization: .unitInterval(channels: 1), seed: 9)
        var batch = Batch(capacity: 3, shape: data.shape)
        let before = batch.inputs.withUnsafeBufferPointer { $0.baseAddress }
        let labelsBefore = batch.labels.withUnsafeBufferPointer { $0.baseAddress }
        while iterator.next(into: &batch) {}
        XCTAssertEqual(before, batch.inputs.withUnsafeBufferPointer { $0.baseAddress })
        XCTAssertEqual(labelsBefore, batch.labels.withUnsafeBufferPointer { $0.baseAddress })
    }

    func testNormalizationStatisticsMatchADirectComputation() {
        let shape = ImageShape(height: 2, width: 1, channels: 2)
        // Two examples, planar: [c0p0, c0p1, c1p0, c1p1].
        let data = Dataset(name: "t", split: .train, shape: shape, classCount: 2,
                           pixels: [0, 255, 10, 10, 255, 255, 20, 20], labels: [0, 1])
        let stats = Normalization(computedFrom: data)
        XCTAssertEqual(stats.mean[0], 0.75, accuracy: 1e-6)
        XCTAssertEqual(stats.std[0], Float((0.1875).squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(stats.mean[1], 15.0 / 255, accuracy: 1e-6)
        XCTAssertEqual(stats.std[1], 5.0 / 255, accuracy: 1e-6)
    }
}
