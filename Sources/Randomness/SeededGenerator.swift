import Foundation

/// A small, fast, seedable pseudo-random generator (xoshiro256**) whose output
/// depends only on its seed, on every platform and Swift version.
///
/// Swift's `SystemRandomNumberGenerator` cannot be seeded, and the standard
/// library's `shuffled(using:)` / `random(in:using:)` algorithms are not
/// promised to stay the same across releases; results that must be
/// bit-reproducible use this type and the helpers below instead.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let x = rng.nextUniform()   // in [0, 1)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable, Codable {
    /// The four state words. Public (and settable) only so the hot methods
    /// can be inlined into other modules; change it only through `init`.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words from `seed` with splitmix64, as the
    /// xoshiro authors recommend (never yields the all-zero state).
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// Derives an independent stream for a named purpose (e.g. epoch 3 of
    /// the data order): the same `(seed, stream)` always gives the same
    /// generator, and different streams do not overlap in practice.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: SeededGenerator.derivedSeed(seed, stream: stream))
    }

    /// The seed of stream `stream` of `seed`: a non-linear 64-bit mix of the
    /// pair, so distinct pairs give unrelated seeds (a collision is as
    /// likely as between two random 64-bit numbers). Chained, it keys a
    /// stream by a tuple, e.g. (run seed, purpose, round):
    ///
    /// ```swift
    /// let maskSeed = SeededGenerator.derivedSeed(SeededGenerator.derivedSeed(run, stream: purpose), stream: round)
    /// ```
    ///
    /// An additive rule such as `seed + round` would not do: run s at round
    /// r + 1 would draw exactly what run s + 1 draws at round r.
    @inlinable
    public static func derivedSeed(_ seed: UInt64, stream: UInt64) -> UInt64 {
        // splitmix64's finaliser is a bijection of 64-bit words; mixing the
        // seed before the stream is folded in keeps (a, b) and (b, a) apart.
        @inline(__always) func mix(_ value: UInt64) -> UInt64 {
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return mix(mix(seed) ^ (stream &* 0xD1B5_4A32_D192_ED03))
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// Uniform in `[0, 1)` with 24 bits of precision (every value exact in Float).
    @inlinable
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method).
    @inlinable
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// Standard normal deviate (Box-Muller, using only `log`, `sqrt`, `cos`
    /// on Double so the result does not depend on vectorisation choices).
    public mutating func nextGaussian() -> Double {
        // 1 - u lies in (0, 1], so the log is finite.
        let u1 = 1.0 - nextUniformDouble()
        let u2 = nextUniformDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    public static func == (lhs: SeededGenerator, rhs: SeededGenerator) -> Bool {
        lhs.state == rhs.state
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(state.0); hasher.combine(state.1)
        hasher.combine(state.2); hasher.combine(state.3)
    }

    private enum CodingKeys: String, CodingKey { case state }

    public init(from decoder: Decoder) throws {
        let words = try decoder.container(keyedBy: CodingKeys.self).decode([UInt64].self, forKey: .state)
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "generator state must be four words, not all zero"))
        }
        state = (words[0], words[1], words[2], words[3])
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode([state.0, state.1, state.2, state.3], forKey: .state)
    }
}

@inlinable @inline(__always)
func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
}
