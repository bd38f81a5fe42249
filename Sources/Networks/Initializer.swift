import Randomness

/// How weights are drawn at initialisation. Biases and batch-norm shifts
/// start at 0, batch-norm scales at 1, running statistics at (0, 1).
public enum Initializer: String, Sendable, Codable, CaseIterable {
    /// N(0, 2/fan_in) (He et al. 2015, ReLU gain), OpenLTH's default.
    case kaimingNormal = "kaiming-normal"
    /// U(−√(6/fan_in), √(6/fan_in)).
    case kaimingUniform = "kaiming-uniform"
    /// N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010), Frankle & Carbin's choice.
    case glorotNormal = "glorot-normal"
    /// U(−√(6/(fan_in + fan_out)), √(6/(fan_in + fan_out))).
    case glorotUniform = "glorot-uniform"
}

extension Network {
    /// Draws every tensor afresh from `seed`, leaving masks as they are
    /// (masked weights stay 0, so re-initialising a ticket keeps its mask).
    ///
    /// Each tensor has its own generator stream derived from the seed and
    /// its name, so its initial values depend only on the seed, the scheme
    /// and the tensor's name and shape — not on the other layers.
    public func initialize(seed: UInt64, scheme: Initializer) {
        for tensor in parameters {
            let v = tensor.value.pointer
            switch tensor.kind {
            case .weight:
                var generator = SeededGenerator(seed: seed, stream: stableHash(tensor.name))
                let fanIn = Double(tensor.fanIn), fanSum = Double(tensor.fanIn + tensor.fanOut)
                switch scheme {
                case .kaimingNormal:
                    let std = (2 / fanIn).squareRoot()
                    for i in 0..<tensor.count { v[i] = Float(generator.nextGaussian() * std) }
                case .kaimingUniform:
                    let bound = (6 / fanIn).squareRoot()
                    for i in 0..<tensor.count { v[i] = Float((2 * generator.nextUniformDouble() - 1) * bound) }
                case .glorotNormal:
                    let std = (2 / fanSum).squareRoot()
                    for i in 0..<tensor.count { v[i] = Float(generator.nextGaussian() * std) }
                case .glorotUniform:
                    let bound = (6 / fanSum).squareRoot()
                    for i in 0..<tensor.count { v[i] = Float((2 * generator.nextUniformDouble() - 1) * bound) }
                }
                tensor.applyMask()
            case .bias, .shift:
                tensor.value.fill(0)
            case .scale:
                tensor.value.fill(1)
            case .runningStatistic:
                tensor.value.fill(tensor.name.hasSuffix("variance") ? 1 : 0)
            }
        }
    }
}

/// FNV-1a of the UTF-8 bytes: a hash that, unlike `Hasher`, is the same in every process.
func stableHash(_ string: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in string.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}
