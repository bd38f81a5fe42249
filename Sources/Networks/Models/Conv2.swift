extension ModelDescriptor {
    /// Conv-2 (Frankle & Carbin 2019, figure 2): 3×3 convolutions 64-64-pool,
    /// then fully connected 256-256-classes, ReLU, no batch norm.
    public static let conv2 = ModelDescriptor(
        name: "conv-2",
        summary: "CIFAR convnet: conv 64-64-pool, fc 256-256-10 (Frankle & Carbin 2019)",
        defaultInitializer: .glorotNormal,
        referenceInput: FeatureShape(channels: 3, height: 32, width: 32)
    ) { input, classes in
        let (convolutions, shape) = try convolutionStack(["64", "64", "M"], input: input, batchNorm: false)
        return convolutions + [Flatten(name: "flatten")] + denseStack([256, 256, classes], inputs: shape.count)
    }
}
