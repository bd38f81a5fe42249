import MatrixKernels

/// One named tensor of a network: a weight, a bias, a batch-norm scale or
/// shift, or a batch-norm running statistic.
///
/// Prunable tensors (dense and convolution weights) carry a mask of 0s and
/// 1s. The network keeps the invariant that a masked entry's value, its
/// gradient and its optimizer state are exactly zero, so the forward pass
/// needs no multiply by the mask.
///
/// Names are stable and hierarchical (`fc1.weight`, `stage2.block1.conv1.weight`),
/// so scores, masks and snapshots can be matched across runs and rounds.
public final class Parameter {
    /// What role the tensor plays.
    public enum Kind: String, Sendable, Codable {
        /// Dense or convolution weights: prunable, trainable.
        case weight
        case bias
        /// Batch-norm γ.
        case scale
        /// Batch-norm β.
        case shift
        /// Batch-norm running mean or variance: state, not trained.
        case runningStatistic
    }

    public let name: String
    public let kind: Kind
    /// Logical shape: `[out, in]` for dense weights, `[out, in, kh, kw]` for
    /// convolution weights, `[n]` otherwise.
    public let shape: [Int]
    public let count: Int
    /// Inputs feeding one output unit (for initialisation).
    public let fanIn: Int
    /// Outputs fed by one input unit (for initialisation).
    public let fanOut: Int

    let value: FloatBuffer
    let gradient: FloatBuffer
    let maskBuffer: FloatBuffer?
    /// Whether every mask entry is 1 (dense training skips the gradient masking pass).
    private(set) var maskIsFull = true
    /// Entries the mask keeps.
    private var keptCount: Int
    /// Counts mask changes, so the optimizer can clear state it no longer owns.
    private(set) var maskGeneration = 0
    /// How the layers multiply by this tensor (set by `Network.execution`).
    var execution: Execution = .auto
    /// The kept positions, rows = `shape[0]`; built on first use after a mask change.
    private var compressedRows: CompressedRows?

    init(name: String, kind: Kind, shape: [Int], fanIn: Int = 1, fanOut: Int = 1) {
        self.name = name
        self.kind = kind
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.fanIn = fanIn
        self.fanOut = fanOut
        keptCount = count
        value = FloatBuffer(count: count)
        gradient = FloatBuffer(count: kind == .runningStatistic ? 0 : count)
        if kind == .weight {
            maskBuffer = FloatBuffer(count: count)
            maskBuffer!.fill(1)
        } else {
            maskBuffer = nil
        }
    }

    /// Whether the tensor carries a mask (dense and convolution weights).
    public var isPrunable: Bool { kind == .weight }

    /// Whether the optimizer updates it.
    public var isTrainable: Bool { kind != .runningStatistic }

    /// The current values (a copy). Setting them re-applies the mask.
    public var values: [Float] {
        get { value.array }
        set {
            value.copy(from: newValue)
            applyMask()
        }
    }

    /// The gradient of the last `computeGradients` (zero at masked entries).
    public var gradients: [Float] { gradient.array }

    /// The mask, 0 or 1 per entry; `nil` for tensors that are not prunable.
    /// Setting it zeroes the newly masked values at once.
    public var mask: [Float]? {
        get { maskBuffer?.array }
        set {
            guard let maskBuffer else { preconditionFailure("\(name) is not prunable") }
            maskGeneration += 1
            compressedRows = nil
            guard let newValue else { maskBuffer.fill(1); maskIsFull = true; keptCount = count; return }
            precondition(newValue.allSatisfy { $0 == 0 || $0 == 1 }, "mask entries must be 0 or 1")
            maskBuffer.copy(from: newValue)
            keptCount = newValue.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
            maskIsFull = keptCount == count
            applyMask()
            // The sparse path writes kept gradient entries only: the rest must be 0 already.
            applyMaskToGradient()
        }
    }

    /// Entries the mask keeps (all entries for unmasked tensors).
    public var unmaskedCount: Int { keptCount }

    /// Whether the layers' forward and input-gradient products work on the
    /// kept entries only, by `execution` and `SparseCrossover`.
    var usesSparseProducts: Bool {
        guard isPrunable else { return false }
        switch execution {
        case .dense: return false
        case .sparse: return true
        case .auto: return !maskIsFull && SparseCrossover.prefersSparseProducts(shape: shape, density: density)
        }
    }

    /// Whether the layers compute the weight gradient at the kept entries
    /// only (else with the GEMM, then masked), and the optimizer step and
    /// |∂L/∂w| accumulation visit only those: a subset of `usesSparseProducts`.
    var usesSparseGradient: Bool {
        usesSparseProducts && (execution == .sparse || SparseCrossover.prefersSparseGradient(shape: shape, density: density))
    }

    private var density: Double { Double(keptCount) / Double(count) }

    /// The kept positions as rows of `shape[0]` output units (built once per mask).
    var keptRows: CompressedRows {
        if let compressedRows { return compressedRows }
        let rows = shape[0]
        let built = CompressedRows(mask: maskBuffer!.pointer, rows: rows, columns: count / rows)
        compressedRows = built
        return built
    }

    /// Adds |∂L/∂w| to `sums` entry by entry (the data-dependent criterion's
    /// Σ|g|); with a sparse gradient only at kept entries, as the others are 0.
    public func addAbsoluteGradients(to sums: UnsafeMutableBufferPointer<Float>) {
        precondition(sums.count == gradient.count, "\(name): \(sums.count) sums for \(gradient.count) gradients")
        let g = gradient.pointer, s = sums.baseAddress!
        if usesSparseGradient {
            let kept = keptRows
            for r in 0..<kept.rows {
                let base = r * kept.columns
                for t in kept.entries(ofRow: r) {
                    let i = base + Int(kept.columnIndices[t])
                    s[i] += abs(g[i])
                }
            }
        } else {
            for i in 0..<gradient.count { s[i] += abs(g[i]) }
        }
    }

    /// Read-only access to the values without copying.
    public func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: value.pointer, count: count))
    }

    /// Mutable access to the values without copying. The caller keeps masked
    /// entries at zero (or calls `applyMask()` afterwards).
    public func withMutableValues<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: value.pointer, count: count))
    }

    /// Read-only access to the gradient without copying: what a per-step
    /// hook uses to accumulate |∂L/∂w| with no allocation.
    public func withGradients<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: gradient.pointer, count: gradient.count))
    }

    /// Read-only access to the mask (`nil` when not prunable).
    public func withMask<R>(_ body: (UnsafeBufferPointer<Float>?) throws -> R) rethrows -> R {
        try body(maskBuffer.map { UnsafeBufferPointer(start: $0.pointer, count: count) })
    }

    /// Zeroes the values at masked entries.
    public func applyMask() {
        guard let maskBuffer else { return }
        let v = value.pointer, m = maskBuffer.pointer
        // A select, not a multiply: NaN × 0 would stay NaN, and -0 is not +0.
        for i in 0..<count { v[i] = m[i] == 0 ? 0 : v[i] }
    }

    /// Zeroes the gradient at masked entries: pruned weights get no gradient.
    func applyMaskToGradient() {
        guard let maskBuffer, !maskIsFull else { return }
        let g = gradient.pointer, m = maskBuffer.pointer
        for i in 0..<count { g[i] = m[i] == 0 ? 0 : g[i] }
    }
}
