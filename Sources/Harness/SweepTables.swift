import Foundation
import Reports

/// The four tables of a sweep, built from the run directories alone (no
/// manifest needed), so `ticket report` can rebuild or merge them at any time
/// and the sweep itself writes exactly what `report` would.
public struct SweepTables: Equatable, Sendable {
    public var runs: [RunRow]
    public var layers: [LayerRow]
    public var summary: [SummaryRow]
    public var overlap: [OverlapRow]
    /// Run directories without a completion marker (interrupted or running); ignored.
    public var incompleteRuns: Int

    /// File names inside the output directory.
    public static let runsFile = "runs.csv", layersFile = "layers.csv", summaryFile = "summary.csv",
                      overlapFile = "overlap.csv", plotFile = "accuracy.svg", workbookFile = "tables.xlsx"

    /// Reads every complete run under `outputs[i]/runs/`. A run present in
    /// several directories (same hash) is taken from the first. Runs are
    /// ordered by model, dataset, schedule, criterion, seed, then density
    /// from dense to sparse, so the tables do not depend on which machine or
    /// shard finished first.
    public static func collect(from outputs: [URL]) throws -> SweepTables {
        struct Run {
            var directory: RunDirectory
            var rows: [RunRow]
            var layers: [LayerRow]
        }
        var runs: [String: Run] = [:]
        var incomplete = 0
        for output in outputs {
            let runsDirectory = output.appendingPathComponent("runs")
            guard FileManager.default.fileExists(atPath: runsDirectory.path) else {
                throw TableError(file: runsDirectory.path, reason: "no runs directory; is this a sweep output directory?")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: runsDirectory.path).sorted()
            for name in names where !name.hasPrefix(".") && runs[name] == nil {
                let directory = RunDirectory(runsDirectory.appendingPathComponent(name))
                guard directory.hasMarker else {
                    incomplete += 1
                    continue
                }
                let rows = try CSVTable.read(directory.rows).rows(RunRow.self)
                guard !rows.isEmpty else { throw TableError(file: directory.rows.path, reason: "a finished run has no rows") }
                runs[name] = Run(directory: directory, rows: rows, layers: try CSVTable.read(directory.layers).rows(LayerRow.self))
            }
        }
        let ordered = runs.values.sorted { a, b in
            let x = a.rows[0], y = b.rows[0]
            let keyX = (x.model, x.dataset, x.schedule, x.criterion), keyY = (y.model, y.dataset, y.schedule, y.criterion)
            if keyX != keyY { return keyX < keyY }
            if x.seed != y.seed { return x.seed < y.seed }
            let dx = a.rows.last!.densityRequested, dy = b.rows.last!.densityRequested
            if dx != dy { return dx > dy }
            return a.directory.url.lastPathComponent < b.directory.url.lastPathComponent
        }
        let runRows = ordered.flatMap(\.rows)
        return SweepTables(
            runs: runRows,
            layers: ordered.flatMap(\.layers),
            summary: try Summary.aggregate(runRows),
            overlap: try overlaps(ordered.map { ($0.directory, $0.rows) }),
            incompleteRuns: incomplete)
    }

    /// Jaccard overlap between every pair of criteria that share model,
    /// dataset, schedule, seed and requested density, from the stored masks.
    /// Density 1 (dense round 0) is skipped: every mask is full there.
    private static func overlaps(_ runs: [(RunDirectory, [RunRow])]) throws -> [OverlapRow] {
        struct Key: Hashable {
            var model, dataset, schedule: String
            var seed: UInt64
            var density: Double
        }
        var groups: [Key: [(criterion: String, file: URL)]] = [:]
        for (directory, rows) in runs {
            for row in rows where row.densityRequested < 1 {
                let file = directory.mask(round: row.round)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                let key = Key(model: row.model, dataset: row.dataset, schedule: row.schedule, seed: row.seed,
                              density: row.densityRequested)
                groups[key, default: []].append((row.criterion, file))
            }
        }
        let keys = groups.keys.sorted {
            ($0.model, $0.dataset, $0.schedule) != ($1.model, $1.dataset, $1.schedule)
                ? ($0.model, $0.dataset, $0.schedule) < ($1.model, $1.dataset, $1.schedule)
                : $0.seed != $1.seed ? $0.seed < $1.seed : $0.density > $1.density
        }
        var result: [OverlapRow] = []
        for key in keys {
            // One group's masks at a time: a study-scale sweep's masks need not fit in memory together.
            let members = groups[key]!.sorted { $0.criterion < $1.criterion }
            guard members.count >= 2 else { continue }
            let masks = try members.map { try MaskSet(decoding: Data(contentsOf: $0.file), file: $0.file.path) }
            for i in 0..<members.count {
                for j in (i + 1)..<members.count {
                    guard let overlap = MaskOverlap(masks[i], masks[j]) else {
                        throw TableError(file: members[j].file.path,
                                         reason: "mask layers differ from \(members[i].file.path) for the same model")
                    }
                    result.append(OverlapRow(
                        model: key.model, dataset: key.dataset, schedule: key.schedule, seed: key.seed,
                        density: key.density, criterionA: members[i].criterion, criterionB: members[j].criterion,
                        keptA: overlap.keptA, keptB: overlap.keptB, keptBoth: overlap.keptBoth, jaccard: overlap.jaccard))
                }
            }
        }
        return result
    }

    /// Writes the four CSVs, `tables.xlsx` (the same tables as one workbook)
    /// and `accuracy.svg` into `output`, each atomically.
    public func write(to output: URL) throws {
        try AtomicFile.write(CSV.document(runs), to: output.appendingPathComponent(SweepTables.runsFile))
        try AtomicFile.write(CSV.document(layers), to: output.appendingPathComponent(SweepTables.layersFile))
        try AtomicFile.write(CSV.document(summary), to: output.appendingPathComponent(SweepTables.summaryFile))
        try AtomicFile.write(CSV.document(overlap), to: output.appendingPathComponent(SweepTables.overlapFile))
        let workbookURL = output.appendingPathComponent(SweepTables.workbookFile)
        let workbookBytes: Data
        do {
            workbookBytes = try workbook().xlsx()
        } catch {
            throw FileError(workbookURL.path, "cannot build the workbook: \(error)")
        }
        try AtomicFile.write(workbookBytes, to: workbookURL)
        try AtomicFile.write(AccuracyPlot.svg(summary), to: output.appendingPathComponent(SweepTables.plotFile))
    }
}

extension SweepTables {
    /// The four tables as one spreadsheet workbook (`tables.xlsx`): sheets
    /// runs, summary, layers, overlap, named after the CSV files and holding
    /// the same fields, numbers as numbers in any locale.
    public func workbook() -> Workbook {
        Workbook(sheets: [
            Worksheet(file: Self.runsFile, rows: runs), Worksheet(file: Self.summaryFile, rows: summary),
            Worksheet(file: Self.layersFile, rows: layers), Worksheet(file: Self.overlapFile, rows: overlap),
        ])
    }
}
