import Randomness

/// Controls that test whether a ticket is a winning one (Frankle & Carbin).
public enum MaskControls {
    /// Permutes each layer's mask with a seeded shuffle: same per-layer
    /// density, structure destroyed.
    public static func shuffled(_ masks: [[Bool]], seed: UInt64) -> [[Bool]] {
        masks.enumerated().map { layer, mask in
            var generator = SeededGenerator(seed: seed, stream: UInt64(layer) &+ 0x5348_5546)  // "SHUF"
            var copy = mask
            copy.seededShuffle(using: &generator)
            return copy
        }
    }

    /// Jaccard overlap of the kept weights of two masks (1 when both keep nothing).
    public static func jaccard(_ a: [[Bool]], _ b: [[Bool]]) -> Double {
        precondition(a.count == b.count, "masks of different networks")
        var intersection = 0, union = 0
        for (x, y) in zip(a, b) {
            precondition(x.count == y.count, "masks of different layer sizes")
            for i in x.indices {
                if x[i] && y[i] { intersection += 1 }
                if x[i] || y[i] { union += 1 }
            }
        }
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }
}
