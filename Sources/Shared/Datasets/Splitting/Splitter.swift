import Foundation

/// The splits lf-format writes, in file order.
public enum SplitName: String, CaseIterable, Sendable {
    case train, eval, test
}

/// Train/eval/test ratios (normalised to sum 1).
public struct SplitRatios: Equatable, Sendable {
    public var train: Double
    public var eval: Double
    public var test: Double

    public init(train: Double, eval: Double, test: Double) {
        let sum = train + eval + test
        self.train = train / sum
        self.eval = eval / sum
        self.test = test / sum
    }

    /// Everything in train.
    public static let trainOnly = SplitRatios(train: 1, eval: 0, test: 0)

    /// Parses `--split 0.9,0.1`, `0.8,0.1,0.1` or `90,5,5` (any non-negative numbers, normalised by
    /// their sum; train must be positive).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (2...3).contains(parts.count) else {
            throw LFError.usage("--split takes two or three ratios, TRAIN,EVAL[,TEST], got \"\(text)\"", hint: "for example --split 0.9,0.1 or --split 80,10,10")
        }
        var values: [Double] = []
        for part in parts {
            guard let v = Double(part), v.isFinite, v >= 0 else {
                throw LFError.usage("--split: \"\(part)\" is not a non-negative number")
            }
            values.append(v)
        }
        guard values[0] > 0 else { throw LFError.usage("--split: the train ratio must be positive") }
        self.init(train: values[0], eval: values[1], test: values.count > 2 ? values[2] : 0)
    }

    /// The splits that receive records.
    public var active: [SplitName] {
        SplitName.allCases.filter { ratio($0) > 0 }
    }

    public func ratio(_ split: SplitName) -> Double {
        switch split {
        case .train: return train
        case .eval: return eval
        case .test: return test
        }
    }
}

/// Assigns a record to a split from its content and the seed, so that a record's split never
/// depends on the other records: appending data, reordering or deduplicating the input never moves
/// an existing record to another split.
///
/// The hash is documented so that anyone can reproduce it (Python, with the `mmh3` package):
///
///     u = ((mmh3.hash128(line, seed, signed=False) & (2**64 - 1)) >> 11) / 2**53
///     split = "train" if u < train else "eval" if u < train + eval else "test"
///
/// where `line` is the record's canonical line as written (UTF-8, without the newline) and the
/// ratios are normalised to sum 1: MurmurHash3 x64 128's first word, seeded with `--seed`.
public struct Splitter: Sendable {
    public let ratios: SplitRatios
    public let seed: UInt32

    public init(ratios: SplitRatios, seed: UInt32) {
        self.ratios = ratios
        self.seed = seed
    }

    /// The position of a record in [0, 1).
    public func unitValue(line: UnsafeRawBufferPointer) -> Double {
        let (h1, _) = MurmurHash3.x64_128(line, seed: seed)
        return Double(h1 >> 11) * 0x1p-53  // the top 53 bits: exact, and always < 1
    }

    public func split(line: UnsafeRawBufferPointer) -> SplitName {
        if ratios.eval == 0 && ratios.test == 0 { return .train }
        let u = unitValue(line: line)
        if u < ratios.train { return .train }
        if u < ratios.train + ratios.eval || ratios.test == 0 { return .eval }
        return .test
    }

    public func split(line: [UInt8]) -> SplitName {
        line.withUnsafeBytes { split(line: $0) }
    }
}

/// `--shard I/N`: a deterministic, disjoint slice of the records by content hash (exact duplicates
/// fall in the same shard, so exact dedup stays complete within a shard).
public struct Shard: Equatable, Sendable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `I/N` with 0 ≤ I < N.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, i >= 0, i < n else {
            throw LFError.usage("--shard takes I/N with 0 ≤ I < N, got \"\(text)\"", hint: "for example --shard 0/4 … --shard 3/4")
        }
        self.init(index: i, count: n)
    }

    /// Whether the record with `digest` belongs to this shard (h1 mod N).
    public func contains(_ digest: ContentDigest) -> Bool {
        digest.high % UInt64(count) == UInt64(index)
    }
}
