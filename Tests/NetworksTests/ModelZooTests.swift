import XCTest
@testable import Networks

final class ModelZooTests: XCTestCase {
    func count(_ name: String) throws -> Int { try ModelRegistry.make(name, seed: 1).parameterCount }

    func testLeNet300100HasThePublishedCount() throws {
        XCTAssertEqual(try count("lenet-300-100"), 266_610)
        let network = try ModelRegistry.make("lenet-300-100", seed: 1)
        XCTAssertEqual(network.prunableTensors.map(\.name), ["fc1.weight", "fc2.weight", "fc3.weight"])
        XCTAssertEqual(network.prunableTensors.map(\.shape), [[300, 784], [100, 300], [10, 100]])
    }

    /// Frankle & Carbin, table 1: Conv-2 4.3M, Conv-4 2.4M, Conv-6 2.3M
    /// (exact figures computed by hand from the architectures).
    func testFrankleCarbinConvNets() throws {
        XCTAssertEqual(try count("conv-2"), 4_301_642)
        XCTAssertEqual(try count("conv-4"), 2_425_930)
        XCTAssertEqual(try count("conv-6"), 2_262_602)
    }

    /// OpenLTH's CIFAR models: ResNet-20 272,474; VGG-11 9,231,114; VGG-16 14,728,266
    /// (convolutions with bias and batch norm, one fc layer).
    func testCIFARModels() throws {
        XCTAssertEqual(try count("resnet-20"), 272_474)
        XCTAssertEqual(try count("vgg-11"), 9_231_114)
        XCTAssertEqual(try count("vgg-16"), 14_728_266)
        let resnet = try ModelRegistry.make("resnet-20", seed: 1)
        XCTAssertEqual(resnet.prunableTensors.count, 19 + 2 + 1) // 19 convs, 2 shortcuts, fc
    }

    func testEveryModelRunsAForwardAndBackwardPass() throws {
        // One of each kind (VGG only differs from Conv-n by batch norm, covered by ResNet).
        for name in ["lenet-300-100", "conv-2", "resnet-20"] {
            let descriptor = ModelRegistry.descriptor(named: name)!
            let network = try ModelRegistry.make(descriptor.name, seed: 1)
            let inputs = [Float](repeating: 0.5, count: 2 * network.inputShape.count)
            let labels: [Int32] = [1, 7]
            let result = inputs.withUnsafeBufferPointer { x in labels.withUnsafeBufferPointer { l in
                network.computeGradients(inputs: x.baseAddress!, labels: l.baseAddress!, count: 2)
            } }
            XCTAssertTrue(result.loss.isFinite, descriptor.name)
            XCTAssertTrue(network.prunableTensors.last!.gradients.contains { $0 != 0 }, descriptor.name)
        }
    }
}
