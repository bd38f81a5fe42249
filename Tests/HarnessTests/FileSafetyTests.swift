import Foundation
import XCTest
@testable import Harness
@testable import Reports

func makeTemporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("harness-tests-\(getpid())-\(name.filter(\.isLetter))-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

final class AtomicFileTests: XCTestCase {
    func testWriteReplacesContentAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.csv")
        try AtomicFile.write("first\n", to: file)
        try AtomicFile.write("second\n", to: file)
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "second\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.csv"])
    }

    func testWriteIntoMissingDirectoryFailsNamingTheFile() {
        XCTAssertThrowsError(try AtomicFile.write("x", to: URL(fileURLWithPath: "/nonexistent-dir/a.csv"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent-dir/a.csv: cannot create temporary file"), "\(error)")
        }
    }
}

final class DirectoryLockTests: XCTestCase {
    private func plan(_ name: String, _ count: Int) throws -> SweepPlan {
        SweepPlan(name: name, runs: Array(try SweepManifest.parse(Data(runnerManifest.utf8)).expand().prefix(count)))
    }

    func testWorkersOfOneManifestCoexistAndAnotherIsRefusedNamingThem() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try DirectoryLock.join(dir, plan: plan("a", 5), role: "worker")
        let two = try DirectoryLock.join(dir, plan: plan("renamed", 5), role: "shard 1/2")
        XCTAssertEqual(DirectoryLock.liveWorkers(of: dir).map(\.role).sorted(), ["shard 1/2", "worker"])
        XCTAssertThrowsError(try DirectoryLock.join(dir, plan: plan("a", 4), role: "worker")) { error in
            XCTAssertTrue("\(error)".contains("another manifest") && "\(error)".contains("pid \(getpid()) on host "), "\(error)")
        }
        XCTAssertThrowsError(try DirectoryLock.exclusive(dir)) { error in
            XCTAssertTrue("\(error)".contains("(worker)") && "\(error)".contains("(shard 1/2)"), "\(error)")
        }
        one.release()
        two.release()
        XCTAssertEqual(DirectoryLock.liveWorkers(of: dir), [])
        // With nobody left, another manifest may use the directory (a union, as documented).
        let other = try DirectoryLock.join(dir, plan: plan("b", 4), role: "sweep")
        XCTAssertEqual(try SweepPlan.read(from: dir.appendingPathComponent(SweepPlan.fileName)), try plan("b", 4))
        XCTAssertEqual(other.warnings, [], "cleanly released workers leave nothing stale")
        other.release()
        XCTAssertNoThrow(try DirectoryLock.exclusive(dir).release())
    }

    func testStaleWorkerFileOfADeadProcessIsRemovedWithAWarning() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workers = dir.appendingPathComponent(".workers")
        try FileManager.default.createDirectory(at: workers, withIntermediateDirectories: true)
        try "pid: 999999\nhost: elsewhere\nsince: 2026-01-01T00:00:00Z\nrole: worker\n"
            .write(to: workers.appendingPathComponent("elsewhere-999999"), atomically: false, encoding: .utf8)
        let lock = try DirectoryLock.join(dir, plan: plan("a", 2), role: "worker")
        XCTAssertTrue(lock.warnings.contains { $0.contains("pid 999999 on host elsewhere (worker)") }, "\(lock.warnings)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: workers.appendingPathComponent("elsewhere-999999").path))
        lock.release()
    }

    /// A real second process holds a worker file, then is killed with
    /// SIGKILL: `report` is refused naming it while it lives, allowed once it is dead.
    func testLockHeldByAnotherProcessIsRefusedUntilItIsKilled() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw XCTSkip("needs /usr/bin/python3 to hold a lock from another process")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workers = dir.appendingPathComponent(".workers")
        try FileManager.default.createDirectory(at: workers, withIntermediateDirectories: true)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = ["-c", """
            import fcntl, os, sys, time
            f = open(sys.argv[1], 'a+')
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write('pid: %d\\nhost: test\\nsince: now\\nrole: worker\\n' % os.getpid()); f.flush()
            print('ready', flush=True)
            time.sleep(60)
            """, workers.appendingPathComponent("test-1").path]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        _ = pipe.fileHandleForReading.availableData  // blocks until "ready"
        XCTAssertThrowsError(try DirectoryLock.exclusive(dir)) { error in
            XCTAssertTrue("\(error)".contains("pid \(child.processIdentifier) on host test (worker)"), "\(error)")
        }
        XCTAssertEqual(DirectoryLock.liveWorkers(of: dir).map(\.pid), [child.processIdentifier])
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(DirectoryLock.liveWorkers(of: dir), [])
        let lock = try DirectoryLock.join(dir, plan: plan("a", 2), role: "worker")
        XCTAssertTrue(lock.warnings.contains { $0.contains("pid \(child.processIdentifier)") }, "\(lock.warnings)")
        lock.release()
    }
}

final class ShardTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try Shard(parsing: "2/8"), try Shard(index: 2, count: 8))
        for bad in ["0/4", "5/4", "1/0", "a/4", "1", "1/2/3", "-1/2", ""] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--shard \(bad): "), "\(error)")
            }
        }
    }

    func testSlicesAreDisjointCoveringAndDeterministic() throws {
        for total in [0, 1, 5, 17, 64] {
            let runs = Array(0..<total)
            for count in 1...7 {
                let slices = try (1...count).map { try Shard(index: $0, count: count).slice(runs) }
                XCTAssertEqual(slices.flatMap { $0 }.sorted(), runs, "covering, no duplicates: \(total) in \(count)")
                XCTAssertLessThanOrEqual(slices.map(\.count).max()! - slices.map(\.count).min()!, 1, "balanced")
                XCTAssertEqual(try Shard(index: 1, count: count).slice(runs), slices[0])
            }
        }
        XCTAssertEqual(try Shard(index: 2, count: 3).slice(Array(0..<8)), [1, 4, 7])
        XCTAssertEqual(Shard.whole.slice([3, 1, 2]), [3, 1, 2])
    }
}
