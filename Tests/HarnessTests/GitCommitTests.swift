import Foundation
import TicketTestSupport
import XCTest
@testable import Harness
@testable import Reports

/// `git_commit` provenance: outputs under `results/` are not inputs, so
/// regenerating them must not mark the tree dirty; any other change must.
final class GitCommitTests: XCTestCase {
    private func git(_ arguments: [String], in directory: URL) throws {
        let result = try runToCompletion(URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", directory.path,
            "-c", "user.name=test", "-c", "user.email=test@example.org"] + arguments)
        guard result.status == 0 else { throw XCTSkip("git \(arguments.joined(separator: " ")) failed here: \(result.stderr)") }
    }

    func testChangesUnderResultsKeepTheCommitCleanAndOthersMarkItDirty() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else { throw XCTSkip("git is not installed") }
        let repository = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: repository) }
        let results = repository.appendingPathComponent("results/default"), sources = repository.appendingPathComponent("Sources")
        try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let output = results.appendingPathComponent("summary.csv"), source = sources.appendingPathComponent("a.swift")
        let nested = sources.appendingPathComponent("results.swift")
        try Data("old\n".utf8).write(to: output)
        try Data("let a = 1\n".utf8).write(to: source)
        try Data("let b = 1\n".utf8).write(to: nested)
        try git(["init", "-q"], in: repository)
        try git(["add", "."], in: repository)
        try git(["commit", "-q", "-m", "initial"], in: repository)

        let clean = currentGitCommit(in: repository)
        XCTAssertEqual(clean.count, 40, clean)
        XCTAssertFalse(clean.hasSuffix("-dirty"))

        try Data("regenerated\n".utf8).write(to: output)
        XCTAssertEqual(currentGitCommit(in: repository), clean, "a regenerated output is not a change of inputs")
        XCTAssertEqual(currentGitCommit(in: sources), clean, "the same seen from a subdirectory")

        // Only the top-level results/ is excluded, not any path containing the word.
        try Data("let b = 2\n".utf8).write(to: nested)
        XCTAssertEqual(currentGitCommit(in: repository), clean + "-dirty")
        try git(["checkout", "--", "Sources/results.swift"], in: repository)

        try Data("let a = 2\n".utf8).write(to: source)
        XCTAssertEqual(currentGitCommit(in: repository), clean + "-dirty")
        XCTAssertEqual(currentGitCommit(in: results), clean + "-dirty", "seen from inside results/")
    }
}
