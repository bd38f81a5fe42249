import Datasets
import Randomness
@testable import Networks

/// A small learnable image data set: each class brightens its own quadrant
/// of a noisy image, so a tiny network's loss visibly falls in a few steps.
func syntheticData(trainCount: Int = 48, testCount: Int = 24, classes: Int = 4,
                   shape: ImageShape = ImageShape(height: 6, width: 6, channels: 2), seed: UInt64 = 7) -> DatasetPair {
    var generator = SeededGenerator(seed: seed)
    func split(_ count: Int, _ split: Split) -> Dataset {
        var pixels = [UInt8](), labels = [UInt8]()
        for i in 0..<count {
            let label = i % classes
            labels.append(UInt8(label))
            for _ in 0..<shape.channels {
                for y in 0..<shape.height {
                    for x in 0..<shape.width {
                        let quadrant = (y < shape.height / 2 ? 0 : 2) + (x < shape.width / 2 ? 0 : 1)
                        let base = quadrant % classes == label ? 160 : 60
                        pixels.append(UInt8(base + generator.nextIndex(below: 80)))
                    }
                }
            }
        }
        return Dataset(name: "synthetic", split: split, shape: shape, classCount: classes, pixels: pixels, labels: labels)
    }
    return DatasetPair(train: split(trainCount, .train), test: split(testCount, .test))
}

/// A tiny network using every layer kind: conv, batch norm, ReLU, max pool,
/// a residual block with a projection shortcut, global average pooling, dense.
func tinyConvNet(seed: UInt64, channels: Int = 2, classes: Int = 4) -> Network {
    let layers: [Layer] = [
        Convolution(name: "conv1", inputs: channels, outputs: 3, kernel: 3, padding: 1),
        BatchNorm(name: "conv1.bn", channels: 3),
        ReLU(name: "conv1.relu"),
        MaxPool(name: "pool"),
        Residual(name: "block", main: [
            Convolution(name: "block.conv1", inputs: 3, outputs: 4, kernel: 3, stride: 2, padding: 1, bias: false),
            BatchNorm(name: "block.bn1", channels: 4),
            ReLU(name: "block.relu1"),
            Convolution(name: "block.conv2", inputs: 4, outputs: 4, kernel: 3, padding: 1, bias: false),
        ], shortcut: [
            Convolution(name: "block.shortcut", inputs: 3, outputs: 4, kernel: 1, stride: 2, bias: false),
        ]),
        GlobalAveragePool(name: "gap"),
        Dense(name: "fc", inputs: 4, outputs: classes),
    ]
    let network = try! Network(name: "tiny-cnn", inputShape: FeatureShape(channels: channels, height: 6, width: 6),
                               classCount: classes, layers: layers)
    network.initialize(seed: seed, scheme: .kaimingNormal)
    return network
}

/// A tiny multilayer perceptron on flattened 2×6×6 inputs.
func tinyMLP(seed: UInt64, classes: Int = 4) -> Network {
    let layers: [Layer] = [Flatten(name: "flatten")] + denseStack([12, 8, classes], inputs: 72)
    let network = try! Network(name: "tiny-mlp", inputShape: FeatureShape(channels: 2, height: 6, width: 6),
                               classCount: classes, layers: layers)
    network.initialize(seed: seed, scheme: .kaimingUniform)
    return network
}

/// Bit patterns of every tensor, for exact comparisons (NaN-safe, −0 ≠ +0).
func bits(_ network: Network) -> [String: [UInt32]] {
    Dictionary(uniqueKeysWithValues: network.parameters.map { ($0.name, $0.values.map(\.bitPattern)) })
}

/// Masks about half of every prunable tensor, deterministically.
func maskHalf(_ network: Network, seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    for tensor in network.prunableTensors {
        tensor.mask = (0..<tensor.count).map { _ in generator.nextUniform() < 0.5 ? 0 : 1 }
    }
}
