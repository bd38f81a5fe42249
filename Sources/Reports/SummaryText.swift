import Foundation

/// `summary.csv` as a person reads it: one block per (model, dataset,
/// schedule), a line per (density, criterion), accuracy in % with two
/// decimals ± sd, n, and the gain over magnitude in points with its 95% CI,
/// marked `*` when the interval excludes 0. Collapsed and diverged runs are
/// counted on their line.
///
/// A pure function of the rows, so what `ticket sweep`, `ticket report` and
/// `make bench` print is exactly what `summary.csv` holds, rounded.
public enum SummaryText {
    /// The mark after a gain whose 95% CI excludes 0.
    public static let significanceMark = "*"
    /// The mark after a gain computed with Welch's test instead of paired seeds.
    public static let welchMark = "†"

    /// The table for `rows` (in `Summary.aggregate` order), ending in a newline.
    public static func render(_ rows: [SummaryRow]) -> String {
        guard !rows.isEmpty else { return "summary: no complete runs yet\n" }
        struct Block: Hashable {
            var model, dataset, schedule, setup: String
        }
        var order: [Block] = []
        var blocks: [Block: [SummaryRow]] = [:]
        for row in rows {
            let block = Block(model: row.model, dataset: row.dataset, schedule: row.schedule, setup: row.setupHash)
            if blocks[block] == nil { order.append(block) }
            blocks[block, default: []].append(row)
        }
        var out: [String] = []
        for block in order {
            // Two training setups of one model, data set and schedule in one directory: say which is which.
            let shared = order.filter { ($0.model, $0.dataset, $0.schedule) == (block.model, block.dataset, block.schedule) }.count > 1
            out.append("\(block.model) on \(block.dataset), \(block.schedule)" + (shared ? " (setup \(block.setup))" : "")
                       + ": final test accuracy (%), mean ± sd over seeds")
            out.append(contentsOf: table(blocks[block]!))
            out.append("")
        }
        out.append("gain: accuracy minus magnitude's at the same density, in points, with its 95% CI (a paired t over")
        out.append("seeds; \(welchMark) marks Welch's interval, used when the seeds do not pair); \(significanceMark) the CI excludes 0.")
        out.append("n counts runs with a final accuracy; collapsed runs (a layer lost every weight) are among them,")
        out.append("diverged runs are not (they are counted on their line).")
        return out.joined(separator: "\n") + "\n"
    }

    /// One block's lines: header, then densities dense to sparse, magnitude
    /// first within a density, the density written only on its first line.
    private static func table(_ rows: [SummaryRow]) -> [String] {
        var densities: [String] = []
        for row in rows where !densities.contains(row.density) { densities.append(row.density) }
        densities.sort { (Double($0) ?? 0) > (Double($1) ?? 0) }
        let header = ["density", "criterion", "accuracy", "n", "gain vs magnitude", ""]
        var cells: [[String]] = []
        for density in densities {
            // Magnitude (the baseline) first, then the others by name.
            let group = rows.filter { $0.density == density }.sorted {
                let a = $0.criterion == Summary.baselineCriterion, b = $1.criterion == Summary.baselineCriterion
                return a != b ? a : $0.criterion < $1.criterion
            }
            for (index, row) in group.enumerated() {
                cells.append([index == 0 ? density : "", row.criterion, accuracy(row), String(row.n), gain(row), notes(row)])
            }
        }
        let widths = header.indices.map { column in
            ([header] + cells).map { $0[column].count }.max() ?? 0
        }
        // Numbers right-aligned, names left-aligned.
        let rightAligned: Set<Int> = [2, 3]
        func line(_ fields: [String]) -> String {
            fields.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return rightAligned.contains(column) ? padding + text : text + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return [line(header)] + cells.map(line)
    }

    private static func percent(_ value: Double) -> String { String(format: "%.2f", value * 100) }
    private static func points(_ value: Double) -> String { String(format: "%+.2f", value * 100) }

    private static func accuracy(_ row: SummaryRow) -> String {
        guard let mean = row.mean else { return "-" }
        guard let std = row.std else { return percent(mean) }
        return percent(mean) + " ± " + percent(std)
    }

    private static func gain(_ row: SummaryRow) -> String {
        guard let difference = row.diffVsMagnitude else { return "" }
        let method = row.diffMethod == .welch ? " " + welchMark : ""
        guard let low = row.diffCILow, let high = row.diffCIHigh else { return points(difference) + method }
        let excludesZero = low > 0 || high < 0
        return "\(points(difference)) [\(points(low)), \(points(high))]" + method + (excludesZero ? " " + significanceMark : "")
    }

    private static func notes(_ row: SummaryRow) -> String {
        var notes: [String] = []
        if row.collapsed > 0 { notes.append("\(row.collapsed) collapsed") }
        if row.diverged > 0 { notes.append("\(row.diverged) diverged") }
        return notes.joined(separator: ", ")
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
