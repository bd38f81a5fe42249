import MatrixKernels

/// Which kernels the masked layers (`Dense`, `Convolution`) use for their
/// products with a pruned weight tensor.
///
/// Both paths give the same bits (the sparse kernels sum the kept terms in
/// the GEMM's order, see `MatrixKernels/SparseProducts.swift`), so the choice
/// changes speed only and is not part of a run's configuration.
public enum Execution: String, Sendable, Codable, CaseIterable {
    /// Sparse below the density crossover (`SparseCrossover`), dense above.
    case auto
    /// Always the dense GEMM.
    case dense
    /// Always the sparse kernels (even for an unpruned tensor).
    case sparse

    /// What new networks use; the CLI's `--execution` sets it.
    nonisolated(unsafe) public static var processDefault: Execution = .auto
}

/// The rule `Execution.auto` applies, per product: a pruned tensor's
/// forward and input-gradient products take the sparse kernels when its
/// density is at most `maximumProductDensity(shape:)`, its weight gradient
/// when at most `maximumGradientDensity` as well. Shape and density only
/// (never timing), so a configuration always computes the same way.
///
/// Chosen from `make bench-sparse` (see the README). On a quiet host, with
/// the 6 × 32 GEMM and the fused passes on the dense side, a dense layer's
/// sparse products were 0.93-1.02× its GEMMs at 1/4 and 1.13-1.29× at 1/8
/// (under load they had won at 1/4, hence 3/8 before); a convolution's lose
/// at 1/4 and at best break even at 1/8. The weight gradient's
/// register transposes cost about four shuffles per 16 multiply-adds, so
/// beside sparse products the GEMM's dW was faster at 1/8 and slower at
/// 1/16 (for convolutions with more than 288 taps per filter: faster at
/// 1/16, slower at 1/32). Each line sits between two measured densities, as a random mask
/// of "1/4" keeps a little more or less than exactly 1/4.
enum SparseCrossover {
    static let maximumGradientDensity = 0.09375

    /// 3/16 for a dense layer's `[out, in]` matrix, 3/32 for a convolution's
    /// kernels: at 1/8 a convolution's sparse products (beside the GEMM's dW)
    /// were 0.95-1.04× dense on the 12-02 host and 0.74-0.96× (16 channels
    /// 0.84-1.18×) in three runs on 12-03's, so they go sparse from 1/16.
    static func maximumProductDensity(shape: [Int]) -> Double { shape.count == 2 ? 0.1875 : 0.09375 }

    static func prefersSparseProducts(shape: [Int], density: Double) -> Bool {
        density <= maximumProductDensity(shape: shape)
    }

    /// A convolution's sparse weight gradient pays later when each filter
    /// has many taps (more than 32 input channels of 3 × 3): at 1/16 it was
    /// 1.31-2.10× dense for 16 and 32 input channels but 0.92-1.23× for 64
    /// and 512, where the GEMM's dW beside sparse products gave 1.10-1.42×.
    static let maximumGradientTapsAtFullLine = 288

    static func prefersSparseGradient(shape: [Int], density: Double) -> Bool {
        let taps = shape.dropFirst().reduce(1, *)
        let line = shape.count == 2 || taps <= maximumGradientTapsAtFullLine
            ? maximumGradientDensity : maximumGradientDensity / 2
        return density <= line
    }
}
