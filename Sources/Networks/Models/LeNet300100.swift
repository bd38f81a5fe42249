extension ModelDescriptor {
    /// LeNet-300-100 (LeCun et al. 1998; Frankle & Carbin's MNIST network):
    /// 784-300-100-10, ReLU, 266,610 weights and biases.
    public static let lenet300100 = ModelDescriptor(
        name: "lenet-300-100",
        summary: "fully connected 784-300-100-10, ReLU (Frankle & Carbin 2019)",
        defaultInitializer: .kaimingNormal,
        referenceInput: FeatureShape(channels: 1, height: 28, width: 28)
    ) { input, classes in
        [Flatten(name: "flatten")] + denseStack([300, 100, classes], inputs: input.count)
    }
}
