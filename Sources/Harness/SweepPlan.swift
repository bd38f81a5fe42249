import Foundation
import Reports

/// The run list of the manifest a directory's sweep processes run,
/// `DIR/plan.json`: what `ticket status` counts as pending (a run not yet
/// started has no directory), and the identity every process joining the
/// directory must match (`DirectoryLock.join`).
public struct SweepPlan: Equatable, Sendable {
    /// One run of the plan.
    public struct Entry: Equatable, Sendable {
        public var hash: String
        /// Readable name, e.g. `lenet-300-100/mnist magnitude iterative seed 1`.
        public var label: String
        public var plannedEpochs: Int
    }

    public static let fileName = "plan.json"

    public var name: String
    public var entries: [Entry]

    /// The plan of `runs` (a manifest's expansion, in order) named `name`.
    public init(name: String, runs: [RunConfig]) {
        self.name = name
        entries = runs.map { Entry(hash: $0.hash, label: $0.displayName, plannedEpochs: $0.plannedEpochs) }
    }

    /// The SHA-256 of the run hashes in order: equal exactly when two
    /// manifests expand to the same runs in the same order (so `--shard`
    /// slices agree), whatever their formatting or name.
    public var identity: String {
        SHA256.hexDigest(of: entries.map(\.hash).joined(separator: "\n").utf8)
    }

    /// Canonical JSON, newline-terminated.
    public func encoded() -> String {
        CanonicalJSON.object([
            "name": .string(name),
            "identity": .string(identity),
            "runs": .array(entries.map {
                .object(["hash": .string($0.hash), "label": .string($0.label), "epochs": .number(Double($0.plannedEpochs))])
            }),
        ]).serialized() + "\n"
    }

    /// Reads a plan written by `encoded()`.
    public static func read(from url: URL) throws -> SweepPlan {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw FileError(url.path, "cannot read: \(error.localizedDescription)") }
        struct Stored: Decodable {
            struct Run: Decodable { var hash: String, label: String, epochs: Int }
            var name: String, identity: String, runs: [Run]
        }
        guard let stored = try? JSONDecoder().decode(Stored.self, from: data) else {
            throw FileError(url.path, "not a sweep plan (expected name, identity and runs)")
        }
        let plan = SweepPlan(name: stored.name, entries: stored.runs.map {
            Entry(hash: $0.hash, label: $0.label, plannedEpochs: $0.epochs)
        })
        guard plan.identity == stored.identity else { throw FileError(url.path, "identity does not match its runs") }
        return plan
    }

    private init(name: String, entries: [Entry]) {
        self.name = name
        self.entries = entries
    }
}

extension RunConfig {
    /// e.g. `lenet-300-100/mnist magnitude early-one-shot d=0.25 seed 1`.
    public var displayName: String {
        var text = "\(model)/\(dataset) \(criterionLabel) \(scheduleLabel)"
        if let density = schedule.targetDensity { text += " d=\(CSV.number(density))" }
        return text + " seed \(seeds.run)"
    }
}
