extension ModelDescriptor {
    /// CIFAR ResNet-20 (He et al. 2016, as OpenLTH's `cifar_resnet_20`):
    /// a 3×3 convolution to 16 channels, three stages of three basic blocks
    /// (16, 32, 64 channels; stride 2 entering stages 2 and 3, with a 1×1
    /// convolution + BN shortcut there), global average pooling, dense 64→classes.
    /// Convolutions have no bias (batch norm follows each).
    public static let resnet20 = ModelDescriptor(
        name: "resnet-20",
        summary: "CIFAR ResNet-20: 16-32-64 channels, 3 blocks per stage (OpenLTH cifar_resnet_20)",
        defaultInitializer: .kaimingNormal,
        referenceInput: FeatureShape(channels: 3, height: 32, width: 32)
    ) { input, classes in
        try cifarResNet(blocksPerStage: 3, widths: [16, 32, 64], input: input, classes: classes)
    }
}

/// The CIFAR ResNet family (depth = 6·blocksPerStage + 2).
func cifarResNet(blocksPerStage: Int, widths: [Int], input: FeatureShape, classes: Int) throws -> [Layer] {
    var layers: [Layer] = [
        Convolution(name: "conv", inputs: input.channels, outputs: widths[0], kernel: 3, padding: 1, bias: false),
        BatchNorm(name: "conv.bn", channels: widths[0], relu: true),
    ]
    var channels = widths[0]
    for (stage, width) in widths.enumerated() {
        for block in 0..<blocksPerStage {
            let name = "stage\(stage + 1).block\(block + 1)"
            let stride = (stage > 0 && block == 0) ? 2 : 1
            let main: [Layer] = [
                Convolution(name: name + ".conv1", inputs: channels, outputs: width, kernel: 3, stride: stride, padding: 1, bias: false),
                BatchNorm(name: name + ".bn1", channels: width, relu: true),
                Convolution(name: name + ".conv2", inputs: width, outputs: width, kernel: 3, padding: 1, bias: false),
                BatchNorm(name: name + ".bn2", channels: width),
            ]
            let shortcut: [Layer] = (stride == 1 && channels == width) ? [] : [
                Convolution(name: name + ".shortcut", inputs: channels, outputs: width, kernel: 1, stride: stride, bias: false),
                BatchNorm(name: name + ".shortcut.bn", channels: width),
            ]
            layers.append(Residual(name: name, main: main, shortcut: shortcut))
            channels = width
        }
    }
    layers.append(GlobalAveragePool(name: "pool"))
    layers.append(Dense(name: "fc", inputs: channels, outputs: classes))
    return layers
}
