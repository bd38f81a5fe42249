import Foundation

/// The fp32 multiply-add throughput this machine actually delivers, measured
/// rather than assumed: `threads` threads each run independent chains of
/// fused multiply-adds on registers (no memory traffic), all at the same
/// time. On a VM whose two vCPUs share one physical core, the 2-thread figure
/// comes out near the 1-thread one, and no GEMM can scale past it.
func measurePeakGFLOPS(threads: Int, seconds: Double = 0.3) -> Double {
    let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
    defer { rates.deallocate() }
    DispatchQueue.concurrentPerform(iterations: threads) { index in
        // 12 accumulators of 8 lanes fill AVX2's 16 registers; of 16 lanes,
        // AVX-512's 32. The wider one spills on AVX2 and the narrower one
        // leaves half of each AVX-512 register idle: the faster one is the peak.
        rates[index] = max(fusedMultiplyAddRate(SIMD8<Float>.self, seconds: seconds / 2),
                           fusedMultiplyAddRate(SIMD16<Float>.self, seconds: seconds / 2))
    }
    return rates.reduce(0, +)
}

/// GFLOP/s of one thread: 12 independent accumulators, enough to cover the
/// FMA latency on two pipes.
@inline(never)
private func fusedMultiplyAddRate<V: SIMD>(_: V.Type, seconds: Double) -> Double where V.Scalar == Float {
    let x = V(repeating: 0.999_999), y = V(repeating: 1e-7)
    var a0 = V(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
    var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    let rounds = 1 << 16
    var total = 0
    let start = Date()
    var elapsed = 0.0
    while elapsed < seconds {
        for _ in 0..<rounds {
            a0 = y.addingProduct(a0, x); a1 = y.addingProduct(a1, x); a2 = y.addingProduct(a2, x)
            a3 = y.addingProduct(a3, x); a4 = y.addingProduct(a4, x); a5 = y.addingProduct(a5, x)
            a6 = y.addingProduct(a6, x); a7 = y.addingProduct(a7, x); a8 = y.addingProduct(a8, x)
            a9 = y.addingProduct(a9, x); a10 = y.addingProduct(a10, x); a11 = y.addingProduct(a11, x)
        }
        total += rounds
        elapsed = Date().timeIntervalSince(start)
    }
    // Keep the chains alive.
    let sum = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    if sum == .infinity { print("") }
    return Double(total) * 12 * Double(V.scalarCount) * 2 / elapsed / 1e9
}
