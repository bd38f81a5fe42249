import Foundation

/// Loads whatever data `path` holds, for inspection: a catalogued directory,
/// a directory of IDX files, an IDX images file (with its labels file
/// beside it), a CIFAR `.bin`, or an official CIFAR `.tar.gz`.
public func loadAnyDataset(at path: String) throws -> [Dataset] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DatasetError(path, .cannotOpen("no such file or directory"))
    }
    let base = (path as NSString).lastPathComponent
    if isDirectory.boolValue {
        if let descriptor = DatasetCatalog.all.first(where: { $0.directoryNames.contains(base) || $0.systemDirectories.contains(path) }) {
            let pair = try loadDataset(descriptor, in: path)
            return [pair.train, pair.test]
        }
        for descriptor in DatasetCatalog.all where DatasetFiles.resolve(descriptor, in: path) != nil {
            var pair = try loadDataset(descriptor, in: path)
            if case .idx = descriptor.format {
                // An IDX directory we do not know by name: count the classes it has.
                pair = try relabelGenericIDX(in: path, name: base)
            }
            return [pair.train, pair.test]
        }
        // Some of a layout's files present: say exactly which of it are missing.
        for descriptor in DatasetCatalog.all where DatasetFiles.holdsSome(descriptor, in: path) {
            _ = try DatasetFiles.resolveOrThrow(descriptor, in: path)
        }
        throw DatasetError(path, .missingFiles(["IDX files (train-images-idx3-ubyte.gz, ...), CIFAR .bin batches or a CIFAR .tar.gz"]))
    }
    let lower = base.lowercased()
    if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") {
        let pair = try loadCIFARArchive(path, variant: lower.contains("cifar-100") ? .cifar100 : .cifar10)
        return [pair.train, pair.test]
    }
    let split: Split = lower.contains("t10k") || lower.contains("test") ? .test : .train
    if lower.hasSuffix(".bin") || lower.hasSuffix(".bin.gz") {
        let variant: CIFAR.Variant = lower.hasPrefix("train.bin") || lower.hasPrefix("test.bin") ? .cifar100 : .cifar10
        let records = try CIFAR.readRecords(path, variant: variant)
        return [Dataset(name: variant.rawValue, split: split, shape: CIFAR.shape, classCount: variant.classCount,
                        pixels: records.pixels, labels: records.labels)]
    }
    if lower.contains("labels-idx1") {
        throw DatasetError(path, .unknownFormat("a labels file alone; give the matching images file or the directory"))
    }
    if lower.contains("images-idx3") {
        let labels = (path as NSString).deletingLastPathComponent + "/" + base.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        guard FileManager.default.fileExists(atPath: labels) else {
            throw DatasetError(path, .missingFiles([(labels as NSString).lastPathComponent + " (the labels beside the images)"]))
        }
        var dataset = try loadIDXSplit(images: path, labels: labels, name: "idx", split: split, classCount: 256)
        dataset.classCount = Int(dataset.labels.max() ?? 0) + 1
        return [dataset]
    }
    throw DatasetError(path, .unknownFormat("not an IDX images file, a CIFAR .bin or a CIFAR .tar.gz (judged by its name)"))
}

private func relabelGenericIDX(in directory: String, name: String) throws -> DatasetPair {
    guard case let .idx(trainImages, trainLabels, testImages, testLabels) =
            try DatasetFiles.resolveOrThrow(.mnist, in: directory) else { preconditionFailure("not an IDX directory") }
    var train = try loadIDXSplit(images: trainImages, labels: trainLabels, name: name, split: .train, classCount: 256)
    var test = try loadIDXSplit(images: testImages, labels: testLabels, name: name, split: .test, classCount: 256)
    let classes = Int(max(train.labels.max() ?? 0, test.labels.max() ?? 0)) + 1
    train.classCount = classes
    test.classCount = classes
    return DatasetPair(train: train, test: test)
}

/// The outcome of checking one file against its published checksum.
public struct ChecksumResult: Sendable {
    public enum Status: Sendable, Equatable {
        /// The file is byte-identical to the published one.
        case matchesPublished
        /// The distributor recompressed it, but the content is identical.
        case matchesDecompressed
        /// No checksum is known for this file (only its format was checked).
        case unknown
        case mismatch(expected: String, actual: String)
    }

    public var path: String
    public var status: Status
    public var md5: String
}

/// Checks every file of `descriptor` found in `directory` against the known checksums.
public func verifyDataset(_ descriptor: DatasetDescriptor, in directory: String) throws -> [ChecksumResult] {
    let files: [String]
    switch try DatasetFiles.resolveOrThrow(descriptor, in: directory) {
    case let .idx(a, b, c, d): files = [a, b, c, d]
    case let .cifarBatches(train, test, _): files = train + [test]
    case let .cifarArchive(path): files = [path]
    }
    return try files.map { path in
        let base = (path as NSString).lastPathComponent
        let known = descriptor.knownFiles.first { $0.name == base || $0.name == base + ".gz" }
        let fileMD5 = try MD5.digest(of: FileSource(path: path))
        guard let known else { return ChecksumResult(path: path, status: .unknown, md5: fileMD5) }
        if fileMD5 == known.publishedMD5 { return ChecksumResult(path: path, status: .matchesPublished, md5: fileMD5) }
        if let expected = known.decompressedMD5 {
            let contentMD5 = try MD5.digest(of: openDataFile(path).source)
            if contentMD5 == expected { return ChecksumResult(path: path, status: .matchesDecompressed, md5: contentMD5) }
            return ChecksumResult(path: path, status: .mismatch(expected: expected, actual: contentMD5), md5: contentMD5)
        }
        return ChecksumResult(path: path, status: .mismatch(expected: known.publishedMD5 ?? "?", actual: fileMD5), md5: fileMD5)
    }
}
