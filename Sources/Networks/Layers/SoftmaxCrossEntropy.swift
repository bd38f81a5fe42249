import Foundation

/// Mean softmax cross-entropy over a batch, with its gradient with respect
/// to the logits. Stable for any logits: it subtracts each row's maximum
/// before exponentiating.
final class SoftmaxCrossEntropy {
    private(set) var classes: Int
    private var gradient: FloatBuffer?

    init(classes: Int) { self.classes = classes }

    func prepare(batchCapacity: Int) { ensureCapacity(&gradient, batchCapacity * classes) }

    /// Returns the mean loss and the number of correct arg-max predictions,
    /// and fills the gradient buffer with `(softmax − onehot) / count`.
    func evaluate(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, count: Int,
                  computeGradient: Bool) -> (loss: Double, correct: Int) {
        var total = 0.0, correct = 0
        let g = gradient!.pointer, scale = 1 / Float(max(count, 1))
        for n in 0..<count {
            let z = logits + n * classes
            let label = Int(labels[n])
            var maximum = z[0], best = 0
            for j in 1..<classes where z[j] > maximum { maximum = z[j]; best = j }
            if best == label { correct += 1 }
            var sum: Float = 0
            for j in 0..<classes { sum += expf(z[j] - maximum) }
            // NaN logits make `maximum` NaN too, so the loss reports the divergence.
            total += Double(logf(sum) - (z[label] - maximum))
            if computeGradient {
                let row = g + n * classes, inverse = 1 / sum
                for j in 0..<classes { row[j] = expf(z[j] - maximum) * inverse * scale }
                row[label] -= scale
            }
        }
        return (total / Double(max(count, 1)), correct)
    }

    var gradientPointer: UnsafePointer<Float> { UnsafePointer(gradient!.pointer) }
}
