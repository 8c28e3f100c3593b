import Foundation

/// The content hash of a canonical record: SHA-256 of its canonical line (`CanonicalEncoding`,
/// without the newline). Exact duplicates (after cleaning) have equal digests; the split and
/// `--shard` are computed from it, so they never depend on input order.
public struct ContentDigest: Hashable, Sendable {
    /// The first 16 bytes of the SHA-256, as two words (enough to tell records apart: a collision
    /// among 10⁹ records has probability about 10⁻²¹).
    public let high: UInt64
    public let low: UInt64
    /// The full hex digest.
    public let hex: String

    public init(line: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        hasher.update(line)
        let bytes = hasher.finalize()
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        high = h
        low = l
        hex = ContentDigest.hexString(bytes)
    }

    public init(line: [UInt8]) {
        self = line.withUnsafeBytes { ContentDigest(line: $0) }
    }

    public static func == (a: ContentDigest, b: ContentDigest) -> Bool { a.high == b.high && a.low == b.low }
    public func hash(into hasher: inout Hasher) { hasher.combine(high); hasher.combine(low) }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
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
