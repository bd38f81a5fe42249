import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// The real `ticket sweep` and `ticket train` on what issue #10 found: a
/// diverging configuration, and manifests that must be refused before
/// anything is trained or written.
final class SweepCommandTests: XCTestCase {
    private func ticket(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> ProcessResult {
        try runToCompletion(ticketExecutable(nextTo: Bundle(for: SweepCommandTests.self)), arguments,
                            environment: environment, directory: directory ?? URL(fileURLWithPath: repositoryRoot))
    }

    private func write(_ manifest: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("m.json")
        try AtomicFile.write(manifest, to: url)
        return url
    }

    private static let divergingManifest = """
    {"models": ["lenet-300-100"], "datasets": ["mnist"],
     "criteria": [{"name": "magnitude"}, {"name": "random"}],
     "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 2},
                   {"kind": "early-one-shot", "denseEpochs": 1, "densities": [0.5]}],
     "seeds": [1, 2],
     "training": {"optimizer": "sgd", "learningRate": 1000, "momentum": 0.9, "batchSize": 60,
                  "epochsPerRound": 2, "trainExamples": 300}}
    """

    /// It used to stop with `EncodingError.invalidValue: nan` at the first
    /// run, and every rerun stopped there again.
    func testADivergingSweepCompletesWithDivergedRowsAndARerunSkipsThem() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = try write(Self.divergingManifest, in: directory)
        let output = directory.appendingPathComponent("out")
        let first = try ticket(["sweep", manifest.path, "--out", output.path, "--threads", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("8 runs executed"), first.stdout)
        let rows = try CSVTable.read(output.appendingPathComponent("runs.csv")).rows(RunRow.self)
        XCTAssertEqual(rows.count, 8, "each run stops at its diverged round")
        for row in rows {
            XCTAssertEqual(row.status, .diverged)
            XCTAssertNil(row.testAccuracyFinal)
            XCTAssertNil(row.testAccuracyBest)
            XCTAssertEqual(row.divergence?.epoch, 1)
            XCTAssertNotNil(row.divergence?.step)
        }
        for run in Set(rows.map(\.configHash)) {
            let runDirectory = output.appendingPathComponent("runs").appendingPathComponent(run)
            for file in ["done.json", "checkpoint.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent(file).path), file)
            }
        }
        let summary = try CSVTable.read(output.appendingPathComponent("summary.csv")).rows(SummaryRow.self)
        XCTAssertEqual(summary.map(\.diverged), [2, 2, 2, 2])
        XCTAssertEqual(summary.map(\.n), [0, 0, 0, 0])
        XCTAssertTrue(summary.allSatisfy { $0.mean == nil })

        let second = try ticket(["sweep", manifest.path, "--out", output.path, "--threads", "1"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("0 runs executed, 8 skipped"), second.stdout)
    }

    func testTrainOnADivergingConfigurationSaysWhereAndFails() throws {
        let result = try ticket(["train", "--model", "lenet-300-100", "--dataset", "mnist", "--epochs", "1",
                                 "--optimizer", "sgd", "--lr", "1000", "--momentum", "0.9", "--train-limit", "600",
                                 "--test-limit", "100", "--threads", "1", "--no-progress"])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("training diverged at epoch 1, step "), result.stderr)
    }

    /// Each bad manifest is refused as `FILE: JSON.PATH: reason`, exit 1,
    /// before any training and without creating the output directory.
    func testBadManifestsAreRefusedBeforeAnythingIsWritten() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let valid = """
        {"models": ["lenet-300-100"], "datasets": ["mnist"], "criteria": [{"name": "magnitude"}],
         "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 1}], "seeds": [1],
         "training": {"optimizer": "sgd", "learningRate": 0.05, "batchSize": 60, "epochsPerRound": 1, "trainExamples": 120}}
        """
        let cases: [(manifest: String, environment: [String: String], expected: String)] = [
            (valid.replacingOccurrences(of: #""learningRate": 0.05"#, with: #""learningRate": 0.05, "learningRate": 5.0"#), [:],
             #"m.json: training.learningRate: duplicate: key "learningRate" appears twice"#),
            (valid.replacingOccurrences(of: #"["mnist"]"#, with: #"["mnistt"]"#), [:],
             #"m.json: datasets[0]: unknown data set "mnistt"; known: mnist, fashion-mnist, cifar-10, cifar-100"#),
            (valid.replacingOccurrences(of: #"["lenet-300-100"]"#, with: #"["vgg-11"]"#), [:],
             #"m.json: models[0]: model "vgg-11" does not fit datasets[0] "mnist" (28x28x1, 10 classes)"#),
            (valid, ["TICKET_DATA": directory.path],
             #"m.json: datasets[0]: data set "mnist" cannot be loaded: "#),
        ]
        for (index, item) in cases.enumerated() {
            let manifest = try write(item.manifest, in: directory)
            let output = directory.appendingPathComponent("out-\(index)")
            // The last case runs where no datasets/ directory is, so the data is absent.
            let result = try ticket(["sweep", manifest.path, "--out", output.path],
                                    environment: item.environment, directory: item.environment.isEmpty ? nil : directory)
            XCTAssertEqual(result.status, 1, "case \(index): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains(item.expected), "case \(index): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(manifest.path): ") || result.stderr.contains("m.json: "), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "case \(index) wrote \(output.path)")
        }
    }
}
