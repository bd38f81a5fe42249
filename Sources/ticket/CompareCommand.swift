import ArgumentParser
import Foundation
import Harness
import Reports

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Check a summary.csv against a baseline summary.csv (regression test).",
        discussion: """
            Rows are matched on (model, dataset, criterion, schedule, density). A row fails when it is \
            missing from CANDIDATE or its mean final accuracy moved by more than --max-se standard errors \
            of the baseline (std/sqrt(n)); a baseline without spread (n = 1 or std = 0) requires an exact \
            match. Rows only in CANDIDATE are listed but do not fail.
            Exit status: 0 all rows match, 1 some row fails, 2 a table could not be read.
            """
    )

    @Argument(help: "The baseline summary.csv (e.g. results/baseline/ci-summary.csv).")
    var baseline: String

    @Argument(help: "The summary.csv to check.")
    var candidate: String

    @Option(name: .customLong("max-se"), help: "Allowed change of a mean, in baseline standard errors.")
    var maxStandardErrors: Double = 3

    func validate() throws {
        guard maxStandardErrors.isFinite, maxStandardErrors > 0 else {
            throw ValidationError("--max-se must be a positive number")
        }
    }

    func run() throws {
        let comparison: SummaryComparison
        do {
            comparison = try SummaryComparison.compareFiles(
                baseline: URL(fileURLWithPath: baseline), candidate: URL(fileURLWithPath: candidate),
                maxStandardErrors: maxStandardErrors)
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        for note in comparison.notes { print("note: \(note)") }
        guard comparison.passed else {
            for failure in comparison.failures { print("FAIL: \(failure)") }
            print("\(comparison.failures.count) row(s) differ from \(baseline) (max \(maxStandardErrors) SE)")
            throw ExitCode(1)
        }
        print("ok: \(candidate) matches \(baseline) within \(maxStandardErrors) standard errors")
    }
}
