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

/// The rule `Execution.auto` applies: a pruned tensor takes the sparse path
/// when its density is at most `maximumDensity`. Density only (never
/// timing), so a configuration always computes the same way. Chosen from
/// `make bench-sparse` (see the README): every measured layer was faster
/// sparse at 1/8 and most were slower at 1/4, for dense layers and
/// convolutions alike, so the line sits between the two (a random mask
/// of "1/8" keeps a little more or less than exactly 1/8).
enum SparseCrossover {
    static let maximumDensity = 0.1875

    static func prefersSparse(density: Double) -> Bool { density <= maximumDensity }
}
