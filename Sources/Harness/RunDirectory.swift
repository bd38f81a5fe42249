import Foundation
import Reports

/// The layout of one run's directory, `DIR/runs/<hash>/`:
///
/// - `config.json`: the canonical config (exactly the bytes that were hashed, plus a newline)
/// - executor files (checkpoints), whatever the executor keeps
/// - `rows.csv`, `layers.csv`: the run's rows of `runs.csv` and `layers.csv`
/// - `masks/round-R.mask`: each round's mask (`MaskSet` format)
/// - `failed.txt`: the error of the last failed attempt, if it failed
/// - `done.json`: written last; its presence (with the right hash) is what
///   makes the run complete. Every file is written atomically, so a crash
///   leaves either no marker or a complete run.
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) {
        self.url = url
    }

    /// The directory of `config` under the sweep's output directory.
    public init(output: URL, config: RunConfig) {
        url = output.appendingPathComponent("runs").appendingPathComponent(config.hash)
    }

    public var config: URL { url.appendingPathComponent("config.json") }
    public var rows: URL { url.appendingPathComponent("rows.csv") }
    public var layers: URL { url.appendingPathComponent("layers.csv") }
    public var masks: URL { url.appendingPathComponent("masks") }
    public var done: URL { url.appendingPathComponent("done.json") }
    /// Why the run's last attempt failed (removed when it completes); a
    /// failed run is retried by the next sweep.
    public var failure: URL { url.appendingPathComponent("failed.txt") }

    public func mask(round: Int) -> URL { masks.appendingPathComponent("round-\(round).mask") }

    /// The marker's content for `config`.
    static func marker(for config: RunConfig) -> String {
        CanonicalJSON.object(["configHash": .string(config.fullHash)]).serialized() + "\n"
    }

    /// True when the run finished: the marker exists and names this config.
    public func isComplete(for config: RunConfig) -> Bool {
        guard let text = try? String(contentsOf: done, encoding: .utf8) else { return false }
        return text == RunDirectory.marker(for: config)
    }

    /// When the run last failed (`failed.txt`'s modification time), `nil` if it has not.
    public var failureDate: Date? {
        (try? FileManager.default.attributesOfItem(atPath: failure.path))?[.modificationDate] as? Date
    }

    /// The recorded error of a failed run.
    public var failureText: String? {
        (try? String(contentsOf: failure, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// True when some run finished here (used by `report`, which has no manifest).
    public var hasMarker: Bool { FileManager.default.fileExists(atPath: done.path) }
}
