/// How a round ended.
public enum RoundStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case ok
    /// Some layer lost every weight: the network is cut. Still trained and
    /// evaluated, so the table shows what collapse costs.
    case collapsed
    /// The loss became NaN or infinite.
    case diverged
}

/// One row of results: a round of an iterative run, or the single pruned
/// training of a one-shot run (round 0 is always the dense network).
public struct RoundResult: Sendable, Hashable, Codable {
    public var round: Int
    public var requestedDensity: Double
    public var achievedDensity: Double
    public var layers: [LayerDensityRecord]
    /// Test accuracy after the last epoch of the round; `nil` when the round
    /// diverged (its last good epoch is not its result) or evaluated nothing.
    public var finalTestAccuracy: Double?
    /// The best per-epoch test accuracy of the round (the study's metric; it
    /// peeks at the test set, so it is reported separately, never chosen
    /// silently); `nil` when the round diverged.
    public var bestTestAccuracy: Double?
    /// Losses are `nil` when not finite or not measured.
    public var finalTestLoss: Double?
    public var finalTrainLoss: Double?
    public var epochs: Int
    public var status: RoundStatus
    public var wallSeconds: Double
    /// Scores that were NaN when this round's mask was chosen.
    public var nanScores: Int
    /// Where training diverged (status `diverged` only).
    public var divergence: Divergence?
}

/// Where a round's training loss stopped being finite.
public struct Divergence: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1-based epoch of the round.
    public var epoch: Int
    /// 1-based step within that epoch.
    public var step: Int
    /// The loss as text (`nan`, `inf`): JSON has no non-finite numbers.
    public var loss: String

    public init(epoch: Int, step: Int, loss: Double) {
        self.init(epoch: epoch, step: step, lossText: loss.isNaN ? "nan" : loss.isInfinite ? (loss > 0 ? "inf" : "-inf") : "\(loss)")
    }

    /// A position read back from a table, the loss as it was written.
    public init(epoch: Int, step: Int, lossText: String) {
        self.epoch = epoch
        self.step = step
        loss = lossText
    }

    public var description: String { "epoch \(epoch), step \(step): loss \(loss)" }
}

/// Requested vs achieved density of one layer, as recorded.
public struct LayerDensityRecord: Sendable, Hashable, Codable {
    public var name: String
    public var weights: Int
    public var remaining: Int
    public var requestedDensity: Double?

    public var achievedDensity: Double { weights == 0 ? 1 : Double(remaining) / Double(weights) }

    public init(_ layer: LayerDensity) {
        name = layer.name
        weights = layer.weights
        remaining = layer.remaining
        requestedDensity = layer.requestedDensity
    }

    public init(name: String, weights: Int, remaining: Int, requestedDensity: Double?) {
        self.name = name
        self.weights = weights
        self.remaining = remaining
        self.requestedDensity = requestedDensity
    }
}
