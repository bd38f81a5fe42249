import Foundation
import XCTest
@testable import Harness

final class SlurmScriptsTests: XCTestCase {
    func testWorkerArrayAndReportScripts() {
        let scripts = SlurmScripts(
            ticket: "/opt/ticket", manifest: "/home/a b/ci.json", output: "/scratch/it's", workingDirectory: "/home",
            jobName: "ticket-ci", workers: 8, cpusPerTask: 4, time: "1-00:00:00", partition: "cpu", account: "lab",
            memory: "4G", extraArguments: ["--qos=low"], dataDirectory: "/data", checkpointMinutes: 2.5)
        let worker = scripts.worker.split(separator: "\n").map(String.init)
        for line in ["#SBATCH --array=1-8", "#SBATCH --cpus-per-task=4", "#SBATCH --requeue", "#SBATCH --signal=B:TERM@120",
                     "#SBATCH --time=1-00:00:00", "#SBATCH --partition=cpu", "#SBATCH --account=lab", "#SBATCH --mem=4G",
                     "#SBATCH --qos=low", "#SBATCH --chdir=/home"] {
            XCTAssertTrue(worker.contains(line), line)
        }
        // Quoted for the shell, and the worker replaces the batch shell so it gets Slurm's SIGTERM itself.
        XCTAssertEqual(worker.last, "exec '/opt/ticket' 'sweep' '/home/a b/ci.json' '--out' '/scratch/it'\\''s' '--worker' "
                       + "--data '/data' --checkpoint-minutes 2.5 --threads \"${SLURM_CPUS_PER_TASK:-1}\"")
        let report = scripts.report(afterWorkerJob: "123").split(separator: "\n").map(String.init)
        XCTAssertTrue(report.contains("#SBATCH --dependency=afterany:123"))
        XCTAssertFalse(report.contains { $0.hasPrefix("#SBATCH --array") })
        XCTAssertEqual(report.last, "exec '/opt/ticket' 'report' '/scratch/it'\\''s'")
    }
}
