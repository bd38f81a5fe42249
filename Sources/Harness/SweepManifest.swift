import Datasets
import Foundation
import Reports
import Networks
import Pruning

/// A declarative sweep: the cross product of models, datasets, schedules,
/// criteria and seeds, with one set of training hyperparameters. Parsing is
/// strict: unknown keys, unknown criteria, out-of-range values and empty lists
/// are errors naming the file and JSON path (see `ManifestError`).
///
/// ```json
/// {
///   "name": "default",
///   "models": ["lenet-300-100"],
///   "datasets": ["mnist"],
///   "criteria": [{"name": "magnitude"},
///                {"name": "data-dependent", "gamma": 1, "accumulate": "during-training"}],
///   "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 7, "rewindIteration": 0},
///                 {"kind": "early-one-shot", "denseEpochs": 1, "densities": [0.5, 0.25]}],
///   "seeds": [1, 2, {"run": 3, "initialization": 77}],
///   "training": {"optimizer": "sgd", "learningRate": 0.1, "momentum": 0.9,
///                "weightDecay": 0.0001, "batchSize": 60, "epochsPerRound": 2}
/// }
/// ```
public struct SweepManifest: Decodable, Hashable, Sendable {
    /// A free-form name (not part of any run's hash).
    public var name: String?
    /// The manifest's `"description"` (free text, not hashed).
    public var notes: String?
    public var models: [String]
    public var datasets: [String]
    public var criteria: [CriterionConfig]
    /// Each manifest schedule with its densities already spread out: a
    /// one-shot schedule with three densities gives three entries.
    public var schedules: [ScheduleConfig]
    public var seeds: [RunSeeds]
    public var training: TrainingSetup

    /// Parses the manifest at `url`.
    public static func load(from url: URL) throws -> SweepManifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ManifestError(file: url.path, path: "", reason: .unreadable(error.localizedDescription))
        }
        return try parse(data, file: url.path)
    }

    /// Parses manifest JSON; `file` only labels errors. A key given twice in
    /// one object is refused (JSON decoders silently keep one of them).
    public static func parse(_ data: Data, file: String = "<manifest>") throws -> SweepManifest {
        if let duplicate = DuplicateKeyScanner.firstDuplicate(in: data) {
            throw ManifestError(file: file, path: duplicate.path, reason: .duplicate(
                "key \"\(duplicate.key)\" appears twice in one object; JSON readers would keep only one of them"))
        }
        do {
            return try JSONDecoder().decode(SweepManifest.self, from: data)
        } catch let fault as ManifestFault {
            throw ManifestError(file: file, path: jsonPath(fault.path), reason: fault.reason)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw ManifestError(file: file, path: "", reason: .invalidJSON(syntaxProblem(in: data)))
            }
            throw ManifestError(decodingError: error, file: file)
        }
    }

    /// JSONSerialization says where the syntax breaks ("around character
    /// 15"); this turns that into a line and column a person can find.
    private static func syntaxProblem(in data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data)
            return "unreadable JSON"
        } catch {
            var text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            if let range = text.range(of: #"character (\d+)"#, options: .regularExpression),
               let offset = Int(text[range].dropFirst("character ".count)) {
                let before = data.prefix(offset)
                let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
                let column = before.count - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
                text += " (line \(line), column \(column))"
            }
            return text
        }
    }

    /// Every run, resolved, in a fixed order: model, dataset, schedule
    /// (one-shot densities in manifest order), seed, criterion, each in
    /// manifest order. Criteria vary fastest so the runs compared with each
    /// other finish close together, and partial results are already
    /// comparable. `fingerprints` gives each data set as it will be used
    /// (see `SweepData`); a data set without one is expanded unresolved,
    /// which only tests and listings should want.
    public func expand(data fingerprints: [String: DataFingerprint] = [:]) -> [RunConfig] {
        var runs: [RunConfig] = []
        for model in models {
            for dataset in datasets {
                let data = DataSpecification(dataset: dataset, trainExamples: training.trainExamples,
                                             normalization: training.normalization,
                                             fingerprint: fingerprints[dataset])
                for schedule in schedules {
                    for seeds in self.seeds {
                        for criterion in criteria {
                            let experiment = ExperimentConfiguration(
                                model: model, initializer: training.initializer, data: data,
                                criterion: criterion.name, criterionParameters: criterion.parameters,
                                schedule: schedule.schedule, scope: criterion.scope,
                                excludedLayers: criterion.excludedLayers, control: criterion.control,
                                training: training.training, seeds: seeds)
                            runs.append(RunConfig(criterionLabel: criterion.label, scheduleLabel: schedule.label,
                                                  experiment: experiment))
                        }
                    }
                }
            }
        }
        return runs
    }

    private enum Keys {
        static let top = ["name", "description", "models", "datasets", "criteria", "schedules", "seeds", "training"]
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(allowed: Keys.top)
        let container = try decoder.container(keyedBy: AnyKey.self)
        name = try container.decodeIfPresent(String.self, forKey: AnyKey("name"))
        notes = try container.decodeIfPresent(String.self, forKey: AnyKey("description"))
        models = try container.decodeNames("models")
        for (i, model) in models.enumerated() where ModelRegistry.descriptor(named: model) == nil {
            throw ManifestFault(path: [AnyKey("models"), AnyKey(intValue: i)!], reason: .invalidValue(
                "unknown model \"\(model)\"; known: \(ModelRegistry.names.joined(separator: ", "))"))
        }
        datasets = try container.decodeNames("datasets")
        for (i, dataset) in datasets.enumerated() where DatasetCatalog.named(dataset) == nil {
            throw ManifestFault(path: [AnyKey("datasets"), AnyKey(intValue: i)!], reason: .invalidValue(
                "unknown data set \"\(dataset)\"; known: \(DatasetCatalog.names.joined(separator: ", "))"))
        }

        let criteria = try container.decode([CriterionEntry].self, forKey: AnyKey("criteria")).map(\.config)
        try container.requireNonEmpty(criteria, "criteria")
        try container.requireUniqueLabels(criteria.map(\.label), "criteria", what: "criterion")
        self.criteria = criteria

        let schedules = try container.decode([ScheduleEntry].self, forKey: AnyKey("schedules"))
        try container.requireNonEmpty(schedules, "schedules")
        try container.requireUniqueLabels(schedules.map(\.label), "schedules", what: "schedule")
        self.schedules = schedules.flatMap(\.configs)

        let seeds = try container.decode([SeedEntry].self, forKey: AnyKey("seeds")).map(\.seeds)
        try container.requireNonEmpty(seeds, "seeds")
        var seen = Set<UInt64>()
        for (i, seed) in seeds.enumerated() where !seen.insert(seed.run).inserted {
            throw ManifestFault(path: [AnyKey("seeds"), AnyKey(intValue: i)!],
                                reason: .duplicate("run seed \(seed.run) is listed twice"))
        }
        self.seeds = seeds

        training = try container.decode(TrainingEntry.self, forKey: AnyKey("training")).config
        let epochsPerRound = training.training.epochs
        // Criterion-independent checks of each schedule against the training
        // (criterion-specific ones run once the runs are expanded).
        let anyCriterion = try? CriterionRegistry.make("magnitude", parameters: .init())
        for schedule in self.schedules {
            if let anyCriterion, let problem = schedule.schedule.definition.problem(with: anyCriterion, epochsPerRound: epochsPerRound) {
                throw ManifestFault(path: [AnyKey("schedules")], reason: .invalidValue(
                    "schedule \"\(schedule.label)\": \(problem) (training.epochsPerRound)"))
            }
        }
    }
}

extension ManifestError {
    /// Translates Foundation's decoding error into file + JSON path + reason.
    init(decodingError: DecodingError, file: String) {
        switch decodingError {
        case let .keyNotFound(key, context):
            self.init(file: file, path: jsonPath(context.codingPath + [key]), reason: .missingField)
        case let .typeMismatch(type, context):
            self.init(file: file, path: jsonPath(context.codingPath),
                      reason: .wrongType("expected \(ManifestError.jsonTypeName(type))"))
        case let .valueNotFound(type, context):
            self.init(file: file, path: jsonPath(context.codingPath),
                      reason: .wrongType("null where \(ManifestError.jsonTypeName(type)) is required"))
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                self.init(file: file, path: "", reason: .invalidJSON(detail))
            } else {
                self.init(file: file, path: jsonPath(context.codingPath), reason: .invalidValue(context.debugDescription))
            }
        @unknown default:
            self.init(file: file, path: "", reason: .invalidJSON("\(decodingError)"))
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Int.Type, is UInt64.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.contains("Entry") || name.contains("Manifest") { return "an object" }
            return name
        }
    }
}

// MARK: - Entries: the manifest's JSON shapes, decoded and validated

private extension KeyedDecodingContainer where Key == AnyKey {
    func fault(_ key: String, _ reason: ManifestError.Reason) -> ManifestFault {
        ManifestFault(path: codingPath + [AnyKey(key)], reason: reason)
    }

    func requireNonEmpty<T>(_ list: [T], _ key: String) throws {
        if list.isEmpty { throw fault(key, .empty) }
    }

    func requireUniqueLabels(_ labels: [String], _ key: String, what: String) throws {
        var seen = Set<String>()
        for (i, label) in labels.enumerated() where !seen.insert(label).inserted {
            throw ManifestFault(path: codingPath + [AnyKey(key), AnyKey(intValue: i)!], reason: .duplicate(
                "\(what) label \"\(label)\" is used twice; give one of them a distinct \"label\""))
        }
    }

    /// A non-empty list of distinct, non-empty names.
    func decodeNames(_ key: String) throws -> [String] {
        let names = try decode([String].self, forKey: AnyKey(key))
        try requireNonEmpty(names, key)
        var seen = Set<String>()
        for (i, name) in names.enumerated() {
            let path = codingPath + [AnyKey(key), AnyKey(intValue: i)!]
            if name.isEmpty { throw ManifestFault(path: path, reason: .empty) }
            if !seen.insert(name).inserted {
                throw ManifestFault(path: path, reason: .duplicate("\"\(name)\" is listed twice"))
            }
        }
        return names
    }

    func number(_ key: String, in range: ClosedRange<Double>, _ rule: String) throws -> Double {
        let value = try decode(Double.self, forKey: AnyKey(key))
        guard range.contains(value) else { throw fault(key, .invalidValue("\(value) is outside \(rule)")) }
        return value
    }

    func integer(_ key: String, atLeast minimum: Int) throws -> Int {
        // Decoded as Double first: Foundation's own error for 60.5 as Int
        // loses the path.
        let number = try decode(Double.self, forKey: AnyKey(key))
        guard number.rounded() == number, abs(number) < 1e15 else {
            throw fault(key, .invalidValue("\(number) is not an integer"))
        }
        let value = Int(number)
        guard value >= minimum else { throw fault(key, .invalidValue("\(value) must be at least \(minimum)")) }
        return value
    }

    func density(_ value: Double, at path: [CodingKey]) throws -> Double {
        guard value > 0 && value <= 1 else {
            throw ManifestFault(path: path, reason: .invalidValue("density \(value) is outside (0, 1]"))
        }
        return value
    }
}

private struct CriterionEntry: Decodable {
    var config: CriterionConfig

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let name = try container.decode(String.self, forKey: AnyKey("name"))
        guard let descriptor = CriterionRegistry.entry(named: name) else {
            throw container.fault("name", .unknownCriterion(name, known: CriterionRegistry.names))
        }
        try decoder.rejectUnknownKeys(allowed: ["name", "label", "scope", "control", "excludedLayers"]
                                      + descriptor.parameters.map(\.name))
        let label = try container.decodeIfPresent(String.self, forKey: AnyKey("label")) ?? name
        if label.isEmpty { throw container.fault("label", .empty) }
        var parameters = CriterionParameters()
        for parameter in descriptor.parameters {
            let key = AnyKey(parameter.name)
            var value = parameter.defaultValue
            if container.contains(key) {
                switch parameter.domain {
                case .number: value = .number(try container.decode(Double.self, forKey: key))
                case .choice: value = .text(try container.decode(String.self, forKey: key))
                }
            }
            if let problem = parameter.problem(with: value) {
                throw container.fault(parameter.name, .invalidValue(problem))
            }
            parameters.values[parameter.name] = value
        }
        func word<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws -> T where T.RawValue == String {
            guard let text = try container.decodeIfPresent(String.self, forKey: AnyKey(key)) else { return value }
            guard let parsed = T(rawValue: text) else {
                throw container.fault(key, .invalidValue(
                    "\"\(text)\" is not one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))"))
            }
            return parsed
        }
        let excluded = try container.decodeIfPresent([String].self, forKey: AnyKey("excludedLayers")) ?? []
        config = CriterionConfig(label: label, name: name, parameters: parameters,
                                 scope: try word("scope", default: PruningScope.global),
                                 control: try word("control", default: TicketControl.none),
                                 excludedLayers: excluded)
    }
}

private struct ScheduleEntry: Decodable {
    var label: String
    var configs: [ScheduleConfig]

    /// Generic over `Pruning.ScheduleRegistry`: each kind's declared
    /// parameters are its keys; a parameter with a list key (`densities`)
    /// gives one schedule per listed value.
    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let kind = try container.decode(String.self, forKey: AnyKey("kind"))
        guard let definition = ScheduleRegistry.definition(kind) else {
            throw container.fault("kind", .invalidValue(
                "unknown schedule kind \"\(kind)\"; known: \(ScheduleRegistry.kinds.joined(separator: ", "))"))
        }
        let parameters = definition.parameters
        try decoder.rejectUnknownKeys(allowed: ["kind", "label"] + parameters.map { $0.listKey ?? $0.name })
        var values: ScheduleValues = [:]
        var list: (parameter: ScheduleParameter, values: [Double])?
        for parameter in parameters {
            if let listKey = parameter.listKey {
                let listed = try container.decode([Double].self, forKey: AnyKey(listKey))
                try container.requireNonEmpty(listed, listKey)
                var seen = Set<Double>()
                for (i, value) in listed.enumerated() {
                    let path = container.codingPath + [AnyKey(listKey), AnyKey(intValue: i)!]
                    if let problem = parameter.problem(with: value) { throw ManifestFault(path: path, reason: .invalidValue(problem)) }
                    if !seen.insert(value).inserted {
                        throw ManifestFault(path: path, reason: .duplicate("\(parameter.name) \(value) is listed twice"))
                    }
                }
                list = (parameter, listed)
                continue
            }
            let key = AnyKey(parameter.name)
            guard container.contains(key) else {
                if parameter.defaultValue == nil { throw container.fault(parameter.name, .missingField) }
                continue
            }
            let value = try container.decode(Double.self, forKey: key)
            if let problem = parameter.problem(with: value) { throw container.fault(parameter.name, .invalidValue(problem)) }
            values[parameter.name] = value
        }
        let label = try container.decodeIfPresent(String.self, forKey: AnyKey("label")) ?? kind
        if label.isEmpty { throw container.fault("label", .empty) }
        self.label = label
        let expanded: [ScheduleValues] = list.map { list in
            list.values.map { value in values.merging([list.parameter.name: value]) { $1 } }
        } ?? [values]
        configs = try expanded.map { values in
            do {
                return ScheduleConfig(label: label, schedule: try PruningSchedule(kind: kind, values: values))
            } catch {
                throw ManifestFault(path: container.codingPath, reason: .invalidValue("\(error)"))
            }
        }
    }
}

private struct SeedEntry: Decodable {
    var seeds: RunSeeds

    init(from decoder: Decoder) throws {
        // A bare number is a run seed whose purpose seeds are derived.
        if let run = try? decoder.singleValueContainer().decode(UInt64.self) {
            seeds = RunSeeds(runSeed: run)
            return
        }
        let keys = ["run", "initialization", "dataOrder", "mask", "scoring"]
        guard (try? decoder.container(keyedBy: AnyKey.self)) != nil else {
            throw ManifestFault(path: decoder.codingPath, reason: .wrongType(
                "expected a non-negative integer seed or an object with keys \(keys.joined(separator: ", "))"))
        }
        try decoder.rejectUnknownKeys(allowed: keys)
        let container = try decoder.container(keyedBy: AnyKey.self)
        func seed(_ key: String) throws -> UInt64? {
            guard container.contains(AnyKey(key)) else { return nil }
            guard let value = try? container.decode(UInt64.self, forKey: AnyKey(key)) else {
                throw container.fault(key, .wrongType("expected a non-negative integer seed"))
            }
            return value
        }
        guard let run = try seed("run") else { throw container.fault("run", .missingField) }
        var seeds = RunSeeds(runSeed: run)
        seeds.initialization = try seed("initialization") ?? seeds.initialization
        seeds.dataOrder = try seed("dataOrder") ?? seeds.dataOrder
        seeds.mask = try seed("mask") ?? seeds.mask
        seeds.scoring = try seed("scoring") ?? seeds.scoring
        self.seeds = seeds
    }
}

private struct TrainingEntry: Decodable {
    var config: TrainingSetup

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(allowed: [
            "optimizer", "learningRate", "momentum", "nesterov", "weightDecay", "beta1", "beta2", "epsilon",
            "batchSize", "epochsPerRound", "milestones", "learningRateDrop", "trainExamples", "normalization",
            "initializer",
        ])
        let container = try decoder.container(keyedBy: AnyKey.self)
        func word<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
            guard let text = try container.decodeIfPresent(String.self, forKey: AnyKey(key)) else { return nil }
            guard let parsed = T(rawValue: text) else {
                throw container.fault(key, .invalidValue(
                    "\"\(text)\" is not one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))"))
            }
            return parsed
        }
        guard let kind = try word("optimizer", OptimizerConfiguration.Kind.self) else {
            throw container.fault("optimizer", .missingField)
        }
        func optional(_ key: String, in range: ClosedRange<Double>, _ rule: String) throws -> Float? {
            container.contains(AnyKey(key)) ? Float(try container.number(key, in: range, rule)) : nil
        }
        let learningRate = Float(try container.number("learningRate", in: .leastNonzeroMagnitude...1e3, "(0, 1000]"))
        let weightDecay = try optional("weightDecay", in: 0...1, "[0, 1]") ?? 0
        let optimizer: OptimizerConfiguration
        switch kind {
        case .sgd:
            for key in ["beta1", "beta2", "epsilon"] where container.contains(AnyKey(key)) {
                throw container.fault(key, .invalidValue("\(key) is an Adam constant; the optimizer is sgd"))
            }
            optimizer = .sgd(learningRate: learningRate,
                             momentum: try optional("momentum", in: 0...0.999_999, "[0, 1)") ?? 0,
                             nesterov: try container.decodeIfPresent(Bool.self, forKey: AnyKey("nesterov")) ?? false,
                             weightDecay: weightDecay)
        case .adam:
            for key in ["momentum", "nesterov"] where container.contains(AnyKey(key)) {
                throw container.fault(key, .invalidValue("\(key) is an SGD setting; the optimizer is adam"))
            }
            let defaults = OptimizerConfiguration.adam(learningRate: learningRate)
            optimizer = .adam(learningRate: learningRate,
                              beta1: try optional("beta1", in: 0...0.999_999, "[0, 1)") ?? defaults.beta1,
                              beta2: try optional("beta2", in: 0...0.999_999_999, "[0, 1)") ?? defaults.beta2,
                              epsilon: try optional("epsilon", in: .leastNonzeroMagnitude...1, "(0, 1]") ?? defaults.epsilon,
                              weightDecay: weightDecay)
        }
        let batchSize = try container.integer("batchSize", atLeast: 1)
        let epochs = try container.integer("epochsPerRound", atLeast: 1)
        let milestones = try container.decodeIfPresent([Int].self, forKey: AnyKey("milestones")) ?? []
        for (i, milestone) in milestones.enumerated() {
            let previous = i == 0 ? 0 : milestones[i - 1]
            guard milestone > previous && milestone < epochs else {
                throw ManifestFault(path: container.codingPath + [AnyKey("milestones"), AnyKey(intValue: i)!],
                                    reason: .invalidValue("milestones must increase and lie in 1..<epochsPerRound (\(epochs)); got \(milestone)"))
            }
        }
        let drop = try optional("learningRateDrop", in: .leastNonzeroMagnitude...1, "(0, 1]") ?? 0.1
        let trainExamples = container.contains(AnyKey("trainExamples"))
            ? try container.integer("trainExamples", atLeast: 1) : nil
        // The data seed is each run's own (ExperimentConfiguration sets it from the run's seeds).
        let training = TrainingConfiguration(epochs: epochs, batchSize: batchSize, optimizer: optimizer,
                                             schedule: LearningRateSchedule(milestones: milestones, factor: drop),
                                             dataSeed: 0)
        config = TrainingSetup(training: training, trainExamples: trainExamples,
                               normalization: try word("normalization", InputNormalization.self) ?? .standardized,
                               initializer: try word("initializer", Initializer.self))
    }
}
