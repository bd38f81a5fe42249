import CZlib
import Foundation
@testable import Datasets

/// Builds tiny data files on disk for the decoder tests.
final class FixtureDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "ticketbench-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = path + "/" + name
        let directory = (file as NSString).deletingLastPathComponent
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        precondition(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        return file
    }
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// An IDX images file: header then `count × rows × columns` bytes.
func idxImages(count: UInt32, rows: UInt32, columns: UInt32, pixels: [UInt8]? = nil, magic: UInt32 = 2051) -> [UInt8] {
    let payload = pixels ?? (0..<Int(count * rows * columns)).map { UInt8(truncatingIfNeeded: $0 * 7) }
    return bigEndian(magic) + bigEndian(count) + bigEndian(rows) + bigEndian(columns) + payload
}

func idxLabels(_ labels: [UInt8], declaredCount: UInt32? = nil) -> [UInt8] {
    bigEndian(2049) + bigEndian(declaredCount ?? UInt32(labels.count)) + labels
}

/// gzip-compresses with zlib (a real gzip member with header, CRC and length).
func gzipped(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    precondition(ticket_deflateInit2(&stream, 6, 15 + 16) == Z_OK)
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
    var input = bytes
    let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = uInt(outBuffer.count)
            precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
            return outBuffer.count - Int(stream.avail_out)
        }
    }
    return Array(output[0..<produced])
}

/// CIFAR-10 records with labels `labels` and pixels derived from the index.
func cifar10Records(_ labels: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = []
    for (i, label) in labels.enumerated() {
        bytes.append(label)
        bytes += (0..<3072).map { UInt8(truncatingIfNeeded: $0 &+ i * 31) }
    }
    return bytes
}

/// A ustar archive of the given (name, contents) entries.
func tarArchive(_ entries: [(String, [UInt8])], corruptChecksumOf corrupt: String? = nil) -> [UInt8] {
    var archive: [UInt8] = []
    for (name, contents) in entries {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (i, byte) in text.utf8.enumerated() { header[offset + i] = byte }
        }
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(String(format: "%011o", contents.count), at: 124)
        put("00000000000", at: 136)
        header[156] = UInt8(ascii: "0")
        put("ustar", at: 257)
        put("00", at: 263)
        for i in 148..<156 { header[i] = 32 }
        var sum = header.reduce(0) { $0 + Int($1) }
        if name == corrupt { sum += 1 }
        put(String(format: "%06o", sum), at: 148)
        header[154] = 0
        archive += header + contents
        archive += [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
    }
    return archive + [UInt8](repeating: 0, count: 1024)
}

/// Runs `body`, expecting a `DatasetError` naming `path`; returns its reason.
func expectDatasetError(_ path: String, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> Void) -> DatasetError.Reason? {
    do {
        try body()
        XCTFail("expected an error for \(path)", file: file, line: line)
        return nil
    } catch let error as DatasetError {
        XCTAssertEqual(error.path, path, "error should name the file", file: file, line: line)
        return error.reason
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
        return nil
    }
}

import XCTest
