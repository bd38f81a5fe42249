import Datasets
import Networks

/// Accumulates `G = Σ |∂L/∂w|` over every minibatch, per prunable tensor,
/// into buffers allocated once: the training loop does not know why.
final class GradientAccumulator: TrainingCallback {
    let tensors: [Parameter]
    private(set) var sums: [[Float]]

    init(network: Network) {
        tensors = network.prunableTensors
        sums = tensors.map { [Float](repeating: 0, count: $0.count) }
    }

    /// Puts back sums saved by tensor name (an in-round checkpoint's `accumulated/` tensors).
    func restore(_ saved: [String: [Float]]) throws {
        for (index, tensor) in tensors.enumerated() {
            guard let values = saved[tensor.name], values.count == tensor.count else {
                throw PruningError.unknownLayer(tensor.name, known: saved.keys.sorted())
            }
            sums[index] = values
        }
    }

    func trainer(_ trainer: Trainer, didComputeGradients step: StepInfo) {
        for index in tensors.indices {
            // Kept entries only when the tensor runs sparse (the rest add 0).
            sums[index].withUnsafeMutableBufferPointer { tensors[index].addAbsoluteGradients(to: $0) }
        }
    }
}

/// Captures the weights after `iteration` optimizer steps (late rewinding).
final class RewindCapture: TrainingCallback {
    let iteration: Int
    private(set) var snapshot: NetworkSnapshot?

    init(iteration: Int) {
        self.iteration = iteration
    }

    /// A capture taken before an interruption.
    func restore(_ captured: NetworkSnapshot) {
        snapshot = captured
    }

    func trainer(_ trainer: Trainer, didStep step: StepInfo) {
        if snapshot == nil, step.globalStep + 1 == iteration {
            snapshot = trainer.network.snapshot()
        }
    }
}

/// Gradients on scoring batches for SNIP, GraSP and end-of-round G, drawn from the
/// training split in an order fixed by the scoring seed. Batch-norm running
/// statistics are restored afterwards, so scoring leaves no trace. Also
/// SynFlow's data-free synaptic flow (`NetworkGradientOracle+SynapticFlow.swift`).
struct NetworkGradientOracle: GradientOracle {
    let network: Network
    let data: Dataset
    let normalization: Normalization
    let batchSize: Int
    let seed: UInt64
    /// GraSP's finite differences aim for this relative change of the gradient (see `hessianGradientProduct`).
    var targetRelativeChange: Double = NetworkGradientOracle.defaultTargetRelativeChange

    func absoluteGradientSum(batches: Int) throws -> [[Float]] {
        try accumulate(batches: batches) { sum, gradient in sum += abs(gradient) }
    }

    func meanGradient(batches: Int) throws -> [[Float]] {
        var visited = 0
        var sums = try accumulate(batches: batches) { sum, gradient in sum += gradient } onBatch: { visited += 1 }
        let scale = 1 / Float(max(visited, 1))
        for l in sums.indices { for i in sums[l].indices { sums[l][i] *= scale } }
        return sums
    }

    /// Runs `batches` minibatches (0: one full pass) and folds each gradient entry into the sums.
    private func accumulate(batches: Int, _ fold: (inout Float, Float) -> Void,
                            onBatch: () -> Void = {}) throws -> [[Float]] {
        let saved = network.snapshot()
        defer { try? network.restore(saved) }
        let tensors = network.prunableTensors
        var sums = tensors.map { [Float](repeating: 0, count: $0.count) }
        var iterator = BatchIterator(dataset: data, batchSize: batchSize, normalization: normalization, seed: seed)
        var batch = Batch(capacity: batchSize, shape: data.shape)
        var done = 0
        while (batches == 0 || done < batches), iterator.nextOnAllThreads(into: &batch) {
            network.computeGradients(on: batch)
            for (index, tensor) in tensors.enumerated() {
                tensor.withGradients { gradient in
                    for i in 0..<gradient.count { fold(&sums[index][i], gradient[i]) }
                }
            }
            done += 1
            onBatch()
        }
        return sums
    }
}
