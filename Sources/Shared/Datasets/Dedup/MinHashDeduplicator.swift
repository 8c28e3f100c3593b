import Foundation

/// Near-duplicate detection with MinHash and locality-sensitive hashing (Broder 1997; the banding
/// scheme of Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3).
///
/// - Text: a record's contents joined by newlines, lower-cased, whitespace runs collapsed to one
///   space. Shingles: overlapping 5-character windows (Unicode scalars); a text shorter than that is
///   one shingle. Character shingles suit short instruction records, where one changed word still
///   leaves most shingles intact.
/// - Signature: 128 minima of `(a·h + b) >> 32` over the shingles' 64-bit hashes `h`, with fixed odd
///   multipliers `a` and offsets `b` from SplitMix64 — deterministic, independent of `--seed`.
/// - Banding: the signature is cut into `bands` bands of `rows` rows, chosen for the threshold as
///   datasketch's `optimal_param` does (least false-positive plus false-negative area). A record
///   whose band matches an earlier kept record's band is compared with it, and is a near duplicate
///   when the share of equal signature entries (the Jaccard estimate) reaches the threshold.
///
/// Memory: 512 bytes of signature and a few dictionary entries per kept record.
public struct MinHashDeduplicator {
    public static let permutations = 128
    public static let shingleSize = 5

    public let threshold: Double
    public let bands: Int
    public let rows: Int
    private let multipliers: [UInt64]
    private let offsets: [UInt64]
    private var signatures: [UInt32] = []
    private var tables: [[UInt64: Int32]]

    public init(threshold: Double) {
        self.threshold = threshold
        (bands, rows) = Self.bandsAndRows(threshold: threshold, permutations: Self.permutations)
        var state: UInt64 = 0x6C66_2D66_6F72_6D61  // "lf-forma"
        var a: [UInt64] = [], b: [UInt64] = []
        for _ in 0..<Self.permutations {
            a.append(splitMix64(&state) | 1)
            b.append(splitMix64(&state))
        }
        multipliers = a
        offsets = b
        tables = Array(repeating: [:], count: bands)
    }

    /// The number of records kept so far.
    public var count: Int { signatures.count / Self.permutations }

    /// Checks `text` against the kept records; keeps it and returns nil if it is new, or returns the
    /// estimated similarity to the earlier record it duplicates.
    public mutating func check(_ text: String) -> Double? {
        let signature = Self.signature(of: text, multipliers: multipliers, offsets: offsets)
        var bandHashes = [UInt64](repeating: 0, count: bands)
        var checked = Set<Int32>()
        for band in 0..<bands {
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(band)
            for r in 0..<rows {
                h = (h ^ UInt64(signature[band * rows + r])) &* 0x0000_0100_0000_01B3
            }
            h = mix64(h)
            bandHashes[band] = h
            if let other = tables[band][h], checked.insert(other).inserted {
                let similarity = self.similarity(signature, Int(other))
                if similarity >= threshold { return similarity }
            }
        }
        let id = Int32(count)
        signatures.append(contentsOf: signature)
        for band in 0..<bands where tables[band][bandHashes[band]] == nil {
            tables[band][bandHashes[band]] = id
        }
        return nil
    }

    private func similarity(_ signature: [UInt32], _ other: Int) -> Double {
        var equal = 0
        let base = other * Self.permutations
        for i in 0..<Self.permutations where signatures[base + i] == signature[i] { equal += 1 }
        return Double(equal) / Double(Self.permutations)
    }

    /// The text that is shingled: lower-cased, whitespace runs collapsed to one space, trimmed.
    static func normalised(_ text: String) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(0x20); pendingSpace = false }
            out.append(scalar.value)
        }
        return out
    }

    static func signature(of text: String, multipliers: [UInt64], offsets: [UInt64]) -> [UInt32] {
        let scalars = normalised(text)
        var minima = [UInt32](repeating: .max, count: permutations)
        let k = shingleSize
        let windows = max(1, scalars.count - k + 1)
        minima.withUnsafeMutableBufferPointer { m in
            multipliers.withUnsafeBufferPointer { a in
                offsets.withUnsafeBufferPointer { b in
                    for w in 0..<windows {
                        var h: UInt64 = 0xCBF2_9CE4_8422_2325
                        for j in w..<min(w + k, scalars.count) {
                            h = (h ^ UInt64(scalars[j])) &* 0x0000_0100_0000_01B3
                        }
                        h = mix64(h)
                        for i in 0..<permutations {
                            let v = UInt32(truncatingIfNeeded: (a[i] &* h &+ b[i]) >> 32)
                            if v < m[i] { m[i] = v }
                        }
                    }
                }
            }
        }
        return minima
    }

    /// datasketch's `optimal_param`: the (bands, rows) with bands·rows ≤ permutations minimising the
    /// false-positive area below the threshold plus the false-negative area above it.
    static func bandsAndRows(threshold: Double, permutations: Int) -> (Int, Int) {
        func integrate(_ f: (Double) -> Double, _ a: Double, _ b: Double) -> Double {
            let steps = 200
            let h = (b - a) / Double(steps)
            var sum = 0.0
            for i in 0..<steps { sum += f(a + (Double(i) + 0.5) * h) * h }
            return sum
        }
        var best = (bands: 1, rows: permutations)
        var bestError = Double.infinity
        for b in 1...permutations {
            for r in 1...(permutations / b) {
                let probability = { (s: Double) in 1 - pow(1 - pow(s, Double(r)), Double(b)) }
                let falsePositive = integrate(probability, 0, threshold)
                let falseNegative = integrate({ 1 - probability($0) }, threshold, 1)
                let error = falsePositive + falseNegative
                if error < bestError - 1e-12 {
                    bestError = error
                    best = (b, r)
                }
            }
        }
        return best
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, well-mixed 64-bit generator.
@inline(__always)
func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return mix64(state)
}

/// SplitMix64's finaliser: a bijective 64-bit mix.
@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
