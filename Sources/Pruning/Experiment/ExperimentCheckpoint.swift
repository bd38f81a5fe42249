import Foundation
import Networks

/// Where an iterative run stands between rounds: enough to resume it
/// bit-exactly after an interruption (the interrupted round restarts; every
/// input to it is here or derived from the seeds).
public struct ExperimentCheckpoint: Sendable, Codable, Equatable {
    public var completedRounds: [RoundResult]
    /// Masks for the next round, by tensor name.
    public var masks: [String: PackedFloats]
    /// Selection report for the next round's row.
    public var pendingLayers: [LayerDensityRecord]
    public var pendingRequestedDensity: Double
    public var pendingNaNScores: Int
    /// Weights at iteration k, for late rewinding (k > 0); nil for k = 0
    /// (the initialisation is re-created from its seed).
    public var rewindValues: [String: PackedFloats]?
    /// Nothing left to run.
    public var finished: Bool
}

/// `[Float]` stored as its raw little-endian bytes (base64 in JSON): exact
/// and compact, unlike a decimal rendering of every weight.
public struct PackedFloats: Sendable, Codable, Equatable {
    public var values: [Float]

    public init(_ values: [Float]) {
        self.values = values
    }

    public init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        guard data.count % 4 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "packed floats: \(data.count) bytes is not a multiple of 4"))
        }
        values = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var data = Data(capacity: values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        var container = encoder.singleValueContainer()
        try container.encode(data)
    }
}
