/// Parameters a manifest may give a criterion; each criterion reads its own.
public struct CriterionParameters: Sendable, Hashable, Codable {
    public var gamma: Float?
    public var accumulate: String?
    public var batches: Int?
    /// SynFlow's number of score-and-prune steps.
    public var iterations: Int?

    public init(gamma: Float? = nil, accumulate: String? = nil, batches: Int? = nil, iterations: Int? = nil) {
        self.gamma = gamma
        self.accumulate = accumulate
        self.batches = batches
        self.iterations = iterations
    }
}

/// Criteria by name. Adding one is one file plus one line in `makers`.
public enum CriterionRegistry {
    private static let makers: [(String, (CriterionParameters) throws -> PruningCriterion)] = [
        ("random", { _ in RandomCriterion() }),
        ("magnitude", { _ in MagnitudeCriterion() }),
        ("data-dependent", { p in
            let accumulation: DataDependentCriterion.Accumulation
            switch p.accumulate ?? DataDependentCriterion.Accumulation.duringTraining.rawValue {
            case let value:
                guard let parsed = DataDependentCriterion.Accumulation(rawValue: value) else {
                    throw PruningError.invalidParameter(criterion: "data-dependent",
                        "accumulate must be one of \(DataDependentCriterion.Accumulation.allCases.map(\.rawValue).joined(separator: ", ")), got '\(value)'")
                }
                accumulation = parsed
            }
            return try DataDependentCriterion(gamma: p.gamma ?? 1, accumulation: accumulation, endOfRoundBatches: p.batches)
        }),
        ("snip", { p in try SNIPCriterion(batches: p.batches ?? 1) }),
        ("large-init", { _ in LargeInitCriterion() }),
        ("movement", { _ in MovementCriterion() }),
        ("magnitude-increase", { _ in MagnitudeIncreaseCriterion() }),
        ("grasp", { p in try GraSPCriterion(batches: p.batches ?? 1) }),
        ("synflow", { p in try SynFlowCriterion(iterations: p.iterations ?? 100) }),
    ]

    /// Registered names, in registration order.
    public static var names: [String] { makers.map(\.0) }

    public static func make(_ name: String, parameters: CriterionParameters = CriterionParameters()) throws -> PruningCriterion {
        guard let maker = makers.first(where: { $0.0 == name })?.1 else {
            throw PruningError.unknownCriterion(name, known: names)
        }
        return try maker(parameters)
    }
}
