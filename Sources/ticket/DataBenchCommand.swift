import ArgumentParser
import Datasets
import Foundation
import Networks

struct DataBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time decoding an IDX .gz file against `gzip -dc` on the same file, in one run.",
        discussion: "Reports decompressed MB/s for both (best of the repetitions, interleaved so both see the same machine load) and this process's peak resident memory against the decoded size."
    )

    @Argument(help: "An IDX images file, gzip'd.")
    var file: String = "datasets/mnist/train-images-idx3-ubyte.gz"

    @Option(help: "Repetitions of each decoder.")
    var repetitions: Int = 7

    @Option(help: "Append the result as a CSV row to this file (header written when new).")
    var csv: String?

    func run() throws {
        try reportingErrors {
            // Peak memory first, before anything else has touched the heap.
            let first = try IDX.readImages(file)
            let decodedBytes = 16 + first.pixels.count
            let peakAfterDecode = peakResidentBytes()
            var ours = Double.infinity, gzip = Double.infinity
            for _ in 0..<repetitions {
                let start = ContinuousClock.now
                let images = try IDX.readImages(file)
                ours = min(ours, (ContinuousClock.now - start).seconds)
                precondition(images.pixels.count == first.pixels.count)
                gzip = min(gzip, try timeGzip())
            }
            let mb = Double(decodedBytes) / 1e6
            let ratio = (mb / ours) / (mb / gzip)
            let memoryRatio = Double(peakAfterDecode) / Double(decodedBytes)
            print("file: \(file) (\(decodedBytes) bytes decoded)")
            print(String(format: "ticket:   %.1f MB/s  (best of %d: %.4f s)", mb / ours, repetitions, ours))
            print(String(format: "gzip -dc: %.1f MB/s  (best of %d: %.4f s)", mb / gzip, repetitions, gzip))
            print(String(format: "speed ratio ticket/gzip: %.2fx", ratio))
            print(String(format: "peak resident memory: %.1f MB = %.2fx the decoded size", Double(peakAfterDecode) / 1e6, memoryRatio))
            if let csv {
                let header = "file,decoded_bytes,ticket_mb_s,gzip_mb_s,ratio,peak_rss_bytes,peak_over_decoded\n"
                let row = String(format: "%@,%d,%.1f,%.1f,%.3f,%d,%.3f\n", file, decodedBytes, mb / ours, mb / gzip, ratio, peakAfterDecode, memoryRatio)
                let text = header + row
                let tmp = csv + ".tmp"
                try text.write(toFile: tmp, atomically: false, encoding: .utf8)
                guard rename(tmp, csv) == 0 else { throw DatasetError(csv, .readFailed("cannot write results")) }
            }
        }
    }

    private func timeGzip() throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc \"$0\" > /dev/null", file]
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = (ContinuousClock.now - start).seconds
        guard process.terminationStatus == 0 else {
            throw DatasetError(file, .readFailed("gzip -dc failed with status \(process.terminationStatus)"))
        }
        return elapsed
    }

    /// VmHWM from /proc/self/status: the process's peak resident set.
    private func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
}
