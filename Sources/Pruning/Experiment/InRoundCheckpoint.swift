import Foundation
import Networks

/// Where a run stands inside a round: written at a stop request (SIGTERM)
/// and every few minutes, so an interrupted round resumes at the step it
/// reached instead of restarting, with bit-identical results.
///
/// Holds the round's trainer checkpoint (weights, masks, optimizer slots,
/// position, the epoch's running sums) plus what the round's pipeline
/// accumulates beside the trainer, stored as extra checkpoint tensors:
/// `accumulated/<tensor>` (the data-dependent criterion's Σ|∂L/∂w|) and
/// `rewind/<tensor>` (a late-rewind capture already taken). One-shot runs
/// also record whether they have pruned yet and the selection's figures.
///
/// On disk: the 8 bytes `TBROUND1`, an 8-byte little-endian length, a JSON
/// header, then the trainer checkpoint's own bytes.
public struct InRoundCheckpoint: Sendable {
    public struct Header: Sendable, Codable, Equatable {
        public var round: Int
        /// Wall time the round had run before this checkpoint (the round's
        /// `wallSeconds` adds the time after the resume).
        public var elapsedSeconds: Double
        /// One-shot runs: the selection, once pruned (nil before).
        public var selection: Selection?
    }

    /// A one-shot run's pruning, for its row.
    public struct Selection: Sendable, Codable, Equatable {
        public var layers: [LayerDensityRecord]
        public var requestedDensity: Double
        public var collapsed: Bool
        public var nanScores: Int
    }

    public var header: Header
    public var trainer: Checkpoint

    private static let magic = "TBROUND1"

    public init(header: Header, trainer: Checkpoint) {
        self.header = header
        self.trainer = trainer
    }

    public func encoded() throws -> Data {
        var data = try FramedFile.frame(magic: Self.magic, header: header)
        data.append(try trainer.encoded())
        return data
    }

    public init(decoding data: Data, source: String) throws {
        let bytes = [UInt8](data)
        let end: Int
        (header, end) = try FramedFile.unframe(bytes, magic: Self.magic, as: Header.self, source: source,
                                               kind: "TicketBench in-round checkpoint")
        trainer = try Checkpoint(decoding: Data(bytes[end...]), source: source)
    }

    /// The extra tensors under `prefix` (`accumulated/`, `rewind/`), by tensor name.
    func tensors(prefixed prefix: String) -> [String: [Float]] {
        trainer.tensors.reduce(into: [:]) { result, entry in
            if entry.key.hasPrefix(prefix) { result[String(entry.key.dropFirst(prefix.count))] = entry.value }
        }
    }
}

/// The experiment stopped because `stopRequest` was set; what it needs to
/// resume was handed to `onInRoundCheckpoint` first (when the phase allows;
/// otherwise the round resumes from the last checkpoint written).
public struct ExperimentInterrupted: Error, CustomStringConvertible, Sendable {
    public var description: String { "stopped on request" }
}

/// Calls `save` from the training loop when `interval` has passed since the
/// last save (one clock read per step). Last in a trainer's callbacks, so
/// every other callback has seen the step first. A failed save is kept for
/// the experiment to rethrow after training.
final class PeriodicCheckpoint: TrainingCallback {
    let interval: Duration
    let save: () throws -> Void
    private var last = ContinuousClock.now
    private(set) var failure: Error?

    init(interval: Duration, save: @escaping () throws -> Void) {
        self.interval = interval
        self.save = save
    }

    func trainer(_ trainer: Trainer, didStep step: StepInfo) {
        let now = ContinuousClock.now
        guard failure == nil, now - last >= interval else { return }
        last = now
        do { try save() } catch { failure = error }
    }
}
