import Foundation
import Reports

/// One layer's mask as a bitset: bit i set means weight i is kept.
public struct PackedMask: Hashable, Sendable {
    public let count: Int
    public private(set) var words: [UInt64]

    /// Packs `kept` (true = weight kept).
    public init(_ kept: [Bool]) {
        count = kept.count
        words = [UInt64](repeating: 0, count: (kept.count + 63) / 64)
        for (i, keep) in kept.enumerated() where keep {
            words[i / 64] |= 1 << UInt64(i % 64)
        }
    }

    /// From raw words; bits beyond `count` must be zero.
    public init?(count: Int, words: [UInt64]) {
        guard count >= 0, words.count == (count + 63) / 64 else { return nil }
        if count % 64 != 0, let last = words.last, last >> UInt64(count % 64) != 0 { return nil }
        self.count = count
        self.words = words
    }

    /// Kept weights.
    public var keptCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public subscript(index: Int) -> Bool {
        precondition(index >= 0 && index < count, "index out of range")
        return words[index / 64] >> UInt64(index % 64) & 1 == 1
    }
}

/// The masks of all prunable layers of one network after one round.
public struct MaskSet: Hashable, Sendable {
    public struct Layer: Hashable, Sendable {
        public var name: String
        public var mask: PackedMask

        public init(name: String, mask: PackedMask) {
            self.name = name
            self.mask = mask
        }
    }

    public var layers: [Layer]

    public init(layers: [Layer]) {
        self.layers = layers
    }

    /// From one `[Bool]` per layer (true = kept), named by `names`.
    public init(names: [String], kept: [[Bool]]) {
        precondition(names.count == kept.count, "one name per layer")
        layers = zip(names, kept).map { Layer(name: $0, mask: PackedMask($1)) }
    }

    public var keptCount: Int { layers.reduce(0) { $0 + $1.mask.keptCount } }

    // File format (little-endian): "TBMASK01", UInt32 layer count, then per
    // layer UInt32 name length, the UTF-8 name, UInt64 weight count and the
    // packed words. Binary because a VGG-11 mask is 9M bits.
    private static let magic = Array("TBMASK01".utf8)

    /// The file's bytes.
    public func encoded() -> Data {
        var data = Data(MaskSet.magic)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        append(UInt32(layers.count))
        for layer in layers {
            let name = Array(layer.name.utf8)
            append(UInt32(name.count))
            data.append(contentsOf: name)
            append(UInt64(layer.mask.count))
            for word in layer.mask.words { append(word) }
        }
        return data
    }

    /// Reads `encoded()` bytes; `file` labels errors.
    public init(decoding data: Data, file: String) throws {
        let bytes = [UInt8](data)
        var offset = 0
        func fail(_ why: String) -> FileError { FileError(file, "corrupt mask file: \(why)") }
        func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw fail("truncated at byte \(offset)") }
            var value: T = 0
            for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
            offset += size
            return value
        }
        guard bytes.starts(with: MaskSet.magic) else { throw fail("wrong magic") }
        offset = MaskSet.magic.count
        let layerCount = try read(UInt32.self)
        var layers: [Layer] = []
        for _ in 0..<layerCount {
            let nameLength = Int(try read(UInt32.self))
            guard offset + nameLength <= bytes.count else { throw fail("truncated layer name") }
            let name = String(decoding: bytes[offset..<offset + nameLength], as: UTF8.self)
            offset += nameLength
            let count = try read(UInt64.self)
            guard count < 1 << 40 else { throw fail("implausible layer size \(count)") }
            var words: [UInt64] = []
            for _ in 0..<(Int(count) + 63) / 64 { words.append(try read(UInt64.self)) }
            guard let mask = PackedMask(count: Int(count), words: words) else { throw fail("bits set past layer \(name)'s end") }
            layers.append(Layer(name: name, mask: mask))
        }
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) trailing bytes") }
        self.layers = layers
    }
}

/// Agreement between two masks of the same network.
public struct MaskOverlap: Equatable, Sendable {
    public var keptA: Int
    public var keptB: Int
    public var keptBoth: Int

    /// |A ∩ B| / |A ∪ B|; `nil` when neither mask keeps anything.
    public var jaccard: Double? {
        let union = keptA + keptB - keptBoth
        return union == 0 ? nil : Double(keptBoth) / Double(union)
    }

    /// Compares two mask sets layer by layer (pooled over all layers).
    /// Returns `nil` when the layer names or sizes differ: the masks are not
    /// of the same network.
    public init?(_ a: MaskSet, _ b: MaskSet) {
        guard a.layers.count == b.layers.count else { return nil }
        var both = 0
        for (x, y) in zip(a.layers, b.layers) {
            guard x.name == y.name, x.mask.count == y.mask.count else { return nil }
            for (u, v) in zip(x.mask.words, y.mask.words) { both += (u & v).nonzeroBitCount }
        }
        keptA = a.keptCount
        keptB = b.keptCount
        keptBoth = both
    }

    /// The Jaccard index of two masks given as kept flags per layer;
    /// `nil` when the shapes differ or neither keeps anything.
    public static func jaccard(_ a: [[Bool]], _ b: [[Bool]]) -> Double? {
        let names = (0..<a.count).map(String.init)
        guard a.count == b.count else { return nil }
        return MaskOverlap(MaskSet(names: names, kept: a), MaskSet(names: names, kept: b))?.jaccard
    }
}
