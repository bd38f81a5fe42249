import Randomness
import XCTest
@testable import Networks

/// Finite-difference checking of a layer's backward pass against its forward
/// pass, on a scalar probe `L = Σ r ⊙ forward(x)` with a fixed random `r`.
///
/// Everything is Float, so the step is large (1e-2) and the probe sums in
/// Double; for the piecewise-linear layers the difference quotient is then
/// exact up to rounding (~1e-5), and for batch norm and softmax the
/// truncation error is ~1e-4, far below what a wrong formula produces.
struct GradientChecker {
    var epsilon: Float = 1e-2
    var absoluteTolerance = 2e-3
    var relativeTolerance = 2e-3
    /// Entries of each tensor (and of the input) checked; all if the tensor is smaller.
    var samplesPerTensor = 24

    func check(_ layer: Layer, inputShape: FeatureShape, count: Int, mode: Mode = .training, seed: UInt64 = 1,
               input makeInput: ((inout SeededGenerator, Int) -> [Float])? = nil,
               file: StaticString = #filePath, line: UInt = #line) {
        var generator = SeededGenerator(seed: seed)
        layer.prepare(inputShape: inputShape, batchCapacity: count)
        let outputShape = try! layer.outputShape(for: inputShape)
        var x = makeInput?(&generator, count * inputShape.count)
            ?? (0..<(count * inputShape.count)).map { _ in Float(2 * generator.nextUniformDouble() - 1) }
        let r = (0..<(count * outputShape.count)).map { _ in Float(2 * generator.nextUniformDouble() - 1) }

        func probe() -> Double {
            x.withUnsafeBufferPointer { input in
                let y = layer.forward(input.baseAddress!, count: count, mode: mode)
                var sum = 0.0
                for i in 0..<r.count { sum += Double(r[i]) * Double(y[i]) }
                return sum
            }
        }

        // Analytic gradients (the input must stay alive through backward).
        var inputGradient: [Float] = []
        var parameterGradients: [String: [Float]] = [:]
        x.withUnsafeBufferPointer { input in
            _ = layer.forward(input.baseAddress!, count: count, mode: mode)
            r.withUnsafeBufferPointer { dy in
                let dx = layer.backward(dy.baseAddress!, count: count, needsInputGradient: true)!
                inputGradient = Array(UnsafeBufferPointer(start: dx, count: x.count))
            }
        }
        for p in layer.parameters where p.isTrainable { parameterGradients[p.name] = p.gradients }

        func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
            let error = abs(Double(analytic) - numeric)
            let allowed = absoluteTolerance + relativeTolerance * max(abs(numeric), abs(Double(analytic)))
            XCTAssert(error <= allowed, "\(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
        }
        func indices(_ n: Int) -> [Int] {
            n <= samplesPerTensor ? Array(0..<n) : (0..<samplesPerTensor).map { _ in generator.nextIndex(below: n) }
        }

        for i in indices(x.count) {
            let saved = x[i]
            x[i] = saved + epsilon; let plus = probe()
            x[i] = saved - epsilon; let minus = probe()
            x[i] = saved
            compare(inputGradient[i], (plus - minus) / (2 * Double(epsilon)), "\(type(of: layer)) input[\(i)]")
        }
        for p in layer.parameters where p.isTrainable {
            let gradient = parameterGradients[p.name]!
            let masked = p.mask
            for i in indices(p.count) {
                if let masked, masked[i] == 0 {
                    XCTAssertEqual(gradient[i], 0, "\(p.name)[\(i)] is masked but has gradient", file: file, line: line)
                    continue
                }
                let v = p.value.pointer, saved = v[i]
                v[i] = saved + epsilon; let plus = probe()
                v[i] = saved - epsilon; let minus = probe()
                v[i] = saved
                compare(gradient[i], (plus - minus) / (2 * Double(epsilon)), "\(p.name)[\(i)]")
            }
        }
    }
}

/// Random values in [-1, 1] for every tensor of a layer.
func randomize(_ parameters: [Parameter], seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    for p in parameters where p.isTrainable {
        let mask = p.mask
        p.values = (0..<p.count).map { i in mask.map { $0[i] } == 0 ? 0 : Float(2 * generator.nextUniformDouble() - 1) }
    }
}
