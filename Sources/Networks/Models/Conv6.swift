extension ModelDescriptor {
    /// Conv-6 (Frankle & Carbin 2019, figure 2): 3×3 convolutions 64-64-pool-128-128-pool-256-256-pool,
    /// then fully connected 256-256-classes, ReLU, no batch norm.
    public static let conv6 = ModelDescriptor(
        name: "conv-6",
        summary: "CIFAR convnet: conv 64-64-pool-128-128-pool-256-256-pool, fc 256-256-10 (Frankle & Carbin 2019)",
        defaultInitializer: .glorotNormal,
        referenceInput: FeatureShape(channels: 3, height: 32, width: 32)
    ) { input, classes in
        let (convolutions, shape) = try convolutionStack(["64", "64", "M", "128", "128", "M", "256", "256", "M"], input: input, batchNorm: false)
        return convolutions + [Flatten(name: "flatten")] + denseStack([256, 256, classes], inputs: shape.count)
    }
}
