import ArgumentParser
import Datasets
import Foundation
import Networks

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect and verify data sets.",
        subcommands: [DataInfoCommand.self, DataVerifyCommand.self, DataBenchCommand.self]
    )
}

struct DataInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Decode a data set and print one summary line per split.",
        discussion: "PATH is a data-set directory (e.g. datasets/mnist), an IDX images file, a CIFAR .bin or an official CIFAR .tar.gz."
    )

    @Argument(help: "A directory or a file.")
    var path: String

    func run() throws {
        try reportingErrors {
            let start = ContinuousClock.now
            let splits = try loadAnyDataset(at: path)
            let seconds = (ContinuousClock.now - start).seconds
            for dataset in splits {
                let stats = Normalization(computedFrom: dataset)
                let counts = dataset.classCounts.map(String.init).joined(separator: " ")
                print("\(dataset.name) \(dataset.split.rawValue): count=\(dataset.count) shape=\(dataset.shape) "
                      + "classes=\(dataset.classCount) per_class=[\(counts)] "
                      + "mean=\(formatChannels(stats.mean)) std=\(formatChannels(stats.std)) "
                      + "decode_seconds=\(String(format: "%.3f", seconds))")
                if let note = dataset.partialNote {
                    printError("warning: \(path): \(note); results on it are not comparable with the full data set")
                }
            }
        }
    }

    private func formatChannels(_ values: [Float]) -> String {
        let parts = values.map { String(format: "%.4f", $0) }
        return parts.count == 1 ? parts[0] : "(" + parts.joined(separator: ",") + ")"
    }
}

struct DataVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every data set present against its published checksums.",
        discussion: "Looks in datasets/, then TICKET_DATA, then system directories. Exits 1 if any file mismatches."
    )

    @Option(help: "Directory to look in besides datasets/ (default: the TICKET_DATA environment variable).")
    var dataRoot: String?

    func run() throws {
        try reportingErrors {
            var locator = DataLocator.standard()
            if let dataRoot { locator.roots.append(dataRoot) }
            var failures = 0
            for descriptor in DatasetCatalog.all {
                guard let directory = locator.locate(descriptor) else {
                    print("\(descriptor.name): not present (\(descriptor.howToObtain))")
                    continue
                }
                for result in try verifyDataset(descriptor, in: directory) {
                    switch result.status {
                    case .matchesPublished:
                        print("\(descriptor.name): OK \(result.path) (md5 \(result.md5))")
                    case .matchesDecompressed:
                        print("\(descriptor.name): OK \(result.path) (recompressed; content md5 \(result.md5) matches)")
                    case .unknown:
                        print("\(descriptor.name): UNVERIFIED \(result.path) (no published checksum for this file; format checked when loaded)")
                    case let .mismatch(expected, actual):
                        failures += 1
                        printError("error: \(result.path): checksum mismatch: expected \(expected), got \(actual)")
                    }
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
