import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

func runRow(_ criterion: String, seed: UInt64, density: Double, accuracy: Double?, status: RunStatus = .ok,
            schedule: String = "iterative", setup: String = "s") -> RunRow {
    RunRow(model: "lenet", dataset: "mnist", criterion: criterion, schedule: schedule, seed: seed, round: 1,
           densityRequested: density, densityAchieved: density, testAccuracyFinal: accuracy,
           testAccuracyBest: accuracy.map { $0 + 0.01 }, testLoss: 0.1, trainLoss: 0.05, epochs: 2,
           wallSeconds: 1, status: status, configHash: "h\(criterion)\(seed)\(setup)", setupHash: setup,
           criterionHash: "c\(criterion)", gitCommit: "c")
}

final class SummaryTests: XCTestCase {
    func testGroupsStatisticsAndDifferenceToMagnitude() throws {
        let rows = [
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.80),
            runRow("data-dependent", seed: 1, density: 0.5, accuracy: 0.83),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.82),
            runRow("data-dependent", seed: 2, density: 0.5, accuracy: 0.85),
            runRow("magnitude", seed: 3, density: 0.5, accuracy: 0.81),
            runRow("data-dependent", seed: 3, density: 0.5, accuracy: 0.845, status: .collapsed),
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
        let ddValues = [0.83, 0.85, 0.845]
        let ddMean = ddValues.reduce(0, +) / 3
        let ddStd = (ddValues.map { ($0 - ddMean) * ($0 - ddMean) }.reduce(0, +) / 2).squareRoot()
        XCTAssertEqual(dd.mean!, ddMean, accuracy: 1e-12)
        XCTAssertEqual(dd.std!, ddStd, accuracy: 1e-12)
        XCTAssertEqual(dd.ciLow!, ddMean - 4.302652729 * ddStd / 3.0.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(dd.collapsed, 1)
        // Same seeds on both sides: paired differences 0.03, 0.03, 0.035.
        let pairs = [0.03, 0.03, 0.035], pairMean = pairs.reduce(0, +) / 3
        let pairStd = (pairs.map { ($0 - pairMean) * ($0 - pairMean) }.reduce(0, +) / 2).squareRoot()
        XCTAssertEqual(dd.diffVsMagnitude!, pairMean, accuracy: 1e-12)
        XCTAssertEqual(dd.diffCILow!, pairMean - 4.302652729 * pairStd / 3.0.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(dd.diffCIHigh!, pairMean + 4.302652729 * pairStd / 3.0.squareRoot(), accuracy: 1e-8)
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

    func testDifferenceIsWelchWhenTheSeedsDoNotPair() throws {
        let rows = [
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.80),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.82),
            runRow("random", seed: 3, density: 0.5, accuracy: 0.70),
            runRow("random", seed: 4, density: 0.5, accuracy: 0.74),
        ]
        let random = try Summary.aggregate(rows).first { $0.criterion == "random" }!
        let welch = try XCTUnwrap(Statistics.welchDifference([0.70, 0.74], [0.80, 0.82]))
        XCTAssertEqual(random.diffVsMagnitude!, -0.09, accuracy: 1e-12)
        XCTAssertEqual(random.diffCILow!, welch.interval!.lowerBound, accuracy: 1e-12)
        // Paired, identical runs (the dense round) give exactly zero with no spread.
        let dense = try Summary.aggregate([
            runRow("magnitude", seed: 1, density: 1, accuracy: 0.9), runRow("magnitude", seed: 2, density: 1, accuracy: 0.91),
            runRow("random", seed: 1, density: 1, accuracy: 0.9), runRow("random", seed: 2, density: 1, accuracy: 0.91),
        ]).first { $0.criterion == "random" }!
        XCTAssertEqual(dense.diffVsMagnitude, 0)
        XCTAssertEqual(dense.diffCILow, 0)
        XCTAssertEqual(dense.diffCIHigh, 0)
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

    // MARK: - Issue #10: what the statistics say they are

    /// A diverged run that still carries an accuracy (its last good epoch)
    /// is counted in n_diverged and nowhere else.
    func testDivergedRunsAreLeftOutOfMeansIntervalsAndDifferences() throws {
        let rows = [
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.80),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.82),
            runRow("magnitude", seed: 3, density: 0.5, accuracy: 0.10, status: .diverged),
            runRow("random", seed: 1, density: 0.5, accuracy: 0.70),
            runRow("random", seed: 2, density: 0.5, accuracy: 0.72),
            runRow("random", seed: 3, density: 0.5, accuracy: 0.71),
        ]
        let summary = try Summary.aggregate(rows)
        let magnitude = try XCTUnwrap(summary.first { $0.criterion == "magnitude" })
        XCTAssertEqual(magnitude.n, 2)
        XCTAssertEqual(magnitude.diverged, 1)
        XCTAssertEqual(magnitude.mean!, 0.81, accuracy: 1e-12)
        XCTAssertEqual(magnitude.bestMean!, 0.82, accuracy: 1e-12)
        let random = try XCTUnwrap(summary.first { $0.criterion == "random" })
        // Seeds {1,2,3} against {1,2}: not the same seeds, so Welch over the kept runs.
        XCTAssertEqual(random.diffMethod, .welch)
        XCTAssertEqual(random.diffVsMagnitude!, 0.71 - 0.81, accuracy: 1e-12)
    }

    func testIntervalOfTheMeanIsClippedToTheUnitInterval() throws {
        let rows = [runRow("random", seed: 1, density: 0.5, accuracy: 0.99), runRow("random", seed: 2, density: 0.5, accuracy: 0.5)]
        let row = try XCTUnwrap(Summary.aggregate(rows).first)
        XCTAssertEqual(row.ciHigh, 1, "a t-interval of 0.99 and 0.5 reaches past 1")
        XCTAssertEqual(row.ciLow, 0)
    }

    func testDiffMethodSaysPairedWhenTheSeedsPair() throws {
        var rows: [RunRow] = []
        for seed in 1...3 {
            let offset = Double(seed) / 100
            rows.append(runRow("magnitude", seed: UInt64(seed), density: 0.5, accuracy: 0.8 + offset))
            rows.append(runRow("snip", seed: UInt64(seed), density: 0.5, accuracy: 0.81 + offset * 1.1))
        }
        let snip = try XCTUnwrap(Summary.aggregate(rows).first { $0.criterion == "snip" })
        XCTAssertEqual(snip.diffMethod, .paired)
        let csv = CSV.document([snip])
        XCTAssertTrue(csv.contains(",paired,s\r\n"), csv)
    }

    /// Two training setups written to one directory: two groups, each
    /// compared with its own setup's magnitude.
    func testDifferentSetupsAreNeverAveragedTogether() throws {
        let rows = [
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.80, setup: "a"),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.82, setup: "a"),
            runRow("magnitude", seed: 1, density: 0.5, accuracy: 0.50, setup: "b"),
            runRow("magnitude", seed: 2, density: 0.5, accuracy: 0.52, setup: "b"),
            runRow("random", seed: 1, density: 0.5, accuracy: 0.60, setup: "b"),
            runRow("random", seed: 2, density: 0.5, accuracy: 0.62, setup: "b"),
        ]
        let summary = try Summary.aggregate(rows)
        let magnitudes = summary.filter { $0.criterion == "magnitude" }
        XCTAssertEqual(magnitudes.map(\.setupHash), ["a", "b"])
        XCTAssertEqual(magnitudes.map(\.n), [2, 2])
        XCTAssertEqual(magnitudes[0].mean!, 0.81, accuracy: 1e-12)
        let random = try XCTUnwrap(summary.first { $0.criterion == "random" })
        XCTAssertEqual(random.diffVsMagnitude!, 0.10, accuracy: 1e-12, "compared with setup b's magnitude only")
    }
}
