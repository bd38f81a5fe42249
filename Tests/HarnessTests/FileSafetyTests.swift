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
    func testSecondLockIsRefusedNamingTheHolderAndFreedOnRelease() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try DirectoryLock.acquire(dir)
        XCTAssertNil(first.takeoverWarning)
        XCTAssertThrowsError(try DirectoryLock.acquire(dir)) { error in
            guard case .held(_, let holder)? = error as? DirectoryLockError else { return XCTFail("\(error)") }
            XCTAssertTrue(holder.hasPrefix("pid \(getpid()) on host "), holder)
            XCTAssertTrue("\(error)".contains("in use by another sweep"), "\(error)")
        }
        // A shard cannot join while a whole sweep holds the directory.
        XCTAssertThrowsError(try DirectoryLock.acquire(dir, shard: Shard(index: 1, count: 2)))
        first.release()
        let second = try DirectoryLock.acquire(dir)
        XCTAssertNil(second.takeoverWarning, "a cleanly released lock is not stale")
        second.release()
    }

    func testShardsCoexistButNotTwiceAndExcludeAWholeSweep() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try DirectoryLock.acquire(dir, shard: Shard(index: 1, count: 2))
        let two = try DirectoryLock.acquire(dir, shard: Shard(index: 2, count: 2))
        XCTAssertThrowsError(try DirectoryLock.acquire(dir, shard: Shard(index: 2, count: 2)))
        XCTAssertThrowsError(try DirectoryLock.acquire(dir)) { error in
            XCTAssertTrue("\(error)".contains("shard 1/2") && "\(error)".contains("shard 2/2"), "\(error)")
        }
        one.release()
        two.release()
        XCTAssertNoThrow(try DirectoryLock.acquire(dir).release())
    }

    func testStaleLockOfADeadProcessIsTakenOverWithAWarning() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "exit 0"]
        try child.run()
        child.waitUntilExit()
        let deadPID = child.processIdentifier
        try "pid \(deadPID) on host elsewhere since 2026-01-01T00:00:00Z\n"
            .write(to: dir.appendingPathComponent(".lock"), atomically: false, encoding: .utf8)
        let lock = try DirectoryLock.acquire(dir)
        XCTAssertTrue(lock.takeoverWarning?.contains("pid \(deadPID) on host elsewhere") == true, "\(lock.takeoverWarning ?? "nil")")
        lock.release()
    }

    /// A real second process holds the lock, then is killed with SIGKILL:
    /// refused while it lives, taken over once it is dead.
    func testLockHeldByAnotherProcessIsRefusedUntilItIsKilled() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw XCTSkip("needs /usr/bin/python3 to hold a lock from another process")
        }
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = ["-c", """
            import fcntl, os, sys, time
            f = open(sys.argv[1], 'a+')
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write('pid %d on host test since now\\n' % os.getpid()); f.flush()
            print('ready', flush=True)
            time.sleep(60)
            """, dir.appendingPathComponent(".lock").path]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        _ = pipe.fileHandleForReading.availableData  // blocks until "ready"
        XCTAssertThrowsError(try DirectoryLock.acquire(dir)) { error in
            XCTAssertTrue("\(error)".contains("pid \(child.processIdentifier) on host test"), "\(error)")
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        let lock = try DirectoryLock.acquire(dir)
        XCTAssertTrue(lock.takeoverWarning?.contains("pid \(child.processIdentifier)") == true)
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
