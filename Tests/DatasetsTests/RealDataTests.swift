import Foundation
import TicketTestSupport
import XCTest
@testable import Datasets


/// Tests on the real data sets: the vendored MNIST always; the others when
/// `TICKET_DATA` (or a system package) provides them, skipped with a reason otherwise.
final class RealDataTests: XCTestCase {
    private var locator: DataLocator {
        DataLocator.standard(projectDatasets: repositoryRoot + "/datasets")
    }

    func testVendoredMNISTHasTheKnownCountsAndStatistics() throws {
        let pair = try loadDataset(named: "mnist", in: repositoryRoot + "/datasets/mnist")
        XCTAssertEqual(pair.train.count, 60_000)
        XCTAssertEqual(pair.test.count, 10_000)
        XCTAssertEqual(pair.train.shape, ImageShape(height: 28, width: 28, channels: 1))
        XCTAssertEqual(pair.train.classCounts[1], 6742)
        let stats = Normalization(computedFrom: pair.train)
        XCTAssertEqual(stats.mean[0], 0.1307, accuracy: 0.00005)
        XCTAssertEqual(stats.std[0], 0.3081, accuracy: 0.00005)
        XCTAssertEqual(Array(pair.train.labels.prefix(4)), [5, 0, 4, 1])
    }

    func testVendoredMNISTMatchesItsPublishedChecksums() throws {
        let results = try verifyDataset(.mnist, in: repositoryRoot + "/datasets/mnist")
        XCTAssertEqual(results.count, 4)
        for result in results { XCTAssertEqual(result.status, .matchesPublished, result.path) }
    }

    func testCIFAR10ReferenceRecords() throws {
        guard let directory = locator.locate(.cifar10) else {
            throw XCTSkip("CIFAR-10 not present (set TICKET_DATA to a directory with cifar-10-batches-bin/); looked in \(locator.candidates(for: .cifar10))")
        }
        let pair = try loadDataset(.cifar10, in: directory)
        XCTAssertEqual(Array(pair.train.labels.prefix(4)), [6, 9, 9, 4])
        XCTAssertEqual(Array(pair.test.labels.prefix(4)), [3, 8, 8, 0])
        XCTAssertEqual(pair.test.count, 10_000)
        XCTAssertEqual(pair.train.count % 10_000, 0)
        if pair.train.count == 50_000 {
            let stats = Normalization(computedFrom: pair.train)
            for (value, expected) in zip(stats.mean, [0.4914, 0.4822, 0.4465] as [Float]) {
                XCTAssertEqual(value, expected, accuracy: 0.0001)
            }
        } else {
            XCTAssertNotNil(pair.train.partialNote, "a partial training set must say so")
        }
        for result in try verifyDataset(.cifar10, in: directory) where result.status != .unknown {
            XCTAssertEqual(result.status, .matchesPublished, result.path)
        }
    }

    func testFashionMNISTContentMatchesUpstream() throws {
        guard let directory = locator.locate(.fashionMNIST) else {
            throw XCTSkip("Fashion-MNIST not present (apt-get install dataset-fashion-mnist, or make data)")
        }
        let pair = try loadDataset(.fashionMNIST, in: directory)
        XCTAssertEqual(pair.train.count, 60_000)
        XCTAssertEqual(pair.train.classCounts, [Int](repeating: 6000, count: 10))
        for result in try verifyDataset(.fashionMNIST, in: directory) {
            XCTAssertTrue(result.status == .matchesPublished || result.status == .matchesDecompressed, result.path)
        }
    }
}
