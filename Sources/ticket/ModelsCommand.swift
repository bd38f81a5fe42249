import ArgumentParser
import Networks

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the model zoo with parameter counts."
    )

    func run() throws {
        try reportingErrors {
            for descriptor in ModelRegistry.all {
                let network = try ModelRegistry.make(descriptor.name, seed: 0)
                let prunable = network.prunableTensors.reduce(0) { $0 + $1.count }
                print("\(descriptor.name): parameters=\(network.parameterCount) prunable_weights=\(prunable) "
                      + "prunable_tensors=\(network.prunableTensors.count) input=\(descriptor.referenceInput) "
                      + "init=\(descriptor.defaultInitializer.rawValue) — \(descriptor.summary)")
            }
        }
    }
}
