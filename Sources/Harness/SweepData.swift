import Datasets
import Foundation
import Reports
import Networks
import Pruning

/// The data sets of a sweep, loaded once before anything is trained: a
/// manifest naming an absent data set, or a model that does not fit a data
/// set's shape, is refused as `FILE: datasets[i]: reason` before a single
/// run starts; and every run's hash gets the fingerprint of the data it
/// will actually see.
public struct SweepData: @unchecked Sendable {
    /// As loaded, by catalogue name (before any `trainExamples` cut).
    public private(set) var pairs: [String: DatasetPair]
    /// Warnings to show once (a partial training set).
    public private(set) var notes: [String]
    private var fingerprintCache: [FingerprintKey: DataFingerprint] = [:]

    private struct FingerprintKey: Hashable {
        var dataset: String
        var trainExamples: Int?
    }

    public init(pairs: [String: DatasetPair]) {
        self.pairs = pairs
        notes = pairs.keys.sorted().compactMap { name in pairs[name]!.train.partialNote.map { "\(name): \($0)" } }
    }

    /// Loads every data set `manifest` names and checks every model against
    /// its shape; `file` labels errors.
    public static func load(for manifest: SweepManifest, file: String, locator: DataLocator) throws -> SweepData {
        var pairs: [String: DatasetPair] = [:]
        for (i, name) in manifest.datasets.enumerated() {
            do {
                pairs[name] = try locator.load(named: name)
            } catch {
                throw ManifestError(file: file, path: "datasets[\(i)]", reason: .invalidValue("data set \"\(name)\" cannot be loaded: \(error)"))
            }
        }
        for (i, name) in manifest.datasets.enumerated() {
            let train = pairs[name]!.train
            let shape = FeatureShape(channels: train.shape.channels, height: train.shape.height, width: train.shape.width)
            for (j, model) in manifest.models.enumerated() {
                do {
                    _ = try ModelRegistry.make(model, inputShape: shape, classCount: train.classCount, seed: 0)
                } catch {
                    throw ManifestError(file: file, path: "models[\(j)]", reason: .invalidValue(
                        "model \"\(model)\" does not fit datasets[\(i)] \"\(name)\" (\(train.shape), \(train.classCount) classes): \(error)"))
                }
            }
        }
        return SweepData(pairs: pairs)
    }

    /// The data as `specification` uses it.
    public func prepared(_ specification: DataSpecification) throws -> DatasetPair {
        guard let pair = pairs[specification.dataset] else {
            throw FileError(specification.dataset, "data set not loaded for this sweep")
        }
        return specification.prepare(pair)
    }

    /// The fingerprint of the data as `specification` uses it (computed once per data set and cut).
    public mutating func fingerprint(_ specification: DataSpecification) throws -> DataFingerprint {
        let key = FingerprintKey(dataset: specification.dataset, trainExamples: specification.trainExamples)
        if let known = fingerprintCache[key] { return known }
        let fingerprint = DataFingerprint(try prepared(specification))
        fingerprintCache[key] = fingerprint
        return fingerprint
    }

    /// Fingerprints for `manifest.expand(data:)`.
    public mutating func fingerprints(for manifest: SweepManifest) throws -> [String: DataFingerprint] {
        var result: [String: DataFingerprint] = [:]
        for name in manifest.datasets {
            result[name] = try fingerprint(DataSpecification(dataset: name, trainExamples: manifest.training.trainExamples,
                                                             normalization: manifest.training.normalization))
        }
        return result
    }
}
