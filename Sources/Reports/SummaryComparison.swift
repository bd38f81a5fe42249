import Foundation

/// A regression check of a candidate `summary.csv` against a baseline.
///
/// Rows are matched on their key (model, dataset, criterion, schedule,
/// density). A baseline row fails when the candidate lacks it, or when the
/// candidate's mean final accuracy differs from the baseline's by more than
/// `maxStandardErrors` standard errors.
///
/// The standard error is the baseline's, std/√n: the baseline is the
/// reference distribution, and a candidate with a noisier sample should not
/// loosen its own test. When the baseline has no spread (n = 1, or std = 0,
/// as with bit-reproducible runs on the same machine), any change larger than
/// `exactTolerance` fails: the runs are expected to be identical. Candidate
/// rows without a baseline row are reported but do not fail (new criteria or
/// densities need a baseline update, not a red build).
public struct SummaryComparison: Sendable {
    /// A failing or informational difference.
    public struct Finding: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: Equatable, Sendable {
            case missingInCandidate
            case extraInCandidate
            /// The mean moved by `standardErrors` (nil when the baseline has no spread).
            case moved(baseline: Double, candidate: Double, standardErrors: Double?)
            /// One side has a mean and the other has none.
            case meanMissing
        }

        public var key: [String]
        public var kind: Kind

        public var description: String {
            let where_ = key.joined(separator: ", ")
            switch kind {
            case .missingInCandidate: return "\(where_): row missing in candidate"
            case .extraInCandidate: return "\(where_): row only in candidate (not compared)"
            case let .moved(baseline, candidate, standardErrors):
                let b = CSV.number(baseline), c = CSV.number(candidate), d = CSV.number(candidate - baseline)
                let se = standardErrors.map { " = \(String(format: "%.2f", $0)) standard errors" }
                    ?? " (baseline has no spread: an exact match is required)"
                return "\(where_): mean \(b) -> \(c), change \(d)\(se)"
            case .meanMissing: return "\(where_): mean present on one side only"
            }
        }
    }

    /// Findings that fail the comparison.
    public var failures: [Finding]
    /// Findings that are only reported.
    public var notes: [Finding]

    public var passed: Bool { failures.isEmpty }

    /// Changes at most this large count as equal when the baseline has no
    /// spread (covers the last digit of a printed mean, nothing more).
    public static let exactTolerance = 1e-9

    /// Compares two parsed summary tables.
    public init(baseline: [SummaryRow], candidate: [SummaryRow], maxStandardErrors: Double = 3) {
        var candidateByKey: [[String]: SummaryRow] = [:]
        for row in candidate { candidateByKey[row.key] = row }
        let baselineKeys = Set(baseline.map(\.key))
        failures = []
        notes = candidate.filter { !baselineKeys.contains($0.key) }.map { Finding(key: $0.key, kind: .extraInCandidate) }
        for base in baseline {
            guard let other = candidateByKey[base.key] else {
                failures.append(Finding(key: base.key, kind: .missingInCandidate))
                continue
            }
            switch (base.mean, other.mean) {
            case (nil, nil):
                continue
            case let (b?, c?):
                let change = abs(c - b)
                if let std = base.std, std > 0, base.n >= 2 {
                    let se = std / Double(base.n).squareRoot()
                    if change > maxStandardErrors * se {
                        failures.append(Finding(key: base.key, kind: .moved(baseline: b, candidate: c, standardErrors: change / se)))
                    }
                } else if change > SummaryComparison.exactTolerance {
                    failures.append(Finding(key: base.key, kind: .moved(baseline: b, candidate: c, standardErrors: nil)))
                }
            default:
                failures.append(Finding(key: base.key, kind: .meanMissing))
            }
        }
    }

    /// Reads both files (strict CSV, summary header) and compares them.
    /// - Throws: `CSVError` for unreadable tables, `TableError` for a key
    ///   that appears twice in one file.
    public static func compareFiles(baseline: URL, candidate: URL, maxStandardErrors: Double) throws -> SummaryComparison {
        func load(_ url: URL) throws -> [SummaryRow] {
            let rows = try CSVTable.read(url).rows(SummaryRow.self)
            var seen = Set<[String]>()
            for row in rows where !seen.insert(row.key).inserted {
                throw TableError(file: url.path, reason: "row \(row.key.joined(separator: ", ")) appears twice")
            }
            return rows
        }
        return SummaryComparison(baseline: try load(baseline), candidate: try load(candidate),
                                 maxStandardErrors: maxStandardErrors)
    }
}
