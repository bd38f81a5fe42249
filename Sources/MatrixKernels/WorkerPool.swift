#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A persistent set of threads that the matrix kernels split their work over.
///
/// Threads are created once (lazily, when the thread count first grows) and
/// live for the process. Between jobs a worker spins for a while (about
/// 1 ms, yielding now and then) before blocking, so back-to-back small
/// calls, such as a trainer's GEMMs on 60-row batches, are dispatched in
/// well under a microsecond instead of paying a futex wake-up each time.
/// 1 ms rather than less because the serial part of a training step
/// (optimizer, next batch) takes a few hundred µs: with a 100 µs spin the
/// worker fell asleep every step, and the caller then waited for it in 7 %
/// of a LeNet epoch's samples (2 % with the longer spin).
///
/// ```swift
/// WorkerPool.shared.threadCount = 1   // run every kernel on the calling thread
/// ```
///
/// The kernels split over rows and columns of the output only, so results are
/// bit-identical for every thread count.
public final class WorkerPool: @unchecked Sendable {
    /// The pool the kernels use unless given another one. Starts with one
    /// thread per active processor.
    public static let shared = WorkerPool(threadCount: ProcessInfo.processInfo.activeProcessorCount)

    /// How many threads (the caller included) a job may use; at least 1.
    /// Change it between kernel calls, not while one is running on this pool.
    public var threadCount: Int {
        get { participantLimit }
        set {
            let count = max(1, min(newValue, Self.maximumThreadCount))
            participantLimit = count
            while workspaces.count < count { workspaces.append(Workspace()) }
            while spawnedWorkers < count - 1 {
                spawnedWorkers += 1
                let index = spawnedWorkers
                // The worker holds the pool: a pool that ever had workers
                // lives for the process, so no worker can outlive its pool.
                let thread = Thread { self.workerLoop(index: index) }
                thread.name = "MatrixKernels.worker\(index)"
                thread.start()
            }
        }
    }

    /// Creates a pool whose jobs use up to `threadCount` threads, the caller
    /// included. A pool of more than one thread is never freed (its workers
    /// keep it), so make few: `shared`, or one-thread pools, which have no
    /// workers.
    public init(threadCount: Int) {
        self.threadCount = threadCount
    }

    // The job word packs a sequence number with the job's width, so a worker
    // learns both in one atomic load and never reads a width meant for the
    // next job.
    static let maximumThreadCount = 255
    private let jobWord = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    // Written by the caller before the job word is published (release) and
    // read by workers after they load it (acquire): the job value on the
    // caller's stack and its type, so workers call it with no closure
    // conversion and nothing allocated.
    private var jobPointer: UnsafeRawPointer?
    private var jobType: (any PoolJob.Type)?
    private var jobParts = 0
    private var participantLimit = 1
    private var spawnedWorkers = 0
    /// Packing buffers, one per participant; index 0 is the calling thread.
    private(set) var workspaces: [Workspace] = []
    private let condition = NSCondition()

    /// Spin iterations before a waiting worker blocks (roughly 1 ms).
    private static let spinLimit = 1 << 19

    /// Runs parts `0 ..< requested` of `job` concurrently, part 0 on the
    /// calling thread, each with its own workspace, and returns when all are
    /// done. The job stays on the caller's stack; workers reach it through a
    /// pointer, so dispatching allocates nothing.
    ///
    /// If the pool is already running a job (a call from another thread), the
    /// caller runs every part itself with a temporary workspace: same results,
    /// no deadlock.
    func run<Job: PoolJob>(width requested: Int, _ job: Job) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            let workspace = Workspace()
            for part in 0..<requested { job.run(part: part, workspace: workspace) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        let width = max(1, min(requested, participantLimit))
        if width == 1 {
            for part in 0..<requested { job.run(part: part, workspace: workspaces[0]) }
            return
        }
        withUnsafePointer(to: job) { pointer in
            jobPointer = UnsafeRawPointer(pointer)
            jobType = Job.self
            jobParts = requested
            pending.store(width - 1, ordering: .relaxed)
            let sequence = (jobWord.load(ordering: .relaxed) >> 8) + 1
            jobWord.store(sequence << 8 | width, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            runParts(worker: 0, width: width)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                // Another process may hold the core a worker needs.
                if spins & 0xFFF == 0 { sched_yield() }
            }
            jobPointer = nil
            jobType = nil
        }
    }

    private func workerLoop(index: Int) {
        var seen = 0
        while true {
            var word = jobWord.load(ordering: .acquiring)
            var spins = 0
            while word >> 8 == seen >> 8 && spins < Self.spinLimit {
                spins += 1
                if spins & 0xFFF == 0 { sched_yield() }
                word = jobWord.load(ordering: .acquiring)
            }
            if word >> 8 == seen >> 8 {
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while jobWord.load(ordering: .sequentiallyConsistent) >> 8 == seen >> 8 {
                    condition.wait()
                }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
                word = jobWord.load(ordering: .acquiring)
            }
            seen = word
            let width = word & 0xFF
            if index < width {
                runParts(worker: index, width: width)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }

    /// Parts `worker`, `worker + width`, … of the current job. The callers in
    /// this module ask for at most `threadCount` parts, so one each.
    private func runParts(worker: Int, width: Int) {
        var part = worker
        while part < jobParts {
            jobType!.invoke(jobPointer!, part: part, workspace: workspaces[worker])
            part += width
        }
    }
}

/// Work the pool runs in parts: a value the caller builds on its stack
/// (capturing what the parts need), whose `run` the workers call through a
/// pointer. A struct rather than a closure because handing a closure to
/// another thread needs `withoutActuallyEscaping`, which allocates.
protocol PoolJob {
    func run(part: Int, workspace: Workspace)
    /// Calls `run` on the job of this type at `pointer` (a requirement, so a
    /// worker holding only the job's type reaches the right one).
    static func invoke(_ pointer: UnsafeRawPointer, part: Int, workspace: Workspace)
}

extension PoolJob {
    static func invoke(_ pointer: UnsafeRawPointer, part: Int, workspace: Workspace) {
        pointer.assumingMemoryBound(to: Self.self).pointee.run(part: part, workspace: workspace)
    }
}

/// Work split into independent parts, for `WorkerPool.perform(_:parts:)`:
/// a struct holding what the parts need (pointers, sizes, a reference to
/// the layer), so that dispatching it to the threads allocates nothing.
public protocol ParallelWork {
    /// Does part `part` of `parts`.
    func perform(part: Int, of parts: Int)
}

/// Adapts `ParallelWork` to the pool (which also hands out workspaces).
private struct ParallelWorkJob<Work: ParallelWork>: PoolJob {
    let work: Work
    let parts: Int
    func run(part: Int, workspace: Workspace) { work.perform(part: part, of: parts) }
}

extension WorkerPool {
    /// Runs `work.perform(part: 0, of: parts)` … `(parts - 1, of: parts)` on
    /// up to `threadCount` threads (part 0 on the caller) and returns when all
    /// are done. Kernels called inside should be given a pool of their own (a
    /// `WorkerPool(threadCount: 1)` per part), as this one is busy.
    public func perform<Work: ParallelWork>(_ work: Work, parts: Int) {
        guard parts > 0 else { return }
        run(width: parts, ParallelWorkJob(work: work, parts: parts))
    }

    /// How many chunks an elementwise loop over `count` values should be cut
    /// into: one per thread, each at least `grain` long (1 below that).
    public func chunkCount(of count: Int, grain: Int) -> Int {
        max(1, min(threadCount, count / max(grain, 1)))
    }
}

/// Chunk `part` of `parts` of `0..<count`: contiguous, starting at a multiple
/// of 16 (whole SIMD vectors), together covering the range once. For
/// elementwise loops whose every element is computed the same way wherever a
/// chunk starts, so results do not depend on the number of chunks.
public func chunk(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
    let vectors = (count + 15) / 16
    let start = min(count, part * vectors / parts * 16)
    let end = min(count, (part + 1) * vectors / parts * 16)
    return start..<max(start, end)
}

/// Sets the number of threads the matrix kernels use by default
/// (`WorkerPool.shared.threadCount`). Results do not depend on it.
public func setThreadCount(_ count: Int) {
    WorkerPool.shared.threadCount = count
}

/// Per-thread packing buffers, grown on demand and reused across calls so the
/// steady state allocates nothing.
final class Workspace {
    private(set) var packedA = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private(set) var packedB = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    private var capacityA = 0
    private var capacityB = 0

    /// A 64-byte aligned buffer of at least `count` floats for packed A.
    func bufferA(count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacityA { packedA = Self.reallocate(packedA, count); capacityA = count }
        return packedA
    }

    /// A 64-byte aligned buffer of at least `count` floats for packed B.
    func bufferB(count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacityB { packedB = Self.reallocate(packedB, count); capacityB = count }
        return packedB
    }

    private static func reallocate(_ old: UnsafeMutablePointer<Float>, _ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(old).deallocate()
        return UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    deinit {
        UnsafeMutableRawPointer(packedA).deallocate()
        UnsafeMutableRawPointer(packedB).deallocate()
    }
}
