import Foundation

/// A resumable training state: every tensor's values and masks, the
/// optimizer's state and the run's position.
///
/// The data order needs no saved generator state: epoch `e` is shuffled by
/// its own stream of the data seed, so `(dataSeed, epoch, stepInEpoch)` fixes
/// the next batch exactly. The model's initialisation seed matters only at
/// creation and is recorded by the caller.
///
/// On disk: the 8 bytes `TBCKPT01`, an 8-byte little-endian header length,
/// a JSON header, then the tensors as little-endian Float32 in header order.
/// `write(to:)` replaces the file atomically, so a crash never leaves a
/// half-written checkpoint.
public struct Checkpoint: Sendable, Equatable {
    public struct Header: Sendable, Codable, Equatable {
        public var model: String
        public var configuration: TrainingConfiguration
        public var epoch: Int
        public var stepInEpoch: Int
        public var globalStep: Int
        public var optimizerStepCount: Int
        public var status: TrainingStatus
        public var history: [EpochRecord]
        /// The current epoch's running loss sum, correct count and examples
        /// seen (mid-epoch checkpoints; absent in older files, read as 0).
        public var epochLossSum: Double?
        public var epochCorrect: Int?
        public var epochSeen: Int?
        /// Tensor names and sizes, in the order of the data that follows.
        public var tensors: [TensorEntry]
    }

    public struct TensorEntry: Sendable, Codable, Equatable {
        public var name: String
        public var count: Int
    }

    public var header: Header
    /// Tensor data by name: `value/<t>`, `mask/<t>`, `optimizer/<slot>/<t>`.
    public var tensors: [String: [Float]]

    private static let magic = "TBCKPT01"

    /// Encodes to bytes.
    public func encoded() throws -> Data {
        var data = try FramedFile.frame(magic: Self.magic, header: header)
        for entry in header.tensors {
            let values = tensors[entry.name]!
            values.withUnsafeBufferPointer { buffer in
                // Float32 is little-endian on every platform Swift targets here.
                data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self),
                                                count: buffer.count * 4))
            }
        }
        return data
    }

    /// Decodes bytes written by `encoded()`.
    public init(decoding data: Data, source: String = "checkpoint") throws {
        let bytes = [UInt8](data)
        let headerEnd: Int
        (header, headerEnd) = try FramedFile.unframe(bytes, magic: Self.magic, as: Header.self,
                                                     source: source, kind: "TicketBench checkpoint")
        var offset = headerEnd
        tensors = [:]
        for entry in header.tensors {
            guard entry.count >= 0, offset + entry.count * 4 <= bytes.count else {
                throw NetworkError("\(source): truncated data for \(entry.name)")
            }
            var values = [Float](repeating: 0, count: entry.count)
            values.withUnsafeMutableBytes { destination in
                bytes.withUnsafeBytes { source in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + entry.count * 4)]))
                }
            }
            tensors[entry.name] = values
            offset += entry.count * 4
        }
        guard offset == bytes.count else { throw NetworkError("\(source): \(bytes.count - offset) unexpected trailing bytes") }
    }

    init(header: Header, tensors: [String: [Float]]) {
        self.header = header
        self.tensors = tensors
    }

    /// Adds a tensor of the caller's (e.g. a pruning criterion's running
    /// sums) under `name`; `restore` ignores it, the caller reads it back
    /// from `tensors`.
    public mutating func append(_ name: String, _ values: [Float]) {
        precondition(tensors[name] == nil, "checkpoint tensor \(name) is already present")
        tensors[name] = values
        header.tensors.append(TensorEntry(name: name, count: values.count))
    }

    /// Writes atomically (temporary file, then rename).
    public func write(to path: String) throws {
        try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a checkpoint file.
    public static func read(from path: String) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw NetworkError("\(path): cannot read (\(error.localizedDescription))")
        }
        return try Checkpoint(decoding: data, source: path)
    }
}

extension Trainer {
    /// The complete state of the run at this moment.
    public func checkpoint() -> Checkpoint {
        var tensors: [String: [Float]] = [:]
        var entries: [Checkpoint.TensorEntry] = []
        func add(_ name: String, _ values: [Float]) {
            tensors[name] = values
            entries.append(.init(name: name, count: values.count))
        }
        for tensor in network.parameters {
            add("value/" + tensor.name, tensor.values)
            if let mask = tensor.mask { add("mask/" + tensor.name, mask) }
        }
        let state = optimizer.state()
        for name in state.buffers.keys.sorted() { add("optimizer/" + name, state.buffers[name]!) }
        let header = Checkpoint.Header(model: network.name, configuration: configuration, epoch: epoch,
                                       stepInEpoch: stepInEpoch, globalStep: globalStep,
                                       optimizerStepCount: state.stepCount, status: status, history: history,
                                       epochLossSum: epochSums.loss, epochCorrect: epochSums.correct,
                                       epochSeen: epochSums.seen, tensors: entries)
        return Checkpoint(header: header, tensors: tensors)
    }

    /// Puts the network, optimizer and position back exactly as in `checkpoint`.
    /// The checkpoint's configuration must match this trainer's, except for
    /// the number of epochs (a run can be extended).
    public func restore(_ checkpoint: Checkpoint) throws {
        let header = checkpoint.header
        guard header.model == network.name else {
            throw NetworkError("checkpoint is for model \(header.model), not \(network.name)")
        }
        // The epoch budget may grow on resume; everything else must match.
        var saved = header.configuration
        saved.epochs = configuration.epochs
        guard saved == configuration else {
            throw NetworkError("checkpoint was made with a different training configuration")
        }
        for tensor in network.parameters {
            guard let values = checkpoint.tensors["value/" + tensor.name], values.count == tensor.count else {
                throw NetworkError("checkpoint lacks \(tensor.name)")
            }
            if tensor.isPrunable {
                guard let mask = checkpoint.tensors["mask/" + tensor.name], mask.count == tensor.count else {
                    throw NetworkError("checkpoint lacks the mask of \(tensor.name)")
                }
                tensor.mask = mask
            }
            tensor.values = values
        }
        var buffers: [String: [Float]] = [:]
        for (name, values) in checkpoint.tensors where name.hasPrefix("optimizer/") {
            buffers[String(name.dropFirst("optimizer/".count))] = values
        }
        try optimizer.restore(OptimizerState(configuration: configuration.optimizer,
                                             stepCount: header.optimizerStepCount, buffers: buffers))
        setPosition(epoch: header.epoch, stepInEpoch: header.stepInEpoch, globalStep: header.globalStep,
                    status: header.status, history: header.history,
                    epochSums: (header.epochLossSum ?? 0, header.epochCorrect ?? 0, header.epochSeen ?? 0))
    }
}

/// The layout TicketBench's binary state files share: 8 magic bytes, an
/// 8-byte little-endian length, a JSON header (sorted keys) of that length,
/// then the payload.
public enum FramedFile {
    /// The magic, length and header; the caller appends the payload.
    public static func frame<Header: Encodable>(magic: String, header: Header) throws -> Data {
        precondition(magic.utf8.count == 8, "magic must be 8 bytes")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(magic.utf8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        return data
    }

    /// The header and the offset where the payload starts; errors name
    /// `source` and say it is not a `kind`.
    public static func unframe<Header: Decodable>(_ bytes: [UInt8], magic: String, as type: Header.Type,
                                                  source: String, kind: String) throws -> (Header, Int) {
        guard bytes.count >= 16, Array(bytes[0..<8]) == Array(magic.utf8) else { throw NetworkError("\(source): not a \(kind)") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
        guard length <= UInt64(bytes.count - 16) else { throw NetworkError("\(source): truncated header") }
        let end = 16 + Int(length)
        return (try JSONDecoder().decode(Header.self, from: Data(bytes[16..<end])), end)
    }
}
