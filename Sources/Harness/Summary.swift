/// Why tables could not be aggregated or compared.
public struct TableError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

/// Builds `summary.csv` from `runs.csv` rows.
public enum Summary {
    /// The criterion every other one is compared with.
    public static let baselineCriterion = "magnitude"

    /// One row per (model, dataset, criterion, schedule, requested density),
    /// over seeds. Groups are matched on the requested density in canonical
    /// form (`CanonicalNumber`), so the key is exact text, never a float
    /// compared with a tolerance. Every run with a final accuracy counts,
    /// collapsed ones included (collapse is a result, and is also counted in
    /// `n_collapsed`). The difference to `magnitude` uses the magnitude row
    /// with the same model, dataset, schedule and density. When both rows
    /// have final accuracies for exactly the same seeds, the runs are paired
    /// (a seed fixes initialisation and data order for every criterion), so
    /// the interval is a paired t; otherwise it is Welch's. Rows are sorted by model, dataset, schedule, criterion,
    /// then density from dense to sparse.
    ///
    /// - Throws: `TableError` when one seed appears twice in a group (the
    ///   statistics would silently count one training twice).
    public static func aggregate(_ rows: [RunRow], file: String = "runs.csv") throws -> [SummaryRow] {
        struct Key: Hashable {
            var model, dataset, criterion, schedule, density: String
        }
        var groups: [Key: [RunRow]] = [:]
        var densityValue: [String: Double] = [:]
        for row in rows {
            let density = CSV.number(row.densityRequested)
            densityValue[density] = row.densityRequested
            let key = Key(model: row.model, dataset: row.dataset, criterion: row.criterion, schedule: row.schedule,
                          density: density)
            if groups[key, default: []].contains(where: { $0.seed == row.seed }) {
                throw TableError(file: file, reason: "seed \(row.seed) appears twice for \(row.model), \(row.dataset), "
                                 + "\(row.criterion), \(row.schedule), density \(density)")
            }
            groups[key, default: []].append(row)
        }
        let keys = groups.keys.sorted {
            ($0.model, $0.dataset, $0.schedule, $0.criterion) != ($1.model, $1.dataset, $1.schedule, $1.criterion)
                ? ($0.model, $0.dataset, $0.schedule, $0.criterion) < ($1.model, $1.dataset, $1.schedule, $1.criterion)
                : densityValue[$0.density]! > densityValue[$1.density]!
        }
        func finals(_ key: Key) -> [Double] {
            // Seed order, so the sums (and the last bits of the mean) do not
            // depend on the order the runs finished in.
            groups[key]!.sorted { $0.seed < $1.seed }.compactMap(\.testAccuracyFinal).filter(\.isFinite)
        }
        return keys.map { key in
            let group = groups[key]!.sorted { $0.seed < $1.seed }
            let values = finals(key)
            let interval = Statistics.confidenceInterval(values)
            var row = SummaryRow(
                model: key.model, dataset: key.dataset, criterion: key.criterion, schedule: key.schedule,
                density: key.density, n: values.count, mean: Statistics.mean(values),
                std: Statistics.standardDeviation(values), ciLow: interval?.lowerBound, ciHigh: interval?.upperBound,
                collapsed: group.filter { $0.status == .collapsed }.count,
                diverged: group.filter { $0.status == .diverged }.count,
                bestMean: Statistics.mean(group.compactMap(\.testAccuracyBest).filter(\.isFinite)),
                densityAchievedMean: Statistics.mean(group.map(\.densityAchieved)))
            var baselineKey = key
            baselineKey.criterion = baselineCriterion
            if key.criterion != baselineCriterion, groups[baselineKey] != nil,
               let difference = difference(group, groups[baselineKey]!) {
                row.diffVsMagnitude = difference.difference
                row.diffCILow = difference.interval?.lowerBound
                row.diffCIHigh = difference.interval?.upperBound
            }
            return row
        }
    }

    /// Paired by seed when both groups cover the same seeds, Welch otherwise.
    private static func difference(_ group: [RunRow], _ baseline: [RunRow]) -> Statistics.Difference? {
        func bySeed(_ rows: [RunRow]) -> [UInt64: Double] {
            rows.reduce(into: [:]) { result, row in
                if let value = row.testAccuracyFinal, value.isFinite { result[row.seed] = value }
            }
        }
        let candidate = bySeed(group), reference = bySeed(baseline)
        let seeds = candidate.keys.sorted()
        if seeds.count >= 2, seeds == reference.keys.sorted() {
            return Statistics.pairedDifference(seeds.map { candidate[$0]! }, seeds.map { reference[$0]! })
        }
        return Statistics.welchDifference(seeds.map { candidate[$0]! }, reference.keys.sorted().map { reference[$0]! })
    }
}
