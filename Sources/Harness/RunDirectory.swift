import Foundation

/// The layout of one run's directory, `DIR/runs/<hash>/`:
///
/// - `config.json`: the canonical config (exactly the bytes that were hashed, plus a newline)
/// - executor files (checkpoints), whatever the executor keeps
/// - `rows.csv`, `layers.csv`: the run's rows of `runs.csv` and `layers.csv`
/// - `masks/round-R.mask`: each round's mask (`MaskSet` format)
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
    /// Written when the run failed (its error, host, pid, time); removed when it succeeds.
    public var failed: URL { url.appendingPathComponent("failed.json") }

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

    /// The content of `failed.json` for `error`.
    static func failureRecord(_ error: Error) -> String {
        let holder = HolderRecord.current(role: "failed")
        return CanonicalJSON.object([
            "error": .string("\(error)"), "host": .string(holder.host), "pid": .number(Double(holder.pid)),
            "at": .string(holder.since),
        ]).serialized() + "\n"
    }

    /// When the run last failed (`failed.json`'s modification time), `nil` if it has not.
    public var failureDate: Date? {
        (try? FileManager.default.attributesOfItem(atPath: failed.path))?[.modificationDate] as? Date
    }

    /// The recorded error of a failed run.
    public var failureText: String? {
        guard let data = try? Data(contentsOf: failed),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["error"] as? String
    }

    /// True when some run finished here (used by `report`, which has no manifest).
    public var hasMarker: Bool { FileManager.default.fileExists(atPath: done.path) }
}
