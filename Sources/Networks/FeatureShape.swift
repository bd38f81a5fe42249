/// The shape of one example's activations: `channels × height × width`,
/// channel-planar. Dense features are `n × 1 × 1`.
public struct FeatureShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int = 1, width: Int = 1) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Values per example.
    public var count: Int { channels * height * width }

    /// Pixels per channel plane.
    public var planeSize: Int { height * width }

    public var description: String { height == 1 && width == 1 ? "\(channels)" : "\(channels)x\(height)x\(width)" }
}
