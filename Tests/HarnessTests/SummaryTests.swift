import Foundation
import XCTest
@testable import Harness

func runRow(_ criterion: String, seed: UInt64, density: Double, accuracy: Double?, status: RunStatus = .ok,
            schedule: String = "iterative") -> RunRow {
    RunRow(model: "lenet", dataset: "mnist", criterion: criterion, schedule: schedule, seed: seed, round: 1,
           densityRequested: density, densityAchieved: density, testAccuracyFinal: accuracy,
           testAccuracyBest: accuracy.map { $0 + 0.01 }, testLoss: 0.1, trainLoss: 0.05, epochs: 2,
           wallSeconds: 1, status: status, configHash: "h\(criterion)\(seed)", gitCommit: "c")
}

final class SummaryTests: XCTestCase {
    func testGroupsStatisticsAndDifferenceToMagnitude() throws {
        let rows = [
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.80),
            runRow("data-dependent", seed: 1, density: 0.5, accuracy: 0.83),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.82),
            runRow("data-dependent", seed: 2, density: 0.5, accuracy: 0.85),
            runRow("magnitude", seed: 3, density: 0.5, accuracy: 0.81),
            runRow("data-dependent", seed: 3, density: 0.5, accuracy: 0.84, status: .collapsed),
            runRow("magnitude", seed: 1, density: 0.5 * 0.5, accuracy: 0.70),
            runRow("random", seed: 1, density: 1, accuracy: nil, status: .diverged),
        ]
        let summary = try Summary.aggregate(rows)
        XCTAssertEqual(summary.map(\.key), [
            ["lenet", "mnist", "data-dependent", "iterative", "0.5"],
            ["lenet", "mnist", "magnitude", "iterative", "0.5"],
            ["lenet", "mnist", "magnitude", "iterative", "0.25"],
            ["lenet", "mnist", "random", "iterative", "1"],
        ])
        let dd = summary[0], magnitude = summary[1]
        XCTAssertEqual(dd.n, 3)
        XCTAssertEqual(dd.mean!, 0.84, accuracy: 1e-12)
        XCTAssertEqual(dd.std!, 0.01, accuracy: 1e-12)
        XCTAssertEqual(dd.ciLow!, 0.84 - 4.302652729 * 0.01 / 3.0.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(dd.collapsed, 1)
        XCTAssertEqual(dd.diffVsMagnitude!, 0.03, accuracy: 1e-12)
        XCTAssertLessThan(dd.diffCILow!, 0.03)
        XCTAssertGreaterThan(dd.diffCIHigh!, 0.03)
        XCTAssertNil(magnitude.diffVsMagnitude, "magnitude is not compared with itself")
        // n = 1: mean but empty interval cells, never NaN.
        XCTAssertEqual(summary[2].n, 1)
        XCTAssertNil(summary[2].std)
        XCTAssertNil(summary[2].ciLow)
        XCTAssertEqual(CSV.record(summary[2].fields).components(separatedBy: ",")[7...9], ["", "", ""])
        XCTAssertFalse(CSV.document(summary).lowercased().contains("nan"))
        // A diverged run without accuracy: n = 0, counted as diverged.
        XCTAssertEqual(summary[3].n, 0)
        XCTAssertEqual(summary[3].diverged, 1)
        XCTAssertNil(summary[3].mean)
        // Input order does not matter, to the last bit.
        XCTAssertEqual(try Summary.aggregate(rows.reversed()), summary)
    }

    func testDuplicateSeedInAGroupIsAnError() {
        let rows = [runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.8),
                    runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.8)]
        XCTAssertThrowsError(try Summary.aggregate(rows)) { error in
            XCTAssertTrue("\(error)".contains("seed 1 appears twice"), "\(error)")
        }
    }
}

final class MaskOverlapTests: XCTestCase {
    func testJaccard() {
        let a = [[true, true, false, false], [true]]
        let b = [[true, false, true, false], [true]]
        XCTAssertEqual(MaskOverlap.jaccard(a, b)!, 2.0 / 4.0, accuracy: 1e-15)
        XCTAssertEqual(MaskOverlap.jaccard(a, a), 1)
        XCTAssertEqual(MaskOverlap.jaccard([[true, false]], [[false, true]]), 0)
        XCTAssertNil(MaskOverlap.jaccard([[false, false]], [[false, false]]), "empty union")
        XCTAssertNil(MaskOverlap.jaccard([[true]], [[true, false]]), "different shapes")
        XCTAssertEqual(MaskOverlap.jaccard(a, b), MaskOverlap.jaccard(b, a))
    }

    func testPackedMasksAcrossWordBoundariesAndFileRoundTrip() throws {
        var rng = SplitMix(state: 9)
        let sizes = [1, 63, 64, 65, 200]
        let a = sizes.map { n in (0..<n).map { _ in rng.next() % 3 == 0 } }
        let b = sizes.map { n in (0..<n).map { _ in rng.next() % 2 == 0 } }
        var both = 0, union = 0
        for (x, y) in zip(a.joined(), b.joined()) {
            if x && y { both += 1 }
            if x || y { union += 1 }
        }
        XCTAssertEqual(MaskOverlap.jaccard(a, b)!, Double(both) / Double(union), accuracy: 1e-15)
        let set = MaskSet(names: sizes.map { "layer\($0)" }, kept: a)
        XCTAssertEqual(set.layers[3].mask[64], a[3][64])
        XCTAssertEqual(try MaskSet(decoding: set.encoded(), file: "m"), set)
        var truncated = set.encoded()
        truncated.removeLast()
        XCTAssertThrowsError(try MaskSet(decoding: truncated, file: "m")) { error in
            XCTAssertTrue("\(error)".hasPrefix("m: corrupt mask file"), "\(error)")
        }
    }
}

final class SummaryComparisonTests: XCTestCase {
    func row(_ criterion: String, _ density: String, mean: Double?, std: Double?, n: Int) -> SummaryRow {
        SummaryRow(model: "lenet", dataset: "mnist", criterion: criterion, schedule: "iterative", density: density,
                   n: n, mean: mean, std: std, ciLow: nil, ciHigh: nil)
    }

    func testIdenticalPassesAndPerturbedFails() {
        let baseline = [row("magnitude", "0.5", mean: 0.80, std: 0.01, n: 4),
                        row("random", "0.5", mean: 0.70, std: 0.02, n: 4)]
        XCTAssertTrue(SummaryComparison(baseline: baseline, candidate: baseline).passed)
        var candidate = baseline
        candidate[0].mean = 0.80 + 0.0149  // 2.98 SE with SE = 0.005
        XCTAssertTrue(SummaryComparison(baseline: baseline, candidate: candidate, maxStandardErrors: 3).passed)
        candidate[0].mean = 0.80 + 0.0151  // 3.02 SE
        let result = SummaryComparison(baseline: baseline, candidate: candidate, maxStandardErrors: 3)
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.failures.map(\.key), [baseline[0].key])
        XCTAssertTrue(result.failures[0].description.contains("3.02 standard errors"), result.failures[0].description)
        XCTAssertTrue(SummaryComparison(baseline: baseline, candidate: candidate, maxStandardErrors: 4).passed)
    }

    func testMissingRowsFailAndExtraRowsAreNotes() {
        let baseline = [row("magnitude", "0.5", mean: 0.8, std: 0.01, n: 3), row("random", "0.5", mean: 0.7, std: 0.01, n: 3)]
        let candidate = [baseline[0], row("snip", "0.5", mean: 0.7, std: 0.01, n: 3)]
        let result = SummaryComparison(baseline: baseline, candidate: candidate)
        XCTAssertEqual(result.failures, [.init(key: baseline[1].key, kind: .missingInCandidate)])
        XCTAssertEqual(result.notes, [.init(key: candidate[1].key, kind: .extraInCandidate)])
    }

    func testNoSpreadRequiresAnExactMatch() {
        let baseline = [row("magnitude", "0.5", mean: 0.8, std: 0, n: 3), row("random", "1", mean: 0.7, std: nil, n: 1)]
        XCTAssertTrue(SummaryComparison(baseline: baseline, candidate: baseline).passed)
        var candidate = baseline
        candidate[0].mean = 0.8 + 1e-6
        candidate[1].mean = 0.7 - 1e-6
        let result = SummaryComparison(baseline: baseline, candidate: candidate)
        XCTAssertEqual(result.failures.count, 2)
        candidate = baseline
        candidate[1].mean = nil
        XCTAssertEqual(SummaryComparison(baseline: baseline, candidate: candidate).failures.map(\.kind), [.meanMissing])
    }

    func testCompareFilesReadsStrictCSV() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = [row("magnitude", "0.5", mean: 0.8, std: 0.01, n: 3)]
        let a = dir.appendingPathComponent("a.csv"), b = dir.appendingPathComponent("b.csv")
        try AtomicFile.write(CSV.document(rows), to: a)
        try AtomicFile.write(CSV.document(rows + rows), to: b)
        XCTAssertTrue(try SummaryComparison.compareFiles(baseline: a, candidate: a, maxStandardErrors: 3).passed)
        XCTAssertThrowsError(try SummaryComparison.compareFiles(baseline: a, candidate: b, maxStandardErrors: 3)) { error in
            XCTAssertTrue("\(error)".contains("appears twice"), "\(error)")
        }
    }
}
