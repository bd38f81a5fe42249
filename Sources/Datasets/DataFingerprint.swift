/// What a run was trained and tested on, in a form that enters its hash:
/// a run finished on one CIFAR-10 training batch must never count as done
/// (or be averaged with) a run on all five.
///
/// The digests are MD5 over the decoded labels and pixels (not the files),
/// so the same examples give the same fingerprint whether they were read
/// from `.gz`, raw IDX or a `.tar.gz`; MD5 serves here as a checksum, not
/// as anything security-related.
public struct DataFingerprint: Hashable, Sendable, Codable {
    public struct Split: Hashable, Sendable, Codable {
        public var count: Int
        /// MD5 of the labels followed by the pixels, as 32 hex digits.
        public var digest: String
    }

    public var name: String
    /// `HxWxC`.
    public var shape: String
    public var classCount: Int
    public var train: Split
    public var test: Split
    /// The training split's partial-data note, if any.
    public var partialNote: String?

    /// Fingerprints `pair` as it will be used (after any `prefix`).
    public init(_ pair: DatasetPair) {
        func split(_ dataset: Dataset) -> Split {
            var md5 = MD5()
            dataset.labels.withUnsafeBytes { md5.update($0) }
            dataset.pixels.withUnsafeBytes { md5.update($0) }
            return Split(count: dataset.count, digest: md5.finalize())
        }
        name = pair.train.name
        shape = pair.train.shape.description
        classCount = pair.train.classCount
        train = split(pair.train)
        test = split(pair.test)
        partialNote = pair.train.partialNote
    }
}

/// How 8-bit pixels become network inputs.
public enum InputNormalization: String, Hashable, Sendable, Codable, CaseIterable {
    /// Per-channel standardisation with the training split's mean and
    /// standard deviation (`Normalization(computedFrom:)`).
    case standardized = "standard"
    /// `pixel / 255`, Frankle & Carbin's choice.
    case unitInterval = "unit"

    /// The normalisation for training on `train`.
    public func normalization(for train: Dataset) -> Normalization {
        switch self {
        case .standardized: return Normalization(computedFrom: train)
        case .unitInterval: return .unitInterval(channels: train.shape.channels)
        }
    }
}
