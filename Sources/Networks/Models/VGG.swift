extension ModelDescriptor {
    /// CIFAR VGG-11 with batch norm, as OpenLTH's `cifar_vgg_11`: 3×3
    /// convolutions (with bias) + BN + ReLU, five 2×2 pools, one dense layer 512→classes.
    public static let vgg11 = vgg(depth: 11, plan: ["64", "M", "128", "M", "256", "256", "M", "512", "512", "M", "512", "512", "M"])

    /// CIFAR VGG-16 with batch norm, as OpenLTH's `cifar_vgg_16`.
    public static let vgg16 = vgg(depth: 16, plan: ["64", "64", "M", "128", "128", "M", "256", "256", "256", "M",
                                                    "512", "512", "512", "M", "512", "512", "512", "M"])

    static func vgg(depth: Int, plan: [String]) -> ModelDescriptor {
        ModelDescriptor(
            name: "vgg-\(depth)",
            summary: "CIFAR VGG-\(depth) with batch norm, one fc layer (OpenLTH cifar_vgg_\(depth))",
            defaultInitializer: .kaimingNormal,
            referenceInput: FeatureShape(channels: 3, height: 32, width: 32)
        ) { input, classes in
            let (convolutions, shape) = try convolutionStack(plan, input: input, batchNorm: true)
            return convolutions + [Flatten(name: "flatten"), Dense(name: "fc", inputs: shape.count, outputs: classes)]
        }
    }
}
