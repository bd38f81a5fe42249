/// A data set TicketBench knows by name: where to look for it, which files
/// make it up, and the checksums its publisher gives.
public struct DatasetDescriptor: Sendable {
    public enum Format: Sendable {
        case idx
        case cifar(CIFAR.Variant)
    }

    /// One file with its known checksums.
    public struct KnownFile: Sendable {
        public var name: String
        /// MD5 of the file as published (the `.gz` for IDX sets, the `.bin`, or the archive).
        public var publishedMD5: String?
        /// MD5 of the decompressed bytes, for distributors that recompress (Debian does).
        public var decompressedMD5: String?
    }

    public var name: String
    public var format: Format
    public var classCount: Int
    public var classNames: [String]
    /// Directory names tried under the project's `datasets/` and under `TICKET_DATA`.
    public var directoryNames: [String]
    /// Absolute directories tried last (system packages).
    public var systemDirectories: [String]
    public var knownFiles: [KnownFile]
    /// One line telling a user how to obtain the data.
    public var howToObtain: String
    public var attribution: String
}

/// The registry of data sets: adding one is one descriptor file plus one line here.
public enum DatasetCatalog {
    public static let all: [DatasetDescriptor] = [.mnist, .fashionMNIST, .cifar10, .cifar100]

    public static func named(_ name: String) -> DatasetDescriptor? {
        all.first { $0.name == name.lowercased() }
    }

    public static var names: [String] { all.map(\.name) }
}

extension DatasetDescriptor {
    static let digitNames = (0..<10).map(String.init)

    public static let mnist = DatasetDescriptor(
        name: "mnist", format: .idx, classCount: 10, classNames: digitNames,
        directoryNames: ["mnist"], systemDirectories: [],
        knownFiles: [
            .init(name: "train-images-idx3-ubyte.gz", publishedMD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", decompressedMD5: "6bbc9ace898e44ae57da46a324031adb"),
            .init(name: "train-labels-idx1-ubyte.gz", publishedMD5: "d53e105ee54ea40749a09fcbcd1e9432", decompressedMD5: "a25bea736e30d166cdddb491f175f624"),
            .init(name: "t10k-images-idx3-ubyte.gz", publishedMD5: "9fb629c4189551a2d022fa330f9573f3", decompressedMD5: "2646ac647ad5339dbf082846283269ea"),
            .init(name: "t10k-labels-idx1-ubyte.gz", publishedMD5: "ec29112dd5afa0611ce80d1b7f02629c", decompressedMD5: "27ae3e4e09519cfbb04c329615203637"),
        ],
        howToObtain: "vendored in datasets/mnist of the repository; restore it with git checkout datasets/mnist",
        attribution: "Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0")

    public static let fashionMNIST = DatasetDescriptor(
        name: "fashion-mnist", format: .idx, classCount: 10,
        classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        directoryNames: ["fashion-mnist"], systemDirectories: ["/usr/share/datasets/fashion-mnist"],
        knownFiles: [
            .init(name: "train-images-idx3-ubyte.gz", publishedMD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", decompressedMD5: "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
            .init(name: "train-labels-idx1-ubyte.gz", publishedMD5: "25c81989df183df01b3e8a0aad5dffbe", decompressedMD5: "9018921c3c673c538a1fc5bad174d6f9"),
            .init(name: "t10k-images-idx3-ubyte.gz", publishedMD5: "bef4ecab320f06d8554ea6380940ec79", decompressedMD5: "8181f5470baa50b63fa0f6fddb340f0a"),
            .init(name: "t10k-labels-idx1-ubyte.gz", publishedMD5: "bb300cfdad3c16e7a12a480ee83cd310", decompressedMD5: "15d484375f8d13e6eb1aabb0c3f46965"),
        ],
        howToObtain: "apt-get install dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist), or make data",
        attribution: "Zalando Research, MIT licence")

    public static let cifar10 = DatasetDescriptor(
        name: "cifar-10", format: .cifar(.cifar10), classCount: 10,
        classNames: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
        directoryNames: ["cifar-10", "cifar-10-batches-bin"], systemDirectories: [],
        knownFiles: [
            .init(name: "cifar-10-binary.tar.gz", publishedMD5: "c32a1d4ab5d03f1284b67883e8d87530", decompressedMD5: nil),
            .init(name: "data_batch_1.bin", publishedMD5: "5dd7e06a14cb22eb9f671a540d1b7c25", decompressedMD5: nil),
            .init(name: "test_batch.bin", publishedMD5: "803d5f7f4d78ea53de84dbe85f74fb6d", decompressedMD5: nil),
        ],
        howToObtain: "make data (downloads cifar-10-binary.tar.gz), or TICKET_DATA=DIR pointing at a directory with cifar-10-batches-bin/",
        attribution: "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009")

    public static let cifar100 = DatasetDescriptor(
        name: "cifar-100", format: .cifar(.cifar100), classCount: 100, classNames: [],
        directoryNames: ["cifar-100", "cifar-100-binary"], systemDirectories: [],
        knownFiles: [
            .init(name: "cifar-100-binary.tar.gz", publishedMD5: "03b5dce01913d631647c71ecec9e9cb8", decompressedMD5: nil),
        ],
        howToObtain: "make data (downloads cifar-100-binary.tar.gz), or TICKET_DATA=DIR pointing at a directory with cifar-100-binary/",
        attribution: "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009")
}
