import XCTest
@testable import Datasets

final class CIFARTests: XCTestCase {
    func testRecordsSplitIntoLabelsAndPlanarPixels() throws {
        let fixtures = FixtureDirectory()
        let bytes = cifar10Records([6, 9, 4])
        let path = fixtures.write("data_batch_1.bin", bytes)
        let records = try CIFAR.readRecords(path, variant: .cifar10)
        XCTAssertEqual(records.labels, [6, 9, 4])
        XCTAssertEqual(records.pixels.count, 3 * 3072)
        XCTAssertEqual(Array(records.pixels[3072..<3080]), Array(bytes[3074..<3082]))
        let gz = fixtures.write("b.bin.gz", gzipped(bytes))
        XCTAssertEqual(try CIFAR.readRecords(gz, variant: .cifar10).pixels, records.pixels)
    }

    func testCIFAR100UsesTheFineLabelAndChecksTheCoarseOne() throws {
        let fixtures = FixtureDirectory()
        var bytes: [UInt8] = []
        for (coarse, fine) in [(3, 77), (19, 99)] as [(UInt8, UInt8)] {
            bytes += [coarse, fine] + [UInt8](repeating: 5, count: 3072)
        }
        let path = fixtures.write("train.bin", bytes)
        XCTAssertEqual(try CIFAR.readRecords(path, variant: .cifar100).labels, [77, 99])
        bytes[3074] = 20
        let bad = fixtures.write("bad.bin", bytes)
        XCTAssertEqual(expectDatasetError(bad) { _ = try CIFAR.readRecords(bad, variant: .cifar100) },
                       .labelOutOfRange(index: 1, label: 20, classCount: 20))
    }

    func testPartialRecordIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("cut.bin", Array(cifar10Records([1, 2]).dropLast(10)))
        guard case .sizeMismatch? = expectDatasetError(path, { _ = try CIFAR.readRecords(path, variant: .cifar10) }) else {
            return XCTFail("expected sizeMismatch")
        }
        let gz = fixtures.write("cut.bin.gz", gzipped(Array(cifar10Records([1, 2]).dropLast(10))))
        guard case .sizeMismatch? = expectDatasetError(gz, { _ = try CIFAR.readRecords(gz, variant: .cifar10) }) else {
            return XCTFail("expected sizeMismatch")
        }
    }

    func testLabelOutOfRangeIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("bad.bin", cifar10Records([1, 2, 10]))
        XCTAssertEqual(expectDatasetError(path) { _ = try CIFAR.readRecords(path, variant: .cifar10) },
                       .labelOutOfRange(index: 2, label: 10, classCount: 10))
    }

    func testEmptyFileIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("empty.bin", [])
        XCTAssertEqual(expectDatasetError(path) { _ = try CIFAR.readRecords(path, variant: .cifar10) }, .empty)
    }

    func testDirectoryWithSomeTrainingBatchesLoadsWithAPartialNote() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("cifar-10-batches-bin/data_batch_1.bin", cifar10Records([0, 1]))
        fixtures.write("cifar-10-batches-bin/data_batch_2.bin", cifar10Records([2]))
        fixtures.write("cifar-10-batches-bin/test_batch.bin", cifar10Records([3, 8]))
        let pair = try loadDataset(named: "cifar-10", in: fixtures.path)
        XCTAssertEqual(pair.train.labels, [0, 1, 2])
        XCTAssertEqual(pair.test.labels, [3, 8])
        XCTAssertEqual(pair.train.classNames?[3], "cat")
        let note = try XCTUnwrap(pair.train.partialNote)
        XCTAssertTrue(note.contains("2 of 5"), note)
        XCTAssertNil(pair.test.partialNote)
    }
}

final class TarTests: XCTestCase {
    func testOfficialLayoutArchiveIsReadInOnePass() throws {
        let fixtures = FixtureDirectory()
        let archive = tarArchive([
            ("cifar-10-batches-bin/", []),
            ("cifar-10-batches-bin/readme.html", Array("hello".utf8)),
            ("cifar-10-batches-bin/data_batch_2.bin", cifar10Records([2, 2])),
            ("cifar-10-batches-bin/data_batch_1.bin", cifar10Records([1])),
            ("cifar-10-batches-bin/test_batch.bin", cifar10Records([3, 8, 8])),
        ])
        let path = fixtures.write("cifar-10-binary.tar.gz", gzipped(archive))
        let pair = try loadCIFARArchive(path, variant: .cifar10)
        // Batches are joined in numeric order, whatever their order in the archive.
        XCTAssertEqual(pair.train.labels, [1, 2, 2])
        XCTAssertEqual(pair.test.labels, [3, 8, 8])
        XCTAssertNotNil(pair.train.partialNote)
        XCTAssertEqual(Array(pair.train.pixels[0..<3072]), Array(cifar10Records([1])[1...]))
    }

    func testEntryNamesAndSizesAreReported() throws {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("a.tar", tarArchive([("x/one", [1, 2, 3]), ("two", [UInt8](repeating: 9, count: 700))]))
        var seen: [String: Int] = [:]
        try TarReader(source: FileSource(path: path)).forEachEntry { entry in
            seen[entry.name] = entry.size
            return .skipped
        }
        XCTAssertEqual(seen, ["x/one": 3, "two": 700])
    }

    func testBadHeaderChecksumIsRejected() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("bad.tar.gz", gzipped(tarArchive([("test_batch.bin", cifar10Records([1]))], corruptChecksumOf: "test_batch.bin")))
        guard case .corruptTar(let why)? = expectDatasetError(path, { _ = try loadCIFARArchive(path, variant: .cifar10) }) else {
            return XCTFail("expected corruptTar")
        }
        XCTAssertTrue(why.contains("checksum"), why)
    }

    func testTruncatedArchiveIsRejected() {
        let fixtures = FixtureDirectory()
        let archive = tarArchive([("data_batch_1.bin", cifar10Records([1, 2])), ("test_batch.bin", cifar10Records([1]))])
        let path = fixtures.write("cut.tar.gz", gzipped(Array(archive[0..<4000])))
        XCTAssertNotNil(expectDatasetError(path) { _ = try loadCIFARArchive(path, variant: .cifar10) })
    }

    func testArchiveWithoutTheTestBatchSaysSo() {
        let fixtures = FixtureDirectory()
        let path = fixtures.write("a.tar.gz", gzipped(tarArchive([("data_batch_1.bin", cifar10Records([1]))])))
        guard case .missingFiles(let names)? = expectDatasetError(path, { _ = try loadCIFARArchive(path, variant: .cifar10) }) else {
            return XCTFail("expected missingFiles")
        }
        XCTAssertEqual(names, ["test_batch.bin in the archive"])
    }
}
