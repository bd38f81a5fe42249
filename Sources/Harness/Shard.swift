import Reports
/// One of `count` disjoint slices of a sweep's run list (`--shard I/N`,
/// 1-based, so job-array tasks 1...N map directly). Run k (0-based, in
/// expansion order) belongs to shard `k % N + 1`: round-robin rather than
/// contiguous blocks, so each shard gets a similar mix of cheap and
/// expensive runs. The slices are disjoint, together cover every run, and
/// depend only on the run list.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    /// 1-based shard number, in 1...count.
    public let index: Int
    public let count: Int

    /// The whole run list (`1/1`).
    public static let whole = Shard(uncheckedIndex: 1, count: 1)

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Validates `index` in 1...count.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw ShardError(text: "\(index)/\(count)", reason: "the shard count must be at least 1") }
        guard (1...count).contains(index) else {
            throw ShardError(text: "\(index)/\(count)", reason: "the shard number must be in 1...\(count) (shards count from 1)")
        }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses `"I/N"`, e.g. `"2/8"`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ShardError(text: text, reason: "expected I/N, e.g. 2/8")
        }
        try self.init(index: index, count: count)
    }

    /// The elements of `runs` that belong to this shard, in their order.
    public func slice<T>(_ runs: [T]) -> [T] {
        runs.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}

/// A malformed `--shard` value.
public struct ShardError: Error, CustomStringConvertible, Equatable, Sendable {
    public var text: String
    public var reason: String
    public var description: String { "--shard \(text): \(reason)" }
}
