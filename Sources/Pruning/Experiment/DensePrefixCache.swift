import Foundation
import Networks

/// The dense training that several runs of a sweep share, kept so it is
/// trained once: round 0 of an iterative run and the dense epochs of an
/// early one-shot run depend only on the model, the data, the training
/// configuration and the seeds, not on the criterion, the control or the
/// target density. The Σ|∂L/∂w| of the data-dependent criterion is
/// collected during that training for every run (collecting it only reads
/// gradients, so it changes no number), so a magnitude run can hand its
/// dense round to a data-dependent one.
///
/// A run that takes a prefix from here produces exactly the numbers it would
/// have produced training it itself (training is deterministic); only its
/// wall time differs, and it reports the time the prefix took when trained.
/// Entries are dropped oldest first beyond `byteBudget`.
public final class DensePrefixCache {
    /// What a dense prefix leaves behind.
    struct Entry {
        /// Iterative round 0: the trained weights, the weights at the rewind
        /// step (late rewinding), and the round's result.
        var trainedWeights: NetworkSnapshot?
        var rewindWeights: NetworkSnapshot?
        var result: RoundResult?
        /// Early one-shot: the whole trainer after the dense epochs
        /// (weights, optimizer state, position, history).
        var trainer: Checkpoint?
        /// Σ|∂L/∂w| per prunable tensor over the prefix.
        var gradients: [[Float]]

        var bytes: Int {
            func size(_ snapshot: NetworkSnapshot?) -> Int {
                (snapshot?.values.values.reduce(0) { $0 + $1.count } ?? 0) + (snapshot?.masks.values.reduce(0) { $0 + $1.count } ?? 0)
            }
            let floats = size(trainedWeights) + size(rewindWeights) + gradients.reduce(0) { $0 + $1.count }
                + (trainer?.tensors.values.reduce(0) { $0 + $1.count } ?? 0)
            return 4 * floats
        }
    }

    /// Prefixes handed out and prefixes trained (for tests and benchmarks).
    public private(set) var hits = 0, misses = 0
    public var byteBudget: Int
    private var entries: [String: Entry] = [:]
    private var order: [String] = []

    /// `byteBudget`: how much memory the kept prefixes may take (4 GiB by default).
    public init(byteBudget: Int = 4 << 30) {
        self.byteBudget = byteBudget
    }

    /// The cache key of the dense prefix `kind` of `configuration`: everything
    /// a dense training depends on, and nothing else.
    static func key(_ configuration: ExperimentConfiguration, kind: String) -> String {
        struct Key: Encodable {
            var kind: String
            var model: String
            var initializer: Initializer
            var data: DataSpecification
            var training: TrainingConfiguration
            var seeds: RunSeeds
        }
        let key = Key(kind: kind, model: configuration.model, initializer: configuration.initializer,
                      data: configuration.data, training: configuration.training, seeds: configuration.seeds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every field is finite and encodable; a failure would only mean no sharing.
        return (try? String(decoding: encoder.encode(key), as: UTF8.self)) ?? UUID().uuidString
    }

    func entry(_ key: String) -> Entry? {
        guard let entry = entries[key] else { return nil }
        hits += 1
        return entry
    }

    func store(_ entry: Entry, as key: String) {
        misses += 1
        if entries[key] == nil { order.append(key) }
        entries[key] = entry
        var total = entries.values.reduce(0) { $0 + $1.bytes }
        while total > byteBudget, order.count > 1 {
            let oldest = order.removeFirst()
            total -= entries[oldest]?.bytes ?? 0
            entries[oldest] = nil
        }
    }
}
