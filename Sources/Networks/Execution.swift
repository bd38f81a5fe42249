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
/// density is at most `maximumProductDensity`, its weight gradient when at
/// most `maximumGradientDensity`. Shape and density only (never timing), so
/// a configuration always computes the same way. Chosen from `make
/// bench-sparse` (see the README).
enum SparseCrossover {
    static let maximumProductDensity = 0.375
    static let maximumGradientDensity = 0.1875

    static func prefersSparseProducts(density: Double) -> Bool { density <= maximumProductDensity }
    static func prefersSparseGradient(density: Double) -> Bool { density <= maximumGradientDensity }
}
