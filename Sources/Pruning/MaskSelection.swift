/// How much to keep.
public enum PruningAmount: Sendable, Hashable {
    /// Keep this fraction of all weights (alive or not) of the eligible layers.
    case density(Double)
    /// Remove this fraction of the weights still alive (iterative pruning's rate).
    case fractionOfRemaining(Double)
}

/// Where the threshold is drawn.
public enum PruningScope: String, Sendable, Hashable, Codable, CaseIterable {
    /// One threshold over every eligible tensor (the study's choice).
    case global
    /// The same amount in each layer, or per-layer amounts.
    case layerwise
}

/// A request to turn scores into masks.
public struct SelectionRequest: Sendable {
    public var scope: PruningScope
    public var amount: PruningAmount
    /// Layerwise only: amounts for particular layers (by name), e.g. Frankle &
    /// Carbin's 10% for the output layer against 20% elsewhere.
    public var layerAmounts: [String: PruningAmount]
    /// Layers never pruned (e.g. the output layer, the first conv).
    public var excludedLayers: Set<String>

    public init(scope: PruningScope, amount: PruningAmount, layerAmounts: [String: PruningAmount] = [:],
                excludedLayers: Set<String> = []) {
        self.scope = scope
        self.amount = amount
        self.layerAmounts = layerAmounts
        self.excludedLayers = excludedLayers
    }
}

/// Requested versus achieved density of one layer after selection.
public struct LayerDensity: Sendable, Hashable {
    public var name: String
    public var weights: Int
    public var remaining: Int
    /// The layer's own target (layerwise), or the global target (global); `nil` when excluded.
    public var requestedDensity: Double?
    public var achievedDensity: Double { weights == 0 ? 1 : Double(remaining) / Double(weights) }
    /// Every weight of the layer is pruned: the network is cut.
    public var collapsed: Bool { weights > 0 && remaining == 0 }
}

/// The new masks and what was achieved.
public struct SelectionResult: Sendable {
    public var masks: [[Bool]]
    public var layers: [LayerDensity]
    /// Target density over all prunable weights, when the request fixes one.
    public var requestedDensity: Double
    public var achievedDensity: Double {
        let total = layers.reduce(0) { $0 + $1.weights }
        return total == 0 ? 1 : Double(layers.reduce(0) { $0 + $1.remaining }) / Double(total)
    }
    /// Some layer lost every weight (layer collapse): the run must be reported as collapsed.
    public var collapsed: Bool { layers.contains { $0.collapsed } }
    /// Scores that were NaN (treated as the lowest, so pruned first).
    public var nanScores: Int
}

/// Turns scores into masks: keeps the highest-scoring alive weights.
///
/// Rules: already-pruned weights stay pruned (they are never candidates);
/// the number kept is `round(target)` exactly, so achieved density equals
/// requested density to one weight; ties are broken by position (the
/// earlier layer, then the lower index, is kept), so masks never depend on
/// sort stability; NaN scores rank below every number.
public func selectMasks(scores: [[Float]], state: PruningState, request: SelectionRequest) throws -> SelectionResult {
    let layers = state.layers
    guard scores.count == layers.count else {
        throw PruningError.invalidAmount("\(scores.count) score tensors for \(layers.count) layers")
    }
    for (layer, layerScores) in zip(layers, scores) where layerScores.count != layer.count {
        throw PruningError.scoresShapeMismatch(layer: layer.name, expected: layer.count, actual: layerScores.count)
    }
    let names = layers.map(\.name)
    for name in request.excludedLayers.union(request.layerAmounts.keys) where !names.contains(name) {
        throw PruningError.unknownLayer(name, known: names)
    }
    try validate(request.amount)
    for amount in request.layerAmounts.values { try validate(amount) }
    if request.scope == .global && !request.layerAmounts.isEmpty {
        throw PruningError.invalidAmount("per-layer amounts need the layerwise scope")
    }

    var masks = layers.map(\.mask)
    var nanScores = 0
    var requestedPerLayer = [Double?](repeating: nil, count: layers.count)
    let eligible = layers.indices.filter { !request.excludedLayers.contains(layers[$0].name) }

    func keepCount(_ amount: PruningAmount, total: Int, alive: Int) -> (keep: Int, requested: Double) {
        switch amount {
        case .density(let d):
            // Cannot resurrect: a target above what is alive keeps what is alive.
            return (min(alive, Int((Double(total) * d).rounded())), d)
        case .fractionOfRemaining(let f):
            let keep = Int((Double(alive) * (1 - f)).rounded())
            return (keep, total == 0 ? 1 : Double(keep) / Double(total))
        }
    }

    /// Keeps the `keep` best alive entries among `candidates` (layer, index).
    func keepBest(_ candidates: [(layer: Int, index: Int)], keep: Int) {
        let ordered = candidates.sorted { a, b in
            let sa = scores[a.layer][a.index], sb = scores[b.layer][b.index]
            if sa.isNaN != sb.isNaN { return sb.isNaN }  // numbers before NaN
            if !sa.isNaN && sa != sb { return sa > sb }
            return (a.layer, a.index) < (b.layer, b.index)
        }
        for entry in ordered[keep...] { masks[entry.layer][entry.index] = false }
    }

    func aliveEntries(_ layerIndices: [Int]) -> [(layer: Int, index: Int)] {
        var entries: [(layer: Int, index: Int)] = []
        for l in layerIndices {
            for i in 0..<layers[l].count where layers[l].mask[i] {
                entries.append((l, i))
                if scores[l][i].isNaN { nanScores += 1 }
            }
        }
        return entries
    }

    var requestedOverall: Double
    switch request.scope {
    case .global:
        let total = eligible.reduce(0) { $0 + layers[$1].count }
        let candidates = aliveEntries(eligible)
        let (keep, requested) = keepCount(request.amount, total: total, alive: candidates.count)
        keepBest(candidates, keep: keep)
        for l in eligible { requestedPerLayer[l] = requested }
        let excludedWeights = state.totalWeights - total
        let excludedAlive = layers.indices.filter { !eligible.contains($0) }.reduce(0) { $0 + layers[$1].remaining }
        requestedOverall = state.totalWeights == 0 ? 1
            : (Double(keep) + Double(excludedAlive)) / Double(total + excludedWeights)
    case .layerwise:
        var keptTotal = 0
        for l in eligible {
            let amount = request.layerAmounts[layers[l].name] ?? request.amount
            let candidates = aliveEntries([l])
            let (keep, requested) = keepCount(amount, total: layers[l].count, alive: candidates.count)
            keepBest(candidates, keep: keep)
            requestedPerLayer[l] = requested
            keptTotal += keep
        }
        let excludedAlive = layers.indices.filter { !eligible.contains($0) }.reduce(0) { $0 + layers[$1].remaining }
        requestedOverall = state.totalWeights == 0 ? 1 : Double(keptTotal + excludedAlive) / Double(state.totalWeights)
    }

    let report = layers.indices.map { l in
        LayerDensity(name: layers[l].name, weights: layers[l].count,
                     remaining: masks[l].reduce(0) { $0 + ($1 ? 1 : 0) }, requestedDensity: requestedPerLayer[l])
    }
    return SelectionResult(masks: masks, layers: report, requestedDensity: requestedOverall, nanScores: nanScores)
}

private func validate(_ amount: PruningAmount) throws {
    switch amount {
    case .density(let d):
        guard d.isFinite, d >= 0, d <= 1 else { throw PruningError.invalidAmount("density must be in [0, 1], got \(d)") }
    case .fractionOfRemaining(let f):
        guard f.isFinite, f >= 0, f < 1 else { throw PruningError.invalidAmount("fraction to prune must be in [0, 1), got \(f)") }
    }
}
