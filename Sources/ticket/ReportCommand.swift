import ArgumentParser
import Foundation
import Harness
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild runs.csv, summary.csv, layers.csv, overlap.csv, tables.xlsx and accuracy.svg from run directories.",
        discussion: """
            Reads every complete run under DIR/runs/ (several DIRs are merged, e.g. one per cluster shard; \
            a run found twice is taken from the first DIR), writes the tables into --out (default: the first DIR) \
            and prints the summary as a table. Refused (exit 1, nothing written) while live sweep processes use \
            the output directory, naming them.
            """
    )

    @Argument(help: "Sweep output directories.")
    var directories: [String]

    @Option(help: "Where to write the tables (default: the first directory).")
    var out: String?

    func validate() throws {
        guard !directories.isEmpty else { throw ValidationError("give at least one sweep output directory") }
    }

    func run() throws {
        try reportingErrors {
            let inputs = directories.map { URL(fileURLWithPath: $0) }
            let output = out.map { URL(fileURLWithPath: $0) } ?? inputs[0]
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            // Never under live sweep processes: they write these tables themselves.
            let lock = try DirectoryLock.exclusive(output)
            defer { lock.release() }
            let tables = try SweepTables.collect(from: inputs)
            try tables.write(to: output)
            print("\(output.path): \(tables.runs.count) run rows, \(tables.summary.count) summary rows, "
                  + "\(tables.overlap.count) overlap rows")
            print("")
            print(SummaryText.render(tables.summary), terminator: "")
            if tables.incompleteRuns > 0 {
                printError("note: \(tables.incompleteRuns) incomplete run(s) left out (interrupted or still running)")
            }
        }
    }
}
