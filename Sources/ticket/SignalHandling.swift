import Foundation
import Networks
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGTERM (Slurm's `scancel`, time limit, preemption) and SIGINT
/// (Ctrl-C): the sweep saves its state at the next step boundary and exits
/// with `ExitStatus.interrupted`.
let stopRequest = StopRequest()

/// Routes SIGTERM and SIGINT to `stopRequest` instead of killing the process.
/// A second signal of either kind ends the process at once (the default
/// action), for someone who does not want to wait for the checkpoint.
func installStopHandlers() {
    // Initialise the global now: a lazy initialisation inside a handler could deadlock.
    _ = stopRequest.isRequested
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber) { number in
            stopRequest.request()
            signal(number, SIG_DFL)
        }
    }
}

/// The sweep's exit statuses (also in `ticket sweep --help` and the README).
enum ExitStatus {
    /// Every run of the sweep (or, for a worker, every run it could take) is done.
    static let done: Int32 = 0
    /// An error before or around the runs (bad manifest, refused lock, unwritable directory).
    static let error: Int32 = 1
    /// Some runs failed (each recorded in its `failed.txt`); every other run was done.
    static let runsFailed: Int32 = 2
    /// Stopped by SIGTERM or SIGINT: the run in flight saved a checkpoint and
    /// released its claim; rerun or resubmit to resume it exactly.
    static let interrupted: Int32 = 3
}
