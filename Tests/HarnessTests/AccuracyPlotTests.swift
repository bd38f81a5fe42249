import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Harness
@testable import Reports

final class AccuracyPlotTests: XCTestCase {
    /// A summary shaped like the study's ResNet-20 figure (two schedules,
    /// three criteria, seven densities, three seeds each).
    func studyLikeSummary() throws -> [SummaryRow] {
        var rows: [RunRow] = []
        let means: [String: [Double]] = [
            "magnitude": [0.801, 0.808, 0.808, 0.803, 0.802, 0.797, 0.767],
            "data-dependent": [0.800, 0.806, 0.806, 0.803, 0.801, 0.798, 0.765],
            "random": [0.800, 0.79, 0.77, 0.74, 0.70, 0.64, 0.55],
        ]
        for schedule in ["iterative", "early-one-shot"] {
            for (criterion, values) in means {
                for (k, mean) in values.enumerated() {
                    for seed in UInt64(1)...3 {
                        let shift = schedule == "iterative" ? 0 : -0.01 * Double(k)
                        rows.append(runRow(criterion, seed: seed, density: pow(0.5, Double(k)),
                                           accuracy: mean + shift + 0.003 * (Double(seed) - 2), schedule: schedule))
                    }
                }
            }
        }
        return try Summary.aggregate(rows)
    }

    func testSVGIsWellFormedAndHasOnePanelPerScheduleAndALineAndBandPerCriterion() throws {
        let svg = AccuracyPlot.svg(try studyLikeSummary())
        if let path = ProcessInfo.processInfo.environment["HARNESS_PLOT_OUT"] {
            try AtomicFile.write(svg, to: URL(fileURLWithPath: path))
        }
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2 * 3)
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 2 * 3)
        XCTAssertTrue(svg.contains("lenet · mnist · iterative"))
        XCTAssertTrue(svg.contains("lenet · mnist · early-one-shot"))
        XCTAssertTrue(svg.contains(">weights remaining (log scale)<"))
        XCTAssertTrue(svg.contains(">1.6%<"), "log-2 ticks down to the sparsest density")
        XCTAssertFalse(svg.contains("nan"))
        XCTAssertEqual(AccuracyPlot.svg(try studyLikeSummary()), svg, "deterministic")
    }

    func testEmptyAndSinglePointPlotsStayValid() {
        XCTAssertTrue(XMLParser(data: Data(AccuracyPlot.svg([]).utf8)).parse())
        let single = [SummaryRow(model: "m", dataset: "d", criterion: "a<b&c", schedule: "s", density: "0.5", n: 1,
                                 mean: 0.9, std: nil, ciLow: nil, ciHigh: nil)]
        let svg = AccuracyPlot.svg(single)
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), svg)
        XCTAssertTrue(svg.contains("a&lt;b&amp;c"))
    }

    /// Wide intervals (n = 2) must not draw outside the panel: every y
    /// coordinate stays inside the plotting area of its panel.
    func testBandsPastZeroOrOneAreCutAtThePanel() throws {
        let rows = [0.5, 0.25].map { density in
            SummaryRow(model: "m", dataset: "d", criterion: "c", schedule: "s", density: CSV.number(density), n: 2,
                       mean: 0.9, std: 0.05, ciLow: 0.45, ciHigh: 1.35)
        }
        let svg = AccuracyPlot.svg(rows)
        let polygon = try XCTUnwrap(svg.components(separatedBy: "<polygon points=\"").dropFirst().first?
            .components(separatedBy: "\"").first)
        let ys = polygon.split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        let top = AccuracyPlot.legendHeight + AccuracyPlot.margin.top
        let bottom = AccuracyPlot.legendHeight + AccuracyPlot.panelHeight - AccuracyPlot.margin.bottom
        XCTAssertTrue(ys.allSatisfy { $0 >= top - 0.05 && $0 <= bottom + 0.05 }, "\(ys) outside \(top)...\(bottom)")
    }

    func testNiceSteps() {
        XCTAssertEqual(AccuracyPlot.niceStep(0.013), 0.02, accuracy: 1e-12)
        XCTAssertEqual(AccuracyPlot.niceStep(0.04), 0.05, accuracy: 1e-12)
        XCTAssertEqual(AccuracyPlot.niceStep(0.1), 0.1, accuracy: 1e-12)
    }
}
