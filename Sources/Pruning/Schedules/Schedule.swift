/// When and how much a run prunes: iterative rounds, one shot after some
/// dense epochs, one shot at initialisation... One kind is one type conforming
/// to `ScheduleDefinition` in its own file plus one line in
/// `ScheduleRegistry.all`; the manifest, the hash, the tables and the
/// experiment take everything else from it.
public protocol ScheduleDefinition: Sendable {
    /// The manifest's `kind`, e.g. `"iterative"`.
    static var kind: String { get }
    /// The numbers a manifest gives for this kind (besides `kind` and `label`).
    static var parameters: [ScheduleParameter] { get }
    /// Reads validated values (every declared parameter present).
    init(_ values: ScheduleValues)

    /// The rounds a run reports, in order.
    var reportedRounds: ClosedRange<Int> { get }
    /// The density requested after `round` rounds of pruning.
    func requestedDensity(afterRound round: Int) -> Double
    /// Epochs a whole run trains, given the epochs of one round.
    func plannedEpochs(epochsPerRound: Int) -> Int
    /// Why this schedule cannot run `criterion` with `epochsPerRound`, if it cannot.
    func problem(with criterion: PruningCriterion, epochsPerRound: Int) -> String?
    /// Runs the schedule (or its remainder after `checkpoint`) through the experiment's pipeline.
    func run(_ experiment: PruningExperiment, resumingFrom checkpoint: ExperimentCheckpoint?) throws -> [RoundResult]
}

/// One number a schedule takes.
public struct ScheduleParameter: Sendable {
    public var name: String
    public var range: ClosedRange<Double>
    /// Whether only whole numbers are allowed.
    public var integer: Bool
    /// `nil`: the manifest must give it.
    public var defaultValue: Double?
    /// In a manifest, a list under this key gives one run per value
    /// (`"densities": [0.5, 0.25]` for `density`).
    public var listKey: String?

    /// How the allowed values read in a message, e.g. `(0, 1)`.
    public var rule: String

    public init(_ name: String, in range: ClosedRange<Double>, _ rule: String, integer: Bool = false,
                default value: Double? = nil, listKey: String? = nil) {
        self.name = name
        self.range = range
        self.rule = rule
        self.integer = integer
        defaultValue = value
        self.listKey = listKey
    }

    /// Why `value` is not allowed, or `nil`: `rate 1.0 is outside (0, 1)`.
    public func problem(with value: Double) -> String? {
        if integer, value.rounded() != value { return "\(name) \(value) is not an integer" }
        if !range.contains(value) { return "\(name) \(value) is outside \(rule)" }
        return nil
    }
}

/// A schedule's numbers by parameter name.
public typealias ScheduleValues = [String: Double]

/// A schedule as configurations hold it: its kind and numbers. Encodes as
/// `{"kind": "iterative", "rate": 0.5, "rounds": 7, "rewindIteration": 0}`.
public struct PruningSchedule: Sendable, Hashable, Codable {
    public let kind: String
    public let values: ScheduleValues

    /// A schedule of a registered kind; throws `PruningError.invalidAmount`
    /// naming the parameter when a value is missing or out of range.
    public init(kind: String, values: ScheduleValues) throws {
        guard let type = ScheduleRegistry.definition(kind) else {
            throw PruningError.invalidAmount("unknown schedule kind \"\(kind)\"; known: \(ScheduleRegistry.kinds.joined(separator: ", "))")
        }
        var resolved: ScheduleValues = [:]
        for parameter in type.parameters {
            guard let value = values[parameter.name] ?? parameter.defaultValue else {
                throw PruningError.invalidAmount("\(kind) schedule needs \(parameter.name)")
            }
            if let problem = parameter.problem(with: value) {
                throw PruningError.invalidAmount("\(kind) schedule: \(problem)")
            }
            resolved[parameter.name] = value
        }
        if let unknown = values.keys.sorted().first(where: { resolved[$0] == nil }) {
            throw PruningError.invalidAmount("\(kind) schedule takes no \(unknown)")
        }
        self.kind = kind
        self.values = resolved
    }

    /// The behaviour of this schedule's kind.
    public var definition: ScheduleDefinition {
        // `init` only accepts registered kinds with valid values.
        ScheduleRegistry.definition(kind)!.init(values)
    }

    /// The manifest's word for this kind.
    public var name: String { kind }
    public var reportedRounds: ClosedRange<Int> { definition.reportedRounds }
    /// Everyone who needs it (experiment, tables) calls this, so the value is bit-identical.
    public func requestedDensity(afterRound round: Int) -> Double { definition.requestedDensity(afterRound: round) }
    public func plannedEpochs(epochsPerRound: Int) -> Int { definition.plannedEpochs(epochsPerRound: epochsPerRound) }
    /// The one target density of a one-shot schedule, `nil` for iterative ones.
    public var targetDensity: Double? { values["density"] }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var values: ScheduleValues = [:]
        for key in container.allKeys where key.stringValue != "kind" {
            values[key.stringValue] = try container.decode(Double.self, forKey: key)
        }
        do {
            try self.init(kind: container.decode(String.self, forKey: Key("kind")), values: values)
        } catch let error as PruningError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(kind, forKey: Key("kind"))
        for (name, value) in values {
            try container.encode(value, forKey: Key(name))
        }
    }
}

extension PruningSchedule {
    /// Train, remove `rate` of the remaining weights, rewind the survivors to
    /// iteration `rewindIteration`, repeat `rounds` times (`IterativeSchedule`).
    public static func iterative(rate: Double, rounds: Int, rewindIteration: Int) -> PruningSchedule {
        try! PruningSchedule(kind: IterativeSchedule.kind,
                             values: ["rate": rate, "rounds": Double(rounds), "rewindIteration": Double(rewindIteration)])
    }

    /// Dense epochs, one prune to `density`, training on (`EarlyOneShotSchedule`).
    public static func earlyOneShot(denseEpochs: Int, density: Double) -> PruningSchedule {
        try! PruningSchedule(kind: EarlyOneShotSchedule.kind, values: ["denseEpochs": Double(denseEpochs), "density": density])
    }

    /// One prune to `density` at initialisation (`AtInitializationSchedule`).
    public static func atInitialization(density: Double) -> PruningSchedule {
        try! PruningSchedule(kind: AtInitializationSchedule.kind, values: ["density": density])
    }
}

/// The schedules a manifest may name: adding one is one file plus one line here.
public enum ScheduleRegistry {
    public static let all: [ScheduleDefinition.Type] = [
        IterativeSchedule.self, EarlyOneShotSchedule.self, AtInitializationSchedule.self,
    ]

    public static var kinds: [String] { all.map { $0.kind } }

    public static func definition(_ kind: String) -> ScheduleDefinition.Type? {
        all.first { $0.kind == kind }
    }
}
