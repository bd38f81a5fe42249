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
/// `ε = η · ‖θ‖ / ‖g‖`, so the step moves the weights by a fixed *relative*
/// amount η whatever the scale of the gradient.
///
/// Choice of η. Gradients carry ~10⁻⁷ relative rounding in Float32, so the
/// difference quotient's rounding error is ~10⁻⁷ · ‖∇L‖ / ‖∇L(θ+εg) − ∇L(θ−εg)‖;
/// the central difference's truncation error is second order in the step,
/// plus an O(η) error from the few ReLU units a step pushes across their kink.
/// We start at η = 10⁻³. In a multi-layer network the gradient is multilinear
/// in the layers' weights, so it moves by ~η relative and the rounding error
/// is ~10⁻⁴. Where the loss is nearly linear over the step (a single layer,
/// or GraSP's temperature T = 200 flattening the softmax) the gradient moves
/// far less and cancellation dominates; then the Taylor remainder is tiny
/// too, so η is enlarged (once or twice, at most to 0.1) until the gradient
/// difference is at least 10⁻³ of ‖g‖. The test suite checks the product
/// against the exact Hessian of a softmax regression at T = 1, 3 and 200.
extension NetworkGradientOracle {
    /// Initial relative weight perturbation η of the finite difference.
    static let relativeStep: Double = 1e-3
    /// Largest η the step may grow to when the gradient barely moves.
    static let largestRelativeStep: Double = 0.1
    /// Smallest ‖∇L(θ+εg) − ∇L(θ−εg)‖ / ‖g‖ accepted before η is enlarged.
    static let smallestRelativeChange: Double = 1e-3

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

        func gradient(at step: Double) throws -> [[Float]] {
            try network.restore(saved)
            for (l, tensor) in tensors.enumerated() {
                tensor.withMutableValues { v in
                    // g is zero at masked entries, so pruned weights stay exactly 0.
                    for i in 0..<v.count { v[i] = Float(Double(theta[l][i]) + step * Double(g[l][i])) }
                }
            }
            return temperedGradientSum(on: scoring, temperature: temperature)
        }
        var eta = Self.relativeStep
        var product: [[Float]] = []
        for _ in 0..<3 {
            let epsilon = eta * thetaNorm / gNorm
            let plus = try gradient(at: epsilon), minus = try gradient(at: -epsilon)
            var changeSquares = 0.0
            product = theta.map { [Float](repeating: 0, count: $0.count) }
            for l in product.indices {
                for i in product[l].indices {
                    let difference = Double(plus[l][i]) - Double(minus[l][i])
                    changeSquares += difference * difference
                    product[l][i] = Float(difference / (2 * epsilon))
                }
            }
            let change = changeSquares.squareRoot() / gNorm
            guard change > 0, change < Self.smallestRelativeChange, eta < Self.largestRelativeStep else { break }
            // Near-linear regime: the difference grows in proportion to the step.
            eta = min(Self.largestRelativeStep, eta * 2 * Self.smallestRelativeChange / change)
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
