import Foundation

/// Draws `accuracy.svg`: final test accuracy against density, one panel per
/// (model, dataset, schedule), one line per criterion through the means with
/// a shaded 95% confidence band, log-scale density axis running from dense
/// (left) to sparse (right) as in lottery-ticket papers. Plain SVG text, no
/// dependencies, readable in any browser.
public enum AccuracyPlot {
    static let panelWidth = 460.0, panelHeight = 320.0
    static let margin = (left: 64.0, right: 30.0, top: 34.0, bottom: 52.0)
    static let legendHeight = 30.0
    // Colour-blind-safe (Okabe–Ito), then greys.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
                          "#999999"]
    // Criteria often tie (the study's iterative results): dashes keep
    // overlapping lines distinguishable, also in greyscale print.
    static let dashes = ["", "7 4", "2 3", "9 3 2 3"]

    static func dash(_ index: Int) -> String {
        let pattern = dashes[index % dashes.count]
        return pattern.isEmpty ? "" : " stroke-dasharray=\"\(pattern)\""
    }

    /// The SVG document for `summary` rows.
    public static func svg(_ summary: [SummaryRow]) -> String {
        struct Panel: Hashable { var model, dataset, schedule: String }
        var panels: [Panel] = []
        var criteria: [String] = []
        for row in summary {
            let panel = Panel(model: row.model, dataset: row.dataset, schedule: row.schedule)
            if !panels.contains(panel) { panels.append(panel) }
            if !criteria.contains(row.criterion) { criteria.append(row.criterion) }
        }
        criteria.sort()
        let columns = max(1, min(panels.count, 3))
        let rows = max(1, (panels.count + columns - 1) / columns)
        let width = Double(columns) * panelWidth, height = legendHeight + Double(rows) * panelHeight
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" \
            viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>

            """
        if panels.isEmpty {
            out += "<text x=\"20\" y=\"40\">no summary rows to plot</text>\n</svg>\n"
            return out
        }
        // Legend: one swatch per criterion, same colour in every panel.
        var x = 12.0
        for (i, criterion) in criteria.enumerated() {
            let colour = palette[i % palette.count]
            out += "<rect x=\"\(f(x))\" y=\"8\" width=\"26\" height=\"12\" fill=\"\(colour)\" fill-opacity=\"0.18\"/>"
            out += "<line x1=\"\(f(x))\" y1=\"14\" x2=\"\(f(x + 26))\" y2=\"14\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash(i))/>"
            out += "<text x=\"\(f(x + 32))\" y=\"18\">\(escape(criterion))</text>\n"
            x += 44 + Double(criterion.count) * 7
        }
        for (index, panel) in panels.enumerated() {
            let originX = Double(index % columns) * panelWidth
            let originY = legendHeight + Double(index / columns) * panelHeight
            let panelRows = summary.filter {
                $0.model == panel.model && $0.dataset == panel.dataset && $0.schedule == panel.schedule && $0.mean != nil
            }
            out += drawPanel(title: "\(panel.model) · \(panel.dataset) · \(panel.schedule)", rows: panelRows,
                             criteria: criteria, originX: originX, originY: originY)
        }
        out += "</svg>\n"
        return out
    }

    private static func drawPanel(title: String, rows: [SummaryRow], criteria: [String],
                                  originX: Double, originY: Double) -> String {
        let left = originX + margin.left, right = originX + panelWidth - margin.right
        let top = originY + margin.top, bottom = originY + panelHeight - margin.bottom
        var out = "<g>\n<text x=\"\(f((left + right) / 2))\" y=\"\(f(originY + 20))\" text-anchor=\"middle\" "
            + "font-weight=\"bold\">\(escape(title))</text>\n"
        let points = rows.compactMap { row -> (row: SummaryRow, density: Double)? in
            CanonicalNumber.parse(row.density).flatMap { $0 > 0 ? (row, $0) : nil }
        }
        guard !points.isEmpty else {
            return out + "<text x=\"\(f(left + 10))\" y=\"\(f(top + 20))\">no accuracies</text>\n</g>\n"
        }
        // x: log2 density, dense on the left.
        var maxLog = log2(points.map(\.density).max()!), minLog = log2(points.map(\.density).min()!)
        if maxLog - minLog < 1 { maxLog += 0.5; minLog -= 0.5 }
        let xOf = { (density: Double) in left + (maxLog - log2(density)) / (maxLog - minLog) * (right - left) }
        // y: accuracy over the means and bands, padded, on a round step.
        // With few seeds a t interval can reach past 0 or 1 (t = 12.7 for
        // n = 2); accuracy cannot, so bands are cut at [0, 1].
        func bandLow(_ row: SummaryRow) -> Double { max(0, min(1, row.ciLow ?? row.mean!)) }
        func bandHigh(_ row: SummaryRow) -> Double { max(0, min(1, row.ciHigh ?? row.mean!)) }
        let values = points.flatMap { [$0.row.mean!, bandLow($0.row), bandHigh($0.row)] }
        var low = values.min()!, high = values.max()!
        let spread = max(high - low, 0.01)
        low = max(0, low - spread * 0.08)
        high = min(1, high + spread * 0.08)
        if high <= low { high = low + 0.01 }
        let step = niceStep((high - low) / 5)
        low = (low / step).rounded(.down) * step
        high = (high / step).rounded(.up) * step
        let yOf = { (accuracy: Double) in bottom - (accuracy - low) / (high - low) * (bottom - top) }

        // Grid, ticks and labels.
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(right - left))\" height=\"\(f(bottom - top))\" fill=\"none\" stroke=\"#444\"/>\n"
        var tick = low
        while tick <= high + step / 2 {
            let y = yOf(tick)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label(tick, step: step))</text>\n"
            tick += step
        }
        let exponents = Array(Int(minLog.rounded(.up))...Int(maxLog.rounded(.down)))
        let stride = max(1, (exponents.count + 7) / 8)
        for (i, exponent) in exponents.reversed().enumerated() where i % stride == 0 {
            let density = pow(2, Double(exponent))
            let x = xOf(density)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(x))\" y=\"\(f(bottom + 16))\" text-anchor=\"middle\">\(percent(density))</text>\n"
        }
        out += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(bottom + 38))\" text-anchor=\"middle\">"
            + "weights remaining (log scale)</text>\n"
        out += "<text transform=\"translate(\(f(originX + 16)) \(f((top + bottom) / 2))) rotate(-90)\" "
            + "text-anchor=\"middle\">test accuracy (final, mean ± 95% CI)</text>\n"

        // Bands first, then lines and markers on top.
        for (i, criterion) in criteria.enumerated() {
            let series = points.filter { $0.row.criterion == criterion }.sorted { $0.density > $1.density }
            guard !series.isEmpty else { continue }
            let colour = palette[i % palette.count]
            let upper = series.map { "\(f(xOf($0.density))),\(f(yOf(bandHigh($0.row))))" }
            let lower = series.reversed().map { "\(f(xOf($0.density))),\(f(yOf(bandLow($0.row))))" }
            if series.count > 1 {
                out += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            let line = series.map { "\(f(xOf($0.density))),\(f(yOf($0.row.mean!)))" }
            out += "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash(i))/>\n"
            for point in series {
                let x = xOf(point.density)
                out += "<circle cx=\"\(f(x))\" cy=\"\(f(yOf(point.row.mean!)))\" r=\"3\" fill=\"\(colour)\">"
                    + "<title>\(escape(criterion)) at \(point.row.density): \(CSV.number(point.row.mean)) (n = \(point.row.n))</title></circle>"
                if series.count == 1, point.row.ciLow != nil {
                    out += "<line x1=\"\(f(x))\" y1=\"\(f(yOf(bandLow(point.row))))\" x2=\"\(f(x))\" "
                        + "y2=\"\(f(yOf(bandHigh(point.row))))\" stroke=\"\(colour)\"/>"
                }
                out += "\n"
            }
        }
        return out + "</g>\n"
    }

    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw { return factor * magnitude }
        return 10 * magnitude
    }

    private static func label(_ value: Double, step: Double) -> String {
        let decimals = max(0, Int((-log10(step)).rounded(.up)))
        return String(format: "%.\(decimals)f", value)
    }

    private static func percent(_ density: Double) -> String {
        let value = density * 100
        if value >= 10 { return CanonicalNumber.format((value * 10).rounded() / 10)! + "%" }
        return String(format: "%.2g", value) + "%"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
