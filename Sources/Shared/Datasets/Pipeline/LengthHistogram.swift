import Foundation

/// Exact length percentiles in bounded memory: a count per distinct length (an array below 64 Ki,
/// a dictionary above), so it does not grow with the number of records.
public struct LengthHistogram: Sendable {
    private var small = [Int](repeating: 0, count: 1 << 16)
    private var large: [Int: Int] = [:]
    public private(set) var count = 0
    public private(set) var total = 0
    public private(set) var minimum = Int.max
    public private(set) var maximum = 0

    public init() {}

    public mutating func add(_ length: Int) {
        if length < small.count { small[length] += 1 } else { large[length, default: 0] += 1 }
        count += 1
        total += length
        minimum = min(minimum, length)
        maximum = max(maximum, length)
    }

    /// The nearest-rank percentile: the smallest length with at least `p`% of the records at or
    /// below it (p in 0...100). Nil when empty.
    public func percentile(_ p: Double) -> Int? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((p / 100 * Double(count)).rounded(.up)))
        var seen = 0
        for (length, n) in small.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return length }
        }
        for length in large.keys.sorted() {
            seen += large[length] ?? 0
            if seen >= rank { return length }
        }
        return maximum
    }

    /// `{"count", "min", "p50", "p90", "p95", "p99", "max", "mean"}`.
    public var json: JSONValue {
        guard count > 0 else { return .object([("count", .int(0))]) }
        return .object([
            ("count", .int(count)),
            ("min", .int(minimum)),
            ("p50", .int(percentile(50) ?? 0)),
            ("p90", .int(percentile(90) ?? 0)),
            ("p95", .int(percentile(95) ?? 0)),
            ("p99", .int(percentile(99) ?? 0)),
            ("max", .int(maximum)),
            ("mean", .double((Double(total) / Double(count) * 10).rounded() / 10)),
        ])
    }
}
