/// Groups documents into sequences of at most `capacity` tokens.
///
/// The greedy best fit LLaMA-Factory uses for `packing` (`greedy_knapsack`): each new sequence takes
/// the longest document left, then keeps adding the longest document that still fits, until none
/// does. Ties go to the document that comes first in the given order, so with a shuffled order the
/// result is random but reproducible. Lengths are counted in a Fenwick tree over 1…capacity, so
/// finding "the longest that fits" costs O(log capacity) and packing n documents O(n log capacity).
public enum SequencePacker {
    /// Bins of document indices (into `lengths`), in the order they were filled. Every length must
    /// be in 1…capacity.
    public static func pack(lengths: [Int], order: [Int], capacity: Int) -> [[Int]] {
        precondition(capacity >= 1)
        var buckets = [[Int]](repeating: [], count: capacity + 1)
        for i in order {
            precondition(lengths[i] >= 1 && lengths[i] <= capacity, "document \(i) has length \(lengths[i]), outside 1…\(capacity)")
            buckets[lengths[i]].append(i)
        }
        var cursor = [Int](repeating: 0, count: capacity + 1)
        var tree = FenwickTree(size: capacity)
        for length in 1 ... capacity where !buckets[length].isEmpty { tree.add(length, buckets[length].count) }
        var remaining = order.count
        var bins: [[Int]] = []
        while remaining > 0 {
            var room = capacity
            var bin: [Int] = []
            while room > 0, let length = tree.largestNonEmpty(atMost: room) {
                bin.append(buckets[length][cursor[length]])
                cursor[length] += 1
                tree.add(length, -1)
                remaining -= 1
                room -= length
            }
            bins.append(bin)
        }
        return bins
    }
}

/// Counts per position 1…size with prefix sums and "largest non-empty position ≤ x" in O(log size).
struct FenwickTree {
    private var tree: [Int]
    let size: Int

    init(size: Int) {
        self.size = size
        tree = [Int](repeating: 0, count: size + 1)
    }

    mutating func add(_ position: Int, _ delta: Int) {
        var i = position
        while i <= size {
            tree[i] += delta
            i += i & -i
        }
    }

    func prefixSum(_ position: Int) -> Int {
        var i = position, sum = 0
        while i > 0 {
            sum += tree[i]
            i -= i & -i
        }
        return sum
    }

    /// The largest position ≤ x whose count is positive, or nil.
    func largestNonEmpty(atMost x: Int) -> Int? {
        let k = prefixSum(min(x, size))
        guard k > 0 else { return nil }
        // The smallest position whose prefix sum reaches k (binary lifting).
        var position = 0, remaining = k
        var step = 1
        while step * 2 <= size { step *= 2 }
        while step > 0 {
            let next = position + step
            if next <= size && tree[next] < remaining {
                position = next
                remaining -= tree[next]
            }
            step /= 2
        }
        return position + 1
    }
}

/// A seeded random number generator whose output is fixed by this code (SplitMix64), so a seed gives
/// the same shuffle on every machine and Swift version (the standard library's generators and
/// `shuffle` are not specified to be stable).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in 0 ..< bound (Lemire's multiply-and-reject, no modulo bias).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// Fisher–Yates, from the last element down.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(below(UInt64(i + 1)))
            if i != j { array.swapAt(i, j) }
        }
    }
}
