import Foundation
import Networks

extension NetworkGradientOracle {
    func synapticFlowGradient() throws -> [[Float]] {
        try Pruning.synapticFlowGradient(of: network)
    }
}

/// SynFlow's `∂R/∂w / R` for every prunable tensor of `network`, at its
/// current masks, leaving the network exactly as it was.
///
/// Linearisation follows the authors' code: every tensor (weights, biases,
/// batch-norm scale, shift and running statistics) is replaced by its
/// absolute value, batch norm runs in evaluation mode (running statistics),
/// and the input is one example of all ones; `R` is the sum of the logits.
///
/// Overflow guard. `R` grows like the product of the layers' gains and
/// overflows Float32 (3.4·10³⁸) in deep or wide networks (the authors ran in
/// double precision); the backward signal reaching the first layer is as
/// large as `R` itself. The linearised network is positively homogeneous in
/// (input, biases, shifts, running means) jointly, and its backward pass is
/// linear in the output seed, so feeding `s·1` (with those additive tensors
/// scaled by `s`) and seeding the backward pass with `t` instead of 1 scales
/// every weight gradient by exactly `s·t`. We find `R` with a cheap forward
/// pass (retrying at smaller `s` if it overflows), then take powers of two
/// `s ≈ t ≈ R^(−1/2)`: forward values and backward signals both stay within
/// `[R^(−1/2), R^(1/2)]`, so any `R` up to ~10⁷⁶ is handled with no loss, and
/// a larger one throws `numericalFailure` instead of returning infinities.
func synapticFlowGradient(of network: Network) throws -> [[Float]] {
    let saved = network.snapshot()
    defer { try? network.restore(saved) }
    for tensor in network.parameters {
        tensor.withMutableValues { v in for i in 0..<v.count { v[i] = abs(v[i]) } }
    }
    // Tensors added to (not multiplied with) the activations: scaled with the input.
    let additive = network.parameters.filter {
        $0.kind == .bias || $0.kind == .shift || ($0.kind == .runningStatistic && $0.name.hasSuffix("running_mean"))
    }
    let additiveValues = additive.map(\.values)
    let inputCount = network.inputShape.count
    let classes = network.classCount

    /// Forward pass at input scale `s`, returning `s·R` (the logits stay in the network's buffer).
    func flow(inputScale s: Float) -> Double {
        for (tensor, values) in zip(additive, additiveValues) {
            tensor.withMutableValues { v in for i in 0..<v.count { v[i] = values[i] * s } }
        }
        let input = [Float](repeating: s, count: inputCount)
        return input.withUnsafeBufferPointer { x in
            let logits = network.forward(x.baseAddress!, count: 1, mode: .evaluation)
            var total = 0.0
            for j in 0..<classes { total += Double(logits[j]) }
            return total
        }
    }

    // Locate R: powers of two scale exactly, so s·R at a smaller s gives R
    // when s = 1 overflows, and at a larger s when s = 1 underflows to 0.
    var log2R: Double?
    for exponent in [0, -40, -80, -120, 40, 80, 120] {
        let scaled = flow(inputScale: Float(sign: .plus, exponent: exponent, significand: 1))
        if scaled.isFinite && scaled > 0 {
            log2R = log2(scaled) - Double(exponent)
            break
        }
    }
    let tensors = network.prunableTensors
    guard let log2R else {
        // No finite positive R at any scale: zero everywhere means no path from input to output.
        if flow(inputScale: 1) == 0 && flow(inputScale: Float(sign: .plus, exponent: 120, significand: 1)) == 0 {
            return tensors.map { [Float](repeating: 0, count: $0.count) }
        }
        throw PruningError.numericalFailure(criterion: "synflow", "the synaptic flow R overflows Float32 at every input scale")
    }
    let total = Int(log2R.rounded())
    let forwardExponent = -(total / 2), backwardExponent = -(total - total / 2)
    guard abs(forwardExponent) <= 126, abs(backwardExponent) <= 126 else {
        throw PruningError.numericalFailure(criterion: "synflow",
            "the synaptic flow R ≈ 2^\(total) is beyond what Float32 can carry even with balanced scaling")
    }
    let s = Float(sign: .plus, exponent: forwardExponent, significand: 1)
    let t = Float(sign: .plus, exponent: backwardExponent, significand: 1)
    var scaledR = 0.0
    let input = [Float](repeating: s, count: inputCount)
    for (tensor, values) in zip(additive, additiveValues) {
        tensor.withMutableValues { v in for i in 0..<v.count { v[i] = values[i] * s } }
    }
    input.withUnsafeBufferPointer { x in
        let logits = network.forward(x.baseAddress!, count: 1, mode: .evaluation)
        for j in 0..<classes { scaledR += Double(logits[j]) }
        let seed = [Float](repeating: t, count: classes)
        seed.withUnsafeBufferPointer { network.backward(logitGradient: $0.baseAddress!, count: 1) }
    }
    // Gradients are s·t·∂R/∂w and scaledR = s·R, so ∂R/∂w / R = gradient / (t · scaledR).
    let normaliser = 1 / (Double(t) * scaledR)
    guard scaledR > 0, normaliser.isFinite else {
        throw PruningError.numericalFailure(criterion: "synflow", "the scaled synaptic flow is \(scaledR)")
    }
    var result: [[Float]] = []
    for tensor in tensors {
        let row = tensor.withGradients { g in (0..<g.count).map { Float(Double(g[$0]) * normaliser) } }
        if row.contains(where: { !$0.isFinite }) {
            throw PruningError.numericalFailure(criterion: "synflow", "\(tensor.name): the synaptic flow gradient is not finite")
        }
        result.append(row)
    }
    return result
}
