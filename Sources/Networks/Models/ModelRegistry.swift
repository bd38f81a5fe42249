/// A model the zoo can build by name.
public struct ModelDescriptor: Sendable {
    /// Stable name, e.g. `lenet-300-100`.
    public var name: String
    /// One line: architecture and source.
    public var summary: String
    /// The initialiser its reference implementation uses.
    public var defaultInitializer: Initializer
    /// The input the model was designed for (others work when the shapes chain).
    public var referenceInput: FeatureShape
    let layers: @Sendable (FeatureShape, Int) throws -> [Layer]

    init(name: String, summary: String, defaultInitializer: Initializer, referenceInput: FeatureShape,
         layers: @escaping @Sendable (FeatureShape, Int) throws -> [Layer]) {
        self.name = name
        self.summary = summary
        self.defaultInitializer = defaultInitializer
        self.referenceInput = referenceInput
        self.layers = layers
    }
}

/// The model zoo: adding a model is one file plus one line in `all`.
public enum ModelRegistry {
    public static let all: [ModelDescriptor] = [
        .lenet300100, .conv2, .conv4, .conv6, .vgg11, .vgg16, .resnet20,
    ]

    public static var names: [String] { all.map(\.name) }

    public static func descriptor(named name: String) -> ModelDescriptor? {
        all.first { $0.name == name.lowercased() }
    }

    /// Builds `name` for inputs of `inputShape` and `classCount` classes,
    /// initialised from `seed` with the model's default initialiser (or `initializer`).
    public static func make(_ name: String, inputShape: FeatureShape? = nil, classCount: Int = 10,
                            seed: UInt64, initializer: Initializer? = nil) throws -> Network {
        guard let descriptor = descriptor(named: name) else {
            throw NetworkError("unknown model \(name); known: \(names.joined(separator: ", "))")
        }
        let input = inputShape ?? descriptor.referenceInput
        let network = try Network(name: descriptor.name, inputShape: input, classCount: classCount,
                                  layers: descriptor.layers(input, classCount))
        network.initialize(seed: seed, scheme: initializer ?? descriptor.defaultInitializer)
        return network
    }
}

/// Stacks of 3×3 "same" convolutions, each followed by ReLU, with 2×2 max
/// pooling at `"M"`; the shared shape of the Conv-n and VGG families.
func convolutionStack(_ plan: [String], input: FeatureShape, batchNorm: Bool, convBias: Bool = true,
                      names: (Int) -> String = { "conv\($0)" }) throws -> (layers: [Layer], output: FeatureShape) {
    var layers: [Layer] = [], shape = input, index = 0, pools = 0
    for item in plan {
        if item == "M" {
            pools += 1
            let pool = MaxPool(name: "pool\(pools)")
            shape = try pool.outputShape(for: shape)
            layers.append(pool)
            continue
        }
        guard let width = Int(item) else { throw NetworkError("bad layer plan entry \(item)") }
        index += 1
        let name = names(index)
        layers.append(Convolution(name: name, inputs: shape.channels, outputs: width, kernel: 3, padding: 1, bias: convBias))
        // Batch norm and the ReLU after it run as one layer (one pass over the activations).
        layers.append(batchNorm ? BatchNorm(name: name + ".bn", channels: width, relu: true) : ReLU(name: name + ".relu"))
        shape = FeatureShape(channels: width, height: shape.height, width: shape.width)
    }
    return (layers, shape)
}

/// Dense layers of the given widths with ReLU between them, the last one producing logits.
func denseStack(_ widths: [Int], inputs: Int, firstIndex: Int = 1) -> [Layer] {
    var layers: [Layer] = [], previous = inputs
    for (offset, width) in widths.enumerated() {
        let name = "fc\(firstIndex + offset)"
        layers.append(Dense(name: name, inputs: previous, outputs: width))
        if offset < widths.count - 1 { layers.append(ReLU(name: name + ".relu")) }
        previous = width
    }
    return layers
}
