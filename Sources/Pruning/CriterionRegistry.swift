/// A criterion as the registry knows it: its name, the parameters it
/// accepts, and how to make it from given values.
public struct CriterionEntry {
    public let name: String
    public let parameters: [CriterionParameter]
    let make: (CriterionParameters) throws -> PruningCriterion

    init(_ name: String, parameters: [CriterionParameter] = [],
         make: @escaping (CriterionParameters) throws -> PruningCriterion) {
        self.name = name
        self.parameters = parameters
        self.make = make
    }
}

/// Criteria by name. Adding one is one file (the criterion, its parameters
/// and how it reads them) plus one line in `entries`; the harness validates
/// manifests against the same list.
public enum CriterionRegistry {
    public static let entries: [CriterionEntry] = [
        CriterionEntry("random") { _ in RandomCriterion() },
        CriterionEntry("magnitude") { _ in MagnitudeCriterion() },
        CriterionEntry("data-dependent", parameters: DataDependentCriterion.parameters, make: DataDependentCriterion.init(parameters:)),
        CriterionEntry("snip", parameters: SNIPCriterion.parameters, make: SNIPCriterion.init(parameters:)),
        CriterionEntry("large-init") { _ in LargeInitCriterion() },
        CriterionEntry("movement") { _ in MovementCriterion() },
        CriterionEntry("magnitude-increase") { _ in MagnitudeIncreaseCriterion() },
        CriterionEntry("grasp", parameters: GraSPCriterion.parameters, make: GraSPCriterion.init(parameters:)),
        CriterionEntry("synflow", parameters: SynFlowCriterion.parameters, make: SynFlowCriterion.init(parameters:)),
    ]

    /// Registered names, in registration order.
    public static var names: [String] { entries.map(\.name) }

    /// The entry called `name`, if any.
    public static func entry(named name: String) -> CriterionEntry? { entries.first { $0.name == name } }

    public static func make(_ name: String, parameters: CriterionParameters = CriterionParameters()) throws -> PruningCriterion {
        guard let entry = entry(named: name) else {
            throw PruningError.unknownCriterion(name, known: names)
        }
        return try entry.make(parameters)
    }
}
