import Foundation
import XCTest
@testable import Reports

final class SummaryTextTests: XCTestCase {
    private func row(_ criterion: String, density: String, n: Int, mean: Double?, std: Double?,
                     collapsed: Int = 0, diverged: Int = 0, diff: Double? = nil, low: Double? = nil, high: Double? = nil,
                     schedule: String = "iterative") -> SummaryRow {
        SummaryRow(model: "lenet", dataset: "mnist", criterion: criterion, schedule: schedule, density: density, n: n,
                   mean: mean, std: std, ciLow: nil, ciHigh: nil, collapsed: collapsed, diverged: diverged,
                   diffVsMagnitude: diff, diffCILow: low, diffCIHigh: high)
    }

    /// The line of `text` for `criterion` at `density` (a density is written on its group's first line only).
    private func line(_ text: String, density: String, criterion: String) -> String? {
        var current = ""
        for line in text.split(separator: "\n").map(String.init) {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 2 else { continue }
            if Double(words[0]) != nil && words[1] != "on" {
                current = words[0]
                if current == density && words[1] == criterion { return line }
            } else if current == density && words[0] == criterion {
                return line
            }
        }
        return nil
    }

    func testFormatsAccuracyGainAndMarksOnlyIntervalsExcludingZero() throws {
        let text = SummaryText.render([
            row("data-dependent", density: "0.25", n: 5, mean: 0.9431333333333334, std: 0.0012345,
                diff: 0.0041, low: 0.0012, high: 0.0070),
            row("data-dependent", density: "0.015625", n: 5, mean: 0.9, std: 0.01, diff: -0.002, low: -0.01, high: 0.006),
            row("magnitude", density: "0.25", n: 5, mean: 0.939, std: 0.001),
            row("magnitude", density: "0.015625", n: 5, mean: 0.902, std: 0.004),
        ])
        let gain = try XCTUnwrap(line(text, density: "0.25", criterion: "data-dependent"), text)
        XCTAssertTrue(gain.contains("94.31 ± 0.12"), gain)
        XCTAssertTrue(gain.contains("+0.41 [+0.12, +0.70] *"), gain)
        XCTAssertFalse(text.contains("0.9431333333333334"), "no raw floats in the printed table")
        let tie = try XCTUnwrap(line(text, density: "0.015625", criterion: "data-dependent"), text)
        XCTAssertTrue(tie.hasSuffix("-0.20 [-1.00, +0.60]"), "a CI including 0 is not marked: \(tie)")
        let baseline = try XCTUnwrap(line(text, density: "0.25", criterion: "magnitude"), text)
        XCTAssertTrue(baseline.hasSuffix("93.90 ± 0.10  5"), "magnitude has no gain over itself: \(baseline)")
        // Dense to sparse, magnitude first within a density.
        let lines = text.split(separator: "\n").map(String.init)
        let order = lines.compactMap { line -> String? in
            ["magnitude", "data-dependent"].first { line.contains(" \($0) ") || line.hasPrefix($0) }
        }
        XCTAssertEqual(order, ["magnitude", "data-dependent", "magnitude", "data-dependent"], text)
        XCTAssertTrue(lines[0].hasPrefix("lenet on mnist, iterative"), lines[0])
    }

    func testMissingValuesSingleRunsCollapsedAndDivergedStayVisible() throws {
        let text = SummaryText.render([
            row("magnitude", density: "0.5", n: 1, mean: 0.95, std: nil),
            row("random", density: "0.5", n: 0, mean: nil, std: nil, diverged: 3),
            row("snip", density: "0.5", n: 1, mean: 0.97, std: nil, collapsed: 1, diff: 0.02),
        ])
        let single = try XCTUnwrap(line(text, density: "0.5", criterion: "magnitude"), text)
        XCTAssertTrue(single.hasSuffix("95.00  1"), "n = 1: no sd, no ±: \(single)")
        XCTAssertFalse(single.contains("±"))
        let diverged = try XCTUnwrap(line(text, density: "0.5", criterion: "random"), text)
        XCTAssertTrue(diverged.contains(" - "), "no mean is shown as -: \(diverged)")
        XCTAssertTrue(diverged.hasSuffix("0  3 diverged") || diverged.contains("3 diverged"), diverged)
        let collapsed = try XCTUnwrap(line(text, density: "0.5", criterion: "snip"), text)
        XCTAssertTrue(collapsed.contains("+2.00"), "a gain without CI is still shown: \(collapsed)")
        XCTAssertFalse(collapsed.contains("["), collapsed)
        XCTAssertFalse(collapsed.contains(SummaryText.significanceMark), collapsed)
        XCTAssertTrue(collapsed.hasSuffix("1 collapsed"), collapsed)
    }

    func testOneBlockPerScheduleWithAlignedColumnsAndNoTrailingSpaces() {
        let rows = [
            row("magnitude", density: "1", n: 2, mean: 0.98, std: 0.001, schedule: "early-one-shot"),
            row("magnitude", density: "1", n: 2, mean: 0.98, std: 0.001),
            row("data-dependent", density: "0.0078125", n: 2, mean: 0.5, std: 0.2, diff: -0.3, low: -0.9, high: -0.1),
            row("magnitude", density: "0.0078125", n: 2, mean: 0.8, std: 0.01),
        ]
        let text = SummaryText.render(rows)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.filter { $0.hasPrefix("lenet on mnist, ") }.count, 2, text)
        XCTAssertFalse(lines.contains { $0.hasSuffix(" ") }, "trailing spaces:\n\(text)")
        XCTAssertTrue(text.contains("-30.00 [-90.00, -10.00] *"), "a CI below 0 is marked too:\n\(text)")
        // Every accuracy of a block ends in the same column (right-aligned).
        let block = lines.drop { !$0.hasPrefix("lenet on mnist, iterative") }.prefix { !$0.isEmpty }
        let ends = block.compactMap { line in
            line.range(of: #"[0-9]+\.[0-9]{2} ± [0-9]+\.[0-9]{2}"#, options: .regularExpression)
                .map { line.distance(from: line.startIndex, to: $0.upperBound) }
        }
        XCTAssertEqual(ends.count, 3, text)
        XCTAssertEqual(Set(ends).count, 1, "accuracy columns misaligned:\n\(text)")
        XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, 120, text)
        XCTAssertEqual(SummaryText.render([]), "summary: no complete runs yet\n")
    }

    /// Welch's intervals are marked; two setups of one schedule get a block each, named.
    func testWelchGainsAreMarkedAndSetupsKeptApart() throws {
        var welch = row("random", density: "0.5", n: 3, mean: 0.7, std: 0.01, diff: -0.1, low: -0.12, high: -0.08)
        welch.diffMethod = .welch
        var paired = welch
        paired.diffMethod = .paired
        paired.setupHash = "b"
        welch.setupHash = "a"
        let text = SummaryText.render([welch, paired])
        XCTAssertTrue(text.contains("iterative (setup a)") && text.contains("iterative (setup b)"), text)
        let lines = text.split(separator: "\n").filter { $0.contains("random") }
        XCTAssertEqual(lines.count, 2, text)
        XCTAssertTrue(lines[0].contains("[-12.00, -8.00] † *"), String(lines[0]))
        XCTAssertFalse(lines[1].contains("†"), String(lines[1]))
    }
}
