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

    /// One row per (setup, criterion, requested density), over seeds: the
    /// setup (`RunRow.setupHash`) is everything but the seeds and the
    /// criterion, so runs of two different training setups written to one
    /// directory are never averaged together. Groups are matched on the
    /// requested density in canonical form (`CanonicalNumber`), so the key is
    /// exact text, never a float compared with a tolerance.
    ///
    /// Every run with a final accuracy counts, collapsed ones included
    /// (collapse is a result, and is also counted in `n_collapsed`). A
    /// diverged run has no accuracy: it is counted in `n_diverged` and left
    /// out of the mean, the interval and the difference. The interval of the
    /// mean is Student's t, clipped to [0, 1] (an accuracy cannot leave it;
    /// an interval that reaches a bound says n is too small for the spread).
    ///
    /// The difference to `magnitude` uses the magnitude row of the same
    /// setup and density. When both rows have final accuracies for exactly
    /// the same seeds, the runs are paired (a seed fixes initialisation and
    /// data order for every criterion), so the interval is a paired t;
    /// otherwise it is Welch's; `diff_method` says which. Rows are sorted by
    /// model, dataset, schedule, criterion, then density from dense to sparse.
    ///
    /// - Throws: `TableError` when one seed appears twice in a group (the
    ///   statistics would silently count one training twice).
    public static func aggregate(_ rows: [RunRow], file: String = "runs.csv") throws -> [SummaryRow] {
        struct Key: Hashable {
            var model, dataset, criterion, schedule, density, setup, criterionHash: String
        }
        var groups: [Key: [RunRow]] = [:]
        var densityValue: [String: Double] = [:]
        for row in rows {
            let density = CSV.number(row.densityRequested)
            densityValue[density] = row.densityRequested
            let key = Key(model: row.model, dataset: row.dataset, criterion: row.criterion, schedule: row.schedule,
                          density: density, setup: row.setupHash, criterionHash: row.criterionHash)
            if groups[key, default: []].contains(where: { $0.seed == row.seed }) {
                throw TableError(file: file, reason: "seed \(row.seed) appears twice for \(row.model), \(row.dataset), "
                                 + "\(row.criterion), \(row.schedule), density \(density)")
            }
            groups[key, default: []].append(row)
        }
        let keys = groups.keys.sorted {
            let a = [$0.model, $0.dataset, $0.schedule, $0.criterion], b = [$1.model, $1.dataset, $1.schedule, $1.criterion]
            if a != b { return a.lexicographicallyPrecedes(b) }
            if $0.density != $1.density { return densityValue[$0.density]! > densityValue[$1.density]! }
            return ($0.setup, $0.criterionHash) < ($1.setup, $1.criterionHash)
        }
        return keys.map { key in
            // Seed order, so the sums (and the last bits of the mean) do not
            // depend on the order the runs finished in.
            let group = groups[key]!.sorted { $0.seed < $1.seed }
            let counted = group.filter { $0.status != .diverged }
            let values = counted.compactMap(\.testAccuracyFinal).filter(\.isFinite)
            let interval = Statistics.confidenceInterval(values).map { max($0.lowerBound, 0)...min($0.upperBound, 1) }
            var row = SummaryRow(
                model: key.model, dataset: key.dataset, criterion: key.criterion, schedule: key.schedule,
                density: key.density, n: values.count, mean: Statistics.mean(values),
                std: Statistics.standardDeviation(values), ciLow: interval?.lowerBound, ciHigh: interval?.upperBound,
                collapsed: group.filter { $0.status == .collapsed }.count,
                diverged: group.filter { $0.status == .diverged }.count,
                bestMean: Statistics.mean(counted.compactMap(\.testAccuracyBest).filter(\.isFinite)),
                densityAchievedMean: Statistics.mean(group.map(\.densityAchieved)),
                setupHash: key.setup)
            let baselines = groups.keys.filter {
                $0.criterion == baselineCriterion && $0.setup == key.setup && $0.density == key.density
            }
            // Two criteria labelled "magnitude" in one setup: which one is
            // the baseline is not ours to guess, so no difference is given.
            if key.criterion != baselineCriterion, baselines.count == 1,
               let difference = difference(counted, groups[baselines[0]]!.filter { $0.status != .diverged }) {
                row.diffVsMagnitude = difference.difference
                row.diffCILow = difference.interval?.lowerBound
                row.diffCIHigh = difference.interval?.upperBound
                row.diffMethod = difference.method
            }
            return row
        }
    }

    /// Paired by seed when both groups cover the same seeds, Welch otherwise.
    private static func difference(_ group: [RunRow], _ baseline: [RunRow])
        -> (difference: Double, interval: ClosedRange<Double>?, method: SummaryRow.DifferenceMethod)? {
        func bySeed(_ rows: [RunRow]) -> [UInt64: Double] {
            rows.reduce(into: [:]) { result, row in
                if let value = row.testAccuracyFinal, value.isFinite { result[row.seed] = value }
            }
        }
        let candidate = bySeed(group), reference = bySeed(baseline)
        let seeds = candidate.keys.sorted()
        if seeds.count >= 2, seeds == reference.keys.sorted() {
            return Statistics.pairedDifference(seeds.map { candidate[$0]! }, seeds.map { reference[$0]! })
                .map { ($0.difference, $0.interval, .paired) }
        }
        return Statistics.welchDifference(seeds.map { candidate[$0]! }, reference.keys.sorted().map { reference[$0]! })
            .map { ($0.difference, $0.interval, .welch) }
    }
}
