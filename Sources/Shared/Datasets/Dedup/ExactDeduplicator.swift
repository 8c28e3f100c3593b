import Foundation

/// The content hash of a canonical record: MurmurHash3 x64 128 (seed 0) of its canonical line
/// (`CanonicalEncoding`, without the newline). Exact duplicates (after cleaning) have equal
/// digests; `--shard` is computed from it, so it never depends on input order.
public struct ContentDigest: Hashable, Sendable {
    /// MurmurHash3's h1 and h2 (`mmh3.hash128(line, 0, signed=False)` is `high | low << 64`).
    /// A chance collision among 10⁹ records has probability about 10⁻²¹.
    public let high: UInt64
    public let low: UInt64

    public init(line: UnsafeRawBufferPointer) {
        (high, low) = MurmurHash3.x64_128(line, seed: 0)
    }

    public init(line: [UInt8]) {
        self = line.withUnsafeBytes { ContentDigest(line: $0) }
    }
}

/// Remembers the digests of the records written so far (16 bytes each, plus the set's overhead):
/// the only state of lf-format that grows with the input.
public struct ExactDeduplicator {
    private struct Key: Hashable {
        var high: UInt64
        var low: UInt64
    }

    private var seen = Set<Key>()

    public init() {}

    public var count: Int { seen.count }

    /// True the first time a digest is offered, false for a duplicate.
    public mutating func insert(_ digest: ContentDigest) -> Bool {
        seen.insert(Key(high: digest.high, low: digest.low)).inserted
    }
}
