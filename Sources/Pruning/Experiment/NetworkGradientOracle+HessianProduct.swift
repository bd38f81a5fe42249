import Datasets
import Foundation
import Networks

/// GraSP's Hessian-gradient product on the network, by central finite
/// differences of gradients:
///
///     Hg ≈ (∇L(θ + εg) − ∇L(θ − εg)) / 2ε
///
/// with the perturbation along `g` applied to the prunable weights only (the
/// Hessian block GraSP uses; biases and batch-norm parameters stay put) and
/// `ε = η · ‖θ‖ / ‖g‖`: the step moves the weights by a *relative* amount η.
///
/// Choice of η. What matters is not how far the weights move but how far
/// the gradient does: the relative change `c = ‖Σ_b ΔG_b‖ / ‖g‖` of the
/// difference. Float32 gradients carry ~10⁻⁷ relative rounding, so the
/// quotient's rounding error is ~10⁻⁷/c; the central difference's
/// truncation error grows like c² (we measured ≈ 0.3·c² on LeNet at T = 1:
/// 0.5% at c = 0.12, 7.6% at c = 0.48). Both are ≈ 10⁻⁵ at c = 10⁻²
/// (`targetRelativeChange`). The same η gives very different c, c ≈ 0.12 at
/// T = 1 but ≈ 0.03 at T = 200 on LeNet at η = 10⁻³, and ≈ 10⁻⁵ on a
/// softmax regression at T = 200, where the loss is nearly linear. So we
/// start at η = 10⁻³, measure c, rescale η by target/c (c is proportional
/// to η while the difference is accurate) and repeat, at most three more
/// times, until c is within a factor 3 of the target; η stays in [10⁻⁶, 0.1].
/// The test suite checks the product against the exact Hessian of a softmax
/// regression at T = 1, 3 and 200, and on LeNet against a difference with a
/// five times smaller target.
///
/// ReLU kinks. A ReLU network's gradient jumps wherever the step flips a
/// unit; each flip adds a jump/2ε spike, and since the number of flips grows
/// like ε the error does not vanish as ε → 0 (we measured 40-80% disagreement
/// between η = 10⁻³ and 4·10⁻³ on LeNet). So each batch's ReLU on/off
/// pattern and max-pool positions are frozen at θ for the ±εg passes
/// (`Network.withFrozenActivationPatterns`): we differentiate the network
/// of θ's linear region, which is what the paper's double back-propagation
/// does (ReLU'' = 0). Batch norm (training mode) stays live: it is smooth.
/// We start at η = 10⁻³. In a multi-layer network the gradient is multilinear
/// in the layers' weights, so it moves by ~η relative and the rounding error
/// is ~10⁻⁴. Where the loss is nearly linear over the step (a single layer,
/// or GraSP's temperature T = 200 flattening the softmax) the gradient moves
/// far less and cancellation dominates; then the Taylor remainder is tiny
/// too, so η is enlarged (once or twice, at most to 0.1) until the gradient
/// difference is at least 10⁻³ of ‖g‖. The test suite checks the product
/// against the exact Hessian of a softmax regression at T = 1, 3 and 200.
extension NetworkGradientOracle {
    /// The first relative weight perturbation η tried.
    static let relativeStep: Double = 1e-3
    /// Bounds on η: below 10⁻⁶ Float32 weights barely move, above 0.1 the step is no longer local.
    static let relativeStepRange: ClosedRange<Double> = 1e-6...0.1
    /// Default target for the gradient's relative change `c` across the difference.
    static let defaultTargetRelativeChange: Double = 1e-2

    func hessianGradientProduct(batches: Int, temperature: Float) throws -> [[Float]] {
        precondition(batches >= 1, "GraSP needs at least one scoring batch")
        let saved = network.snapshot()
        defer { try? network.restore(saved) }
        let tensors = network.prunableTensors
        let theta = tensors.map(\.values)
        let scoring = scoringBatches(batches)

        // g = Σ_b ∇L_b, at θ.
        let g = temperedGradientSum(on: scoring, temperature: temperature)
        var thetaSquares = 0.0, gSquares = 0.0
        for l in theta.indices {
            for i in theta[l].indices {
                thetaSquares += Double(theta[l][i]) * Double(theta[l][i])
                gSquares += Double(g[l][i]) * Double(g[l][i])
            }
        }
        guard gSquares > 0, gSquares.isFinite else {
            // No gradient (or a non-finite one): report zeros rather than divide by zero.
            guard gSquares.isFinite else {
                throw PruningError.numericalFailure(criterion: "grasp", "the scoring gradient is not finite")
            }
            return theta.map { [Float](repeating: 0, count: $0.count) }
        }
        let thetaNorm = thetaSquares > 0 ? thetaSquares.squareRoot() : 1
        let gNorm = gSquares.squareRoot()

        func setWeights(step: Double) {
            for (l, tensor) in tensors.enumerated() {
                tensor.withMutableValues { v in
                    // g is zero at masked entries, so pruned weights stay exactly 0.
                    for i in 0..<v.count { v[i] = Float(Double(theta[l][i]) + step * Double(g[l][i])) }
                }
            }
        }
        /// Σ_b (∇L_b(θ + εg) − ∇L_b(θ − εg)), each batch's ReLU and max-pool
        /// patterns frozen at θ: the gradient is then smooth along the step,
        /// so the difference measures the Hessian automatic differentiation
        /// would, not the jumps of units the step happens to flip.
        func gradientDifference(epsilon: Double) throws -> [[Double]] {
            var difference = theta.map { [Double](repeating: 0, count: $0.count) }
            for batch in scoring {
                try network.restore(saved)
                _ = temperedGradientSum(on: [batch], temperature: temperature)  // records the patterns at θ
                try network.withFrozenActivationPatterns {
                    setWeights(step: epsilon)
                    let plus = temperedGradientSum(on: [batch], temperature: temperature)
                    try network.restore(saved)
                    setWeights(step: -epsilon)
                    let minus = temperedGradientSum(on: [batch], temperature: temperature)
                    for l in difference.indices {
                        for i in difference[l].indices { difference[l][i] += Double(plus[l][i]) - Double(minus[l][i]) }
                    }
                }
            }
            return difference
        }
        var eta = Self.relativeStep
        var product: [[Float]] = []
        for attempt in 0..<4 {
            let epsilon = eta * thetaNorm / gNorm
            let differences = try gradientDifference(epsilon: epsilon)
            var changeSquares = 0.0
            product = theta.map { [Float](repeating: 0, count: $0.count) }
            for l in product.indices {
                for i in product[l].indices {
                    let difference = differences[l][i]
                    changeSquares += difference * difference
                    product[l][i] = Float(difference / (2 * epsilon))
                }
            }
            let change = changeSquares.squareRoot() / gNorm
            let ratio = change / targetRelativeChange
            // No curvature at all, close enough to the target, or out of tries.
            guard change > 0, ratio < 1.0 / 3 || ratio > 3, attempt < 3 else { break }
            let next = min(max(eta / ratio, Self.relativeStepRange.lowerBound), Self.relativeStepRange.upperBound)
            guard next != eta else { break }
            eta = next
        }
        if product.contains(where: { $0.contains { !$0.isFinite } }) {
            throw PruningError.numericalFailure(criterion: "grasp", "the Hessian-gradient product is not finite")
        }
        return product
    }

    /// The first `count` scoring batches (the same ones SNIP would see).
    func scoringBatches(_ count: Int) -> [Batch] {
        var iterator = BatchIterator(dataset: data, batchSize: batchSize, normalization: normalization, seed: seed)
        var batch = Batch(capacity: batchSize, shape: data.shape)
        var result: [Batch] = []
        while result.count < count, iterator.next(into: &batch) { result.append(batch) }
        return result
    }

    /// `Σ_b ∂L_b/∂w` over the prunable tensors, with `L_b` the mean
    /// cross-entropy of the batch's logits divided by `temperature`
    /// (training mode, as SNIP's gradients). Temperature 1 is the
    /// ordinary loss.
    func temperedGradientSum(on batches: [Batch], temperature: Float) -> [[Float]] {
        let tensors = network.prunableTensors
        var sums = tensors.map { [Float](repeating: 0, count: $0.count) }
        let classes = network.classCount
        for batch in batches {
            let count = batch.count
            var logitGradient = [Float](repeating: 0, count: count * classes)
            // The input must stay alive until the backward pass: both happen inside the closure.
            batch.inputs.withUnsafeBufferPointer { inputs in
                let logits = network.forward(inputs.baseAddress!, count: count, mode: .training)
                // d/dz CE(z/T) = (softmax(z/T) − onehot) / T, averaged over the batch.
                let t = Double(temperature), scale = 1 / (t * Double(count))
                var p = [Double](repeating: 0, count: classes)
                for n in 0..<count {
                    var maximum = -Double.infinity
                    for j in 0..<classes { maximum = max(maximum, Double(logits[n * classes + j]) / t) }
                    var total = 0.0
                    for j in 0..<classes {
                        p[j] = exp(Double(logits[n * classes + j]) / t - maximum)
                        total += p[j]
                    }
                    let label = Int(batch.labels[n])
                    for j in 0..<classes {
                        logitGradient[n * classes + j] = Float((p[j] / total - (j == label ? 1 : 0)) * scale)
                    }
                }
                logitGradient.withUnsafeBufferPointer { network.backward(logitGradient: $0.baseAddress!, count: count) }
            }
            for (index, tensor) in tensors.enumerated() {
                tensor.withGradients { gradient in
                    for i in 0..<gradient.count { sums[index][i] += gradient[i] }
                }
            }
        }
        return sums
    }
}
