import Datasets
import MatrixKernels

extension BatchIterator {
    /// `next(into:)` with the batch's normalisation split over the kernels'
    /// threads, which are idle between training steps (serial, the fill
    /// was 9% of the samples of a 1/64-density LeNet run).
    /// The same floats as on one thread.
    public mutating func nextOnAllThreads(into batch: inout Batch) -> Bool {
        next(into: &batch) { fill in
            let pool = WorkerPool.shared
            pool.perform(BatchFillWork(fill: fill), parts: pool.chunkCount(of: fill.floatCount, grain: 1 << 14))
        }
    }
}

private struct BatchFillWork: ParallelWork {
    let fill: BatchFill
    func perform(part: Int, of parts: Int) { fill.fill(part: part, of: parts) }
}
