import XCTest
@testable import Datasets

final class IDXTests: XCTestCase {
    func testRawAndGzipImagesDecodeToTheSameBytes() throws {
        let fixtures = FixtureDirectory()
        let bytes = idxImages(count: 3, rows: 2, columns: 3)
        let raw = fixtures.write("images", bytes)
        let gz = fixtures.write("images.gz", gzipped(bytes))
        let fromRaw = try IDX.readImages(raw), fromGz = try IDX.readImages(gz)
        XCTAssertEqual(fromRaw.count, 3)
        XCTAssertEqual(fromRaw.rows, 2)
        XCTAssertEqual(fromRaw.columns, 3)
        XCTAssertEqual(fromRaw.pixels, Array(bytes[16...]))
        XCTAssertEqual(fromGz.pixels, fromRaw.pixels)
    }

    func testMultiMemberGzipIsReadLikeGzip() throws {
        let fixtures = FixtureDirectory()
        let bytes = idxLabels([1, 2, 3, 4, 5])
        let path = fixtures.write("labels.gz", gzipped(Array(bytes[0..<6])) + gzipped(Array(bytes[6...])))
        XCTAssertEqual(try IDX.readLabels(path), [1, 2, 3, 4, 5])
    }

    func testSplitLoadsMatchingImagesAndLabels() throws {
        let fixtures = FixtureDirectory()
        let images = fixtures.write("i.gz", gzipped(idxImages(count: 4, rows: 2, columns: 2)))
        let labels = fixtures.write("l.gz", gzipped(idxLabels([0, 9, 3, 3])))
        let dataset = try loadIDXSplit(images: images, labels: labels, name: "t", split: .train, classCount: 10)
        XCTAssertEqual(dataset.count, 4)
        XCTAssertEqual(dataset.shape, ImageShape(height: 2, width: 2, channels: 1))
        XCTAssertEqual(dataset.classCounts, [1, 0, 0, 2, 0, 0, 0, 0, 0, 1])
    }

    func testWrongMagicIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("bad", idxImages(count: 1, rows: 1, columns: 1, magic: 0x1234_5678))
        guard case .wrongMagic(let found, _)? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected wrongMagic")
        }
        XCTAssertEqual(found, 0x1234_5678)
    }

    func testLabelsFileGivenAsImagesIsNamedAsSuch() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("labels", idxLabels([1, 2]))
        guard case .badHeader(let why)? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected badHeader")
        }
        XCTAssertTrue(why.contains("labels"), why)
    }

    func testEmptyFileIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("empty.gz", [])
        XCTAssertEqual(expectDatasetError(path) { _ = try IDX.readImages(path) }, .empty)
    }

    func testHeaderShorterThanItsLengthIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("short", Array(idxImages(count: 1, rows: 1, columns: 1)[0..<10]))
        guard case .badHeader? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected badHeader")
        }
    }

    func testRawFileWhoseHeaderDisagreesWithItsSizeIsRejectedBeforeReading() {
        let fixtures = FixtureDirectory()
        var bytes = idxImages(count: 5, rows: 2, columns: 2)
        bytes.removeLast(3)
        let short = fixtures.write("short", bytes)
        guard case .sizeMismatch? = expectDatasetError(short, { _ = try IDX.readImages(short) }) else {
            return XCTFail("expected sizeMismatch")
        }
        let long = fixtures.write("long", idxImages(count: 5, rows: 2, columns: 2) + [1, 2])
        guard case .sizeMismatch? = expectDatasetError(long, { _ = try IDX.readImages(long) }) else {
            return XCTFail("expected sizeMismatch")
        }
    }

    func testGzipPayloadShorterOrLongerThanTheHeaderIsRejected() {
        let fixtures = FixtureDirectory()
        var short = idxImages(count: 5, rows: 2, columns: 2)
        short.removeLast(3)
        let shortPath = fixtures.write("short.gz", gzipped(short))
        XCTAssertEqual(expectDatasetError(shortPath) { _ = try IDX.readImages(shortPath) },
                       .truncated(expectedBytes: 20, actualBytes: 17))
        let longPath = fixtures.write("long.gz", gzipped(idxImages(count: 5, rows: 2, columns: 2) + [1, 2]))
        XCTAssertEqual(expectDatasetError(longPath) { _ = try IDX.readImages(longPath) }, .trailingData(extraBytes: 2))
    }

    func testTruncatedGzipIsRejected() {
        let fixtures = FixtureDirectory()
        let full = gzipped(idxImages(count: 50, rows: 8, columns: 8))
        let path = fixtures.write("cut.gz", Array(full[0..<(full.count / 2)]))
        guard case .corruptGzip? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected corruptGzip")
        }
    }

    func testCorruptGzipIsRejected() {
        let fixtures = FixtureDirectory()
        var bytes = gzipped(idxImages(count: 50, rows: 8, columns: 8))
        // Damage the second half of the deflate stream, past the IDX header:
        // inflate fails or the CRC catches it; never silently wrong pixels.
        for i in stride(from: bytes.count / 2, to: bytes.count - 8, by: 7) { bytes[i] ^= 0x5A }
        let path = fixtures.write("corrupt.gz", bytes)
        let reason = expectDatasetError(path) { _ = try IDX.readImages(path) }
        guard case .corruptGzip? = reason else { return XCTFail("expected corruptGzip, got \(String(describing: reason))") }
        // Damage anywhere (the header included) still gives an error, not a crash.
        var everywhere = gzipped(idxImages(count: 50, rows: 8, columns: 8))
        for i in stride(from: 12, to: everywhere.count - 8, by: 5) { everywhere[i] ^= 0xA5 }
        let anywhere = fixtures.write("anywhere.gz", everywhere)
        XCTAssertNotNil(expectDatasetError(anywhere) { _ = try IDX.readImages(anywhere) })
        var crcOnly = gzipped(idxImages(count: 50, rows: 8, columns: 8))
        crcOnly[crcOnly.count - 6] ^= 0xFF
        let crcPath = fixtures.write("crc.gz", crcOnly)
        guard case .corruptGzip(let why)? = expectDatasetError(crcPath, { _ = try IDX.readImages(crcPath) }) else {
            return XCTFail("expected corruptGzip")
        }
        XCTAssertTrue(why.contains("check"), why)
    }

    func testGarbageAfterTheGzipStreamIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("junk.gz", gzipped(idxLabels([1, 2])) + [0x00, 0x11])
        guard case .corruptGzip? = expectDatasetError(path, { _ = try IDX.readLabels(path) }) else {
            return XCTFail("expected corruptGzip")
        }
    }

    func testDimensionsWhoseProductOverflowsAreRejectedBeforeAllocating() {
        let fixtures = FixtureDirectory()
        let header = bigEndian(2051) + bigEndian(.max) + bigEndian(.max) + bigEndian(.max)
        let path = fixtures.write("huge", header + [0])
        guard case .tooLarge? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected tooLarge")
        }
    }

    func testAbsurdButRepresentableSizeIsRejectedBeforeAllocating() {
        let fixtures = FixtureDirectory()
        // 2^31 bytes claimed by a few-byte gzip: deflate cannot expand that far.
        let header = bigEndian(2051) + bigEndian(1 << 21) + bigEndian(32) + bigEndian(32)
        let path = fixtures.write("liar.gz", gzipped(header + [1, 2, 3]))
        guard case .sizeMismatch(let why)? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected sizeMismatch")
        }
        XCTAssertTrue(why.contains("gzip"), why)
        let tooLarge = bigEndian(2051) + bigEndian(1 << 30) + bigEndian(64) + bigEndian(64)
        let bigPath = fixtures.write("big", tooLarge)
        guard case .tooLarge? = expectDatasetError(bigPath, { _ = try IDX.readImages(bigPath) }) else {
            return XCTFail("expected tooLarge")
        }
    }

    func testLabelCountDifferentFromImageCountIsRejected() {
        let fixtures = FixtureDirectory()
        let images = fixtures.write("i", idxImages(count: 3, rows: 1, columns: 1))
        let labels = fixtures.write("l", idxLabels([1, 2]))
        XCTAssertEqual(expectDatasetError(labels) {
            _ = try loadIDXSplit(images: images, labels: labels, name: "t", split: .train, classCount: 10)
        }, .countMismatch(images: 3, labels: 2))
    }

    func testLabelOutsideTheClassRangeIsRejected() {
        let fixtures = FixtureDirectory()
        let images = fixtures.write("i", idxImages(count: 3, rows: 1, columns: 1))
        let labels = fixtures.write("l", idxLabels([1, 10, 2]))
        XCTAssertEqual(expectDatasetError(labels) {
            _ = try loadIDXSplit(images: images, labels: labels, name: "t", split: .train, classCount: 10)
        }, .labelOutOfRange(index: 1, label: 10, classCount: 10))
    }

    func testDirectoryWithoutTheExpectedFilesIsRejected() {
        let fixtures = FixtureDirectory()
        fixtures.write("train-images-idx3-ubyte.gz", gzipped(idxImages(count: 1, rows: 1, columns: 1)))
        guard case .missingFiles(let names)? = expectDatasetError(fixtures.path, {
            _ = try loadDataset(named: "mnist", in: fixtures.path)
        }) else { return XCTFail("expected missingFiles") }
        XCTAssertEqual(names, ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
    }

    /// `ticket data info DIR` on a directory of unknown name with the
    /// training split present and the test split missing names exactly the
    /// missing files (it used to say "IDX files (...), CIFAR .bin batches or ...").
    func testInspectingADirectoryWithOneSplitNamesTheMissingFiles() {
        let fixtures = FixtureDirectory()
        fixtures.write("train-images-idx3-ubyte.gz", gzipped(idxImages(count: 1, rows: 1, columns: 1)))
        fixtures.write("train-labels-idx1-ubyte.gz", gzipped(idxLabels([1])))
        guard case .missingFiles(let names)? = expectDatasetError(fixtures.path, { _ = try loadAnyDataset(at: fixtures.path) })
        else { return XCTFail("expected missingFiles") }
        XCTAssertEqual(names, ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
    }

    func testInspectingCIFARBatchesWithoutTheTestBatchNamesIt() {
        let fixtures = FixtureDirectory()
        fixtures.write("data_batch_1.bin", cifar10Records([1, 2]))
        guard case .missingFiles(let names)? = expectDatasetError(fixtures.path, { _ = try loadAnyDataset(at: fixtures.path) })
        else { return XCTFail("expected missingFiles") }
        XCTAssertEqual(names, ["test_batch.bin"])
    }

    func testMissingFileAndDirectoryAreRejected() {
        let path = "/nonexistent/ticketbench/file.gz"
        guard case .cannotOpen? = expectDatasetError(path, { _ = try IDX.readImages(path) }) else {
            return XCTFail("expected cannotOpen")
        }
        let fixtures = FixtureDirectory()
        guard case .cannotOpen? = expectDatasetError(fixtures.path, { _ = try IDX.readImages(fixtures.path) }) else {
            return XCTFail("expected cannotOpen for a directory")
        }
    }
}
