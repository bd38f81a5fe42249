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

/// The rule `Execution.auto` applies: a tensor takes the sparse path when
/// its density is at most the crossover for its kind of layer. Shape and
/// density only, never timing, so a configuration always computes the same
/// way. The numbers come from `make bench-sparse` (see the README).
enum SparseCrossover {
    /// Highest density at which a dense layer's weights (`[out, in]`) go sparse.
    static let denseLayer = 0.25
    /// Highest density at which a convolution's weights (`[out, in, kh, kw]`) go sparse.
    static let convolution = 0.125

    static func prefersSparse(shape: [Int], density: Double) -> Bool {
        density <= (shape.count == 2 ? denseLayer : convolution)
    }
}
