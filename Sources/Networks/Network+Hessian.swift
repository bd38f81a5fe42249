import Datasets

extension Network {
    /// The Hessian of the mean loss on `batch` times `vector` (GraSP's `Hg`),
    /// by central differences of gradients:
    /// `Hv ≈ (∇L(w + εv) − ∇L(w − εv)) / 2ε`, with the activation patterns
    /// frozen at `w` (see `withFrozenActivationPatterns`).
    ///
    /// `vector` gives a direction per trainable tensor by name (missing
    /// tensors are not perturbed; masked entries stay 0). Every tensor,
    /// including batch-norm running statistics, is restored afterwards; the
    /// gradient buffers are left holding ∇L(w − εv). In Float the result
    /// carries a relative error of about 1e-4 of the gradient's size for
    /// `ε = 1e-3`, ample for ranking weights.
    public func hessianVectorProduct(on batch: Batch, vector: [String: [Float]], epsilon: Float = 1e-3,
                                     mode: Mode = .training) throws -> [String: [Float]] {
        let saved = snapshot()
        let tensors = trainableParameters
        for tensor in tensors {
            if let v = vector[tensor.name], v.count != tensor.count {
                throw NetworkError("direction for \(tensor.name) has \(v.count) values, expected \(tensor.count)")
            }
        }
        func gradients(at sign: Float) -> [String: [Float]] {
            for tensor in tensors {
                guard let v = vector[tensor.name], let w = saved.values[tensor.name] else { continue }
                tensor.values = zip(w, v).map { $0 + sign * epsilon * $1 }
            }
            computeGradients(on: batch, mode: mode)
            return Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.gradients) })
        }
        // Freeze the ReLU/max-pool patterns at w: a unit flipped by the step
        // would add a jump of order 1/ε instead of curvature.
        computeGradients(on: batch, mode: mode)
        let (plus, minus) = withFrozenActivationPatterns { (gradients(at: 1), gradients(at: -1)) }
        try restore(saved)
        let scale = 1 / (2 * Double(epsilon))
        return plus.mapValues { _ in [] }.reduce(into: [:]) { result, entry in
            let p = plus[entry.key]!, m = minus[entry.key]!
            result[entry.key] = (0..<p.count).map { Float((Double(p[$0]) - Double(m[$0])) * scale) }
        }
    }
}
