import Foundation
import XCTest
@testable import Harness
@testable import Reports

/// The manifests in the repository must stay valid as the schema evolves.
final class CommittedManifestTests: XCTestCase {
    func testEveryCommittedManifestParsesAndExpands() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = root.appendingPathComponent("Benchmarks/sweeps")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?
            .filter { $0.hasSuffix(".json") }.sorted() ?? []
        guard !names.isEmpty else { throw XCTSkip("no manifests in \(directory.path)") }
        for name in names {
            let manifest = try SweepManifest.load(from: directory.appendingPathComponent(name))
            let runs = manifest.expand()
            XCTAssertFalse(runs.isEmpty, name)
            XCTAssertEqual(Set(runs.map(\.hash)).count, runs.count, "\(name): two runs share a hash")
        }
    }
}
