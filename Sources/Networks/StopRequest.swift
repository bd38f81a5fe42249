import Synchronization

/// A request to stop training at the next step boundary, set from a signal
/// handler (or a test) and polled by the training loop with one atomic load
/// per step (no lock, no allocation).
///
/// ```swift
/// let stop = StopRequest()
/// trainer.stopRequest = stop   // the loop returns .stopped after the step in flight
/// stop.request()
/// ```
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the loop to stop. Async-signal-safe: a lock-free atomic store.
    public func request() { flag.store(true, ordering: .relaxed) }

    /// Whether a stop was requested.
    public var isRequested: Bool { flag.load(ordering: .relaxed) }
}
