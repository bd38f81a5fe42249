import ArgumentParser

@main
struct Ticket: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket",
        abstract: "TicketBench: which pruning criterion finds the winning lottery ticket?",
        subcommands: [DataCommand.self, ModelsCommand.self, TrainCommand.self, SweepCommand.self,
                      ReportCommand.self, StatusCommand.self, SubmitCommand.self, CompareCommand.self,
                      InstructionWorkloadCommand.self]
    )
}
