import Foundation

/// Where named data sets are looked for, in order: the project's
/// `datasets/<name>`, then `$TICKET_DATA/<name>` (or `TICKET_DATA` itself
/// when it already is such a directory), then system directories (Debian's
/// `dataset-*` packages).
public struct DataLocator: Sendable {
    public var roots: [String]

    public init(roots: [String]) {
        self.roots = roots
    }

    /// The project's `datasets/` (relative to the working directory) and `TICKET_DATA`.
    public static func standard(projectDatasets: String = "datasets",
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> DataLocator {
        var roots = [projectDatasets]
        if let extra = environment["TICKET_DATA"], !extra.isEmpty { roots.append(extra) }
        return DataLocator(roots: roots)
    }

    /// Candidate directories for `descriptor`, existing or not.
    public func candidates(for descriptor: DatasetDescriptor) -> [String] {
        var result: [String] = []
        for root in roots {
            for name in descriptor.directoryNames { result.append(root + "/" + name) }
        }
        return result + descriptor.systemDirectories
    }

    /// The first candidate directory that holds the data set, if any.
    public func locate(_ descriptor: DatasetDescriptor) -> String? {
        candidates(for: descriptor).first { DatasetFiles.resolve(descriptor, in: $0) != nil }
    }

    /// Locates and loads a data set by its catalog name.
    public func load(named name: String) throws -> DatasetPair {
        guard let descriptor = DatasetCatalog.named(name) else {
            throw DatasetError(name, .unknownFormat("unknown data set; known: \(DatasetCatalog.names.joined(separator: ", "))"))
        }
        guard let directory = locate(descriptor) else {
            let looked = candidates(for: descriptor).joined(separator: ", ")
            throw DatasetError(name, .missingFiles(["not found in \(looked); \(descriptor.howToObtain)"]))
        }
        return try loadDataset(descriptor, in: directory)
    }
}

/// The files that make up a data set in one directory.
enum DatasetFiles {
    case idx(trainImages: String, trainLabels: String, testImages: String, testLabels: String)
    case cifarBatches(train: [String], test: String, missingTrain: [String])
    case cifarArchive(String)

    static let idxNames = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

    static func resolve(_ descriptor: DatasetDescriptor, in directory: String) -> DatasetFiles? {
        try? resolveOrThrow(descriptor, in: directory)
    }

    /// Whether `directory` holds any file of `descriptor`'s layout (so a
    /// failure to resolve it means files are missing, not another format).
    static func holdsSome(_ descriptor: DatasetDescriptor, in directory: String) -> Bool {
        let names: [String]
        switch descriptor.format {
        case .idx: names = idxNames.flatMap { [$0, $0 + ".gz"] }
        case .cifar(let variant):
            names = variant == .cifar10
                ? (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin", "cifar-10-batches-bin/test_batch.bin",
                                                            "cifar-10-batches-bin/data_batch_1.bin"]
                : ["train.bin", "test.bin", "cifar-100-binary/train.bin", "cifar-100-binary/test.bin"]
        }
        return names.contains { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Finds the files, or says exactly which are missing.
    static func resolveOrThrow(_ descriptor: DatasetDescriptor, in directory: String) throws -> DatasetFiles {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError(directory, .cannotOpen("no such directory"))
        }
        func existing(_ names: [String], in dir: String = directory) -> String? {
            names.map { dir + "/" + $0 }.first { manager.fileExists(atPath: $0) }
        }
        switch descriptor.format {
        case .idx:
            var found: [String] = []
            var missing: [String] = []
            for name in idxNames {
                if let path = existing([name + ".gz", name]) { found.append(path) } else { missing.append(name + ".gz") }
            }
            guard missing.isEmpty else { throw DatasetError(directory, .missingFiles(missing)) }
            return .idx(trainImages: found[0], trainLabels: found[1], testImages: found[2], testLabels: found[3])
        case .cifar(let variant):
            let (subdirectory, trainNames, testName, archive) = variant == .cifar10
                ? ("cifar-10-batches-bin", (1...5).map { "data_batch_\($0).bin" }, "test_batch.bin", "cifar-10-binary.tar.gz")
                : ("cifar-100-binary", ["train.bin"], "test.bin", "cifar-100-binary.tar.gz")
            for dir in [directory, directory + "/" + subdirectory] {
                let train = trainNames.compactMap { existing([$0, $0 + ".gz"], in: dir) }
                if let test = existing([testName, testName + ".gz"], in: dir), !train.isEmpty {
                    let missing = trainNames.filter { name in existing([name, name + ".gz"], in: dir) == nil }
                    return .cifarBatches(train: train, test: test, missingTrain: missing)
                }
            }
            if let archivePath = existing([archive]) { return .cifarArchive(archivePath) }
            // Part of the batches present: name exactly what is missing.
            for dir in [directory, directory + "/" + subdirectory] {
                let train = trainNames.filter { existing([$0, $0 + ".gz"], in: dir) != nil }
                if !train.isEmpty { throw DatasetError(dir, .missingFiles([testName])) }
                if existing([testName, testName + ".gz"], in: dir) != nil {
                    throw DatasetError(dir, .missingFiles(trainNames.count == 1 ? trainNames : ["at least one of " + trainNames.joined(separator: ", ")]))
                }
            }
            throw DatasetError(directory, .missingFiles([archive + " or " + (trainNames + [testName]).joined(separator: ", ")]))
        }
    }
}

/// Loads a data set from `directory` (files named as published, `.gz` or not).
public func loadDataset(named name: String, in directory: String) throws -> DatasetPair {
    guard let descriptor = DatasetCatalog.named(name) else {
        throw DatasetError(name, .unknownFormat("unknown data set; known: \(DatasetCatalog.names.joined(separator: ", "))"))
    }
    return try loadDataset(descriptor, in: directory)
}

/// Loads a described data set from `directory`.
///
/// Partial training data (e.g. one of CIFAR-10's five training batches) is
/// loaded, not refused, so development machines can run on what they
/// have; `Dataset.partialNote` then says what is missing, the CLI prints
/// it as a warning, and the harness records it beside every result.
public func loadDataset(_ descriptor: DatasetDescriptor, in directory: String) throws -> DatasetPair {
    let names = descriptor.classNames.isEmpty ? nil : descriptor.classNames
    switch try DatasetFiles.resolveOrThrow(descriptor, in: directory) {
    case let .idx(trainImages, trainLabels, testImages, testLabels):
        let train = try loadIDXSplit(images: trainImages, labels: trainLabels, name: descriptor.name,
                                     split: .train, classCount: descriptor.classCount, classNames: names)
        let test = try loadIDXSplit(images: testImages, labels: testLabels, name: descriptor.name,
                                    split: .test, classCount: descriptor.classCount, classNames: names)
        guard train.shape == test.shape else {
            throw DatasetError(testImages, .sizeMismatch("test images are \(test.shape) but training images are \(train.shape)"))
        }
        return DatasetPair(train: train, test: test)
    case let .cifarBatches(trainPaths, testPath, missing):
        guard case .cifar(let variant) = descriptor.format else { preconditionFailure("CIFAR files for a non-CIFAR descriptor") }
        var trainRecords = try trainPaths.map { try CIFAR.readRecords($0, variant: variant) }
        let test = try CIFAR.readRecords(testPath, variant: variant)
        let note = missing.isEmpty ? nil :
            "partial training set: \(trainPaths.count) of \(trainPaths.count + missing.count) files (missing \(missing.joined(separator: ", ")))"
        let train = joined(&trainRecords)
        return DatasetPair(
            train: Dataset(name: descriptor.name, split: .train, shape: CIFAR.shape, classCount: variant.classCount,
                           pixels: train.pixels, labels: train.labels, classNames: names, partialNote: note),
            test: Dataset(name: descriptor.name, split: .test, shape: CIFAR.shape, classCount: variant.classCount,
                          pixels: test.pixels, labels: test.labels, classNames: names))
    case .cifarArchive(let path):
        guard case .cifar(let variant) = descriptor.format else { preconditionFailure("CIFAR archive for a non-CIFAR descriptor") }
        return try loadCIFARArchive(path, variant: variant, name: descriptor.name, classNames: names)
    }
}

/// Reads an official CIFAR `*-binary.tar.gz` in one streaming pass.
public func loadCIFARArchive(_ path: String, variant: CIFAR.Variant, name: String? = nil,
                             classNames: [String]? = nil) throws -> DatasetPair {
    let file = try openDataFile(path)
    guard file.isCompressed else {
        throw DatasetError(path, .unknownFormat("expected a gzip-compressed tar archive"))
    }
    let isTrain: (String) -> Bool = variant == .cifar10
        ? { $0.hasPrefix("data_batch_") && $0.hasSuffix(".bin") }
        : { $0 == "train.bin" }
    let testName = variant == .cifar10 ? "test_batch.bin" : "test.bin"
    var train: [(String, CIFAR.Records)] = []
    var test: CIFAR.Records?
    try TarReader(source: file.source).forEachEntry { entry in
        let base = entry.name.split(separator: "/").last.map(String.init) ?? entry.name
        guard entry.isFile, isTrain(base) || base == testName else { return .skipped }
        let records = try CIFAR.decode(from: file.source, byteCount: entry.size, variant: variant)
        if base == testName { test = records } else { train.append((base, records)) }
        return .consumed
    }
    guard let test, !train.isEmpty else {
        throw DatasetError(path, .missingFiles([train.isEmpty ? "training batches" : testName].map { "\($0) in the archive" }))
    }
    train.sort { $0.0.localizedStandardCompare($1.0) == .orderedAscending }
    var trainRecords = train.map(\.1)
    let joinedTrain = joined(&trainRecords)
    let expectedTrain = variant == .cifar10 ? 5 : 1
    let note = train.count < expectedTrain ? "partial training set: \(train.count) of \(expectedTrain) batches in the archive" : nil
    let datasetName = name ?? variant.rawValue
    return DatasetPair(
        train: Dataset(name: datasetName, split: .train, shape: CIFAR.shape, classCount: variant.classCount,
                       pixels: joinedTrain.pixels, labels: joinedTrain.labels, classNames: classNames, partialNote: note),
        test: Dataset(name: datasetName, split: .test, shape: CIFAR.shape, classCount: variant.classCount,
                      pixels: test.pixels, labels: test.labels, classNames: classNames))
}

/// Concatenates record sets, releasing each part as it is copied.
private func joined(_ parts: inout [CIFAR.Records]) -> CIFAR.Records {
    if parts.count == 1 { return parts.removeFirst() }
    var result = CIFAR.Records(pixels: [], labels: [])
    result.pixels.reserveCapacity(parts.reduce(0) { $0 + $1.pixels.count })
    result.labels.reserveCapacity(parts.reduce(0) { $0 + $1.labels.count })
    for i in parts.indices {
        result.pixels += parts[i].pixels
        result.labels += parts[i].labels
        parts[i] = CIFAR.Records(pixels: [], labels: [])
    }
    return result
}

/// Loads one IDX split, checking images and labels against each other.
public func loadIDXSplit(images imagesPath: String, labels labelsPath: String, name: String, split: Split,
                         classCount: Int, classNames: [String]? = nil) throws -> Dataset {
    let images = try IDX.readImages(imagesPath)
    let labels = try IDX.readLabels(labelsPath)
    guard images.count == labels.count else {
        throw DatasetError(labelsPath, .countMismatch(images: images.count, labels: labels.count))
    }
    guard images.count > 0 else { throw DatasetError(imagesPath, .empty) }
    if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
        throw DatasetError(labelsPath, .labelOutOfRange(index: bad, label: Int(labels[bad]), classCount: classCount))
    }
    return Dataset(name: name, split: split, shape: ImageShape(height: images.rows, width: images.columns, channels: 1),
                   classCount: classCount, pixels: images.pixels, labels: labels, classNames: classNames)
}
