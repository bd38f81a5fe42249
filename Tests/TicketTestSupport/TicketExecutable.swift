import Foundation

/// The repository root, found from this file's location.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// The built `ticket` executable, which SwiftPM puts next to the test bundle
/// (the bundle URL is the `.xctest` on macOS and its directory on Linux).
public func ticketExecutable(nextTo bundle: Bundle) throws -> URL {
    let base = bundle.bundleURL
    let candidates = [base, base.deletingLastPathComponent()].map { $0.appendingPathComponent("ticket") }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw TicketNotBuilt(searched: candidates.map(\.path))
    }
    return found
}

/// The tests need the CLI built beside them (`make test` builds it).
public struct TicketNotBuilt: Error, CustomStringConvertible {
    public var searched: [String]
    public var description: String { "ticket executable not found at \(searched); build it first (make test does)" }
}
