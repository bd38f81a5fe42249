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
}
