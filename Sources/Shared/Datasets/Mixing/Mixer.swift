import Foundation

/// LLaMA-Factory's `mix_strategy` for several datasets (data_utils.py `merge_dataset`, which calls
/// Hugging Face `concatenate_datasets` / `interleave_datasets`).
public enum MixStrategy: String, CaseIterable, Sendable {
    /// One input after the other.
    case concat
    /// Alternate (or draw by `--interleave-probs`) and stop as soon as one input runs out
    /// (`stopping_strategy="first_exhausted"`: undersampling).
    case interleaveUnder = "interleave_under"
    /// Alternate (or draw) until every input has been used whole at least once, starting shorter
    /// inputs over (`"all_exhausted"`: oversampling).
    case interleaveOver = "interleave_over"
    /// Alternate (or draw) until every input is used up, each record once
    /// (`"all_exhausted_without_replacement"`).
    case interleaveOnce = "interleave_once"
}

/// Cuts a source after `limit` records (`--max-samples`), or repeats it from the start until it
/// gave `limit` records (`num_samples` larger than the dataset, with `cycle`).
public final class LimitedSource: RecordSource {
    let base: RecordSource
    let limit: Int
    let cycle: Bool
    private var given = 0
    private var sawAny = false
    public var name: String { base.name }

    public init(_ base: RecordSource, limit: Int, cycle: Bool = false) {
        self.base = base
        self.limit = limit
        self.cycle = cycle
    }

    public func next() throws -> SourceItem? {
        guard given < limit else { return nil }
        if let item = try base.next() {
            given += 1
            sawAny = true
            return item
        }
        guard cycle, sawAny else { return nil }
        try base.rewind()
        return try next()
    }

    public func rewind() throws {
        try base.rewind()
        given = 0
    }
}

/// Streams the records of several sources in the order a mix strategy gives, as Hugging Face's
/// `interleave_datasets` orders them for map-style datasets:
///
/// - without probabilities, round robin: `interleave_under` gives whole rounds while every input
///   still has a record (min length × inputs); `interleave_over` goes on, restarting the inputs that
///   ran out, until the longest is used up (max length × inputs); `interleave_once` skips inputs that
///   ran out until all have;
/// - with probabilities, each record's input is drawn at random with those probabilities, and
///   `interleave_under` stops once any input is used up, `interleave_over` once every input has
///   been used up at least once (restarting those that ran out), `interleave_once` once all are.
///
/// The draws come from SplitMix64 seeded with `--seed`, not NumPy's PCG64, so the order has the
/// same statistics as LLaMA-Factory's but not the same records in the same places.
/// Inputs are restarted with `rewind` (files only; stdin cannot oversample).
public final class Mixer {
    public let strategy: MixStrategy
    private var sources: [PeekableSource]
    private let cumulative: [Double]?
    private var rng: UInt64
    private var exhausted: [Bool]
    private var pendingRound: [(Int, SourceItem)] = []
    private var roundRobinNext = 0
    private var concatIndex = 0
    private var done = false

    /// `probabilities` (one per source, normalised by their sum) draw inputs at random; nil
    /// alternates. They are ignored by `concat`.
    public init(sources: [RecordSource], strategy: MixStrategy, probabilities: [Double]?, seed: UInt64) throws {
        self.strategy = strategy
        self.sources = sources.map(PeekableSource.init)
        exhausted = Array(repeating: false, count: sources.count)
        rng = seed ^ 0x6D69_785F_7365_6564  // "mix_seed"
        if let probabilities, strategy != .concat {
            guard probabilities.count == sources.count else {
                throw LFError.usage("--interleave-probs gives \(probabilities.count) probabilities for \(sources.count) inputs",
                                    hint: "give one probability per input, in the order of the inputs")
            }
            guard probabilities.allSatisfy({ $0 >= 0 && $0.isFinite }), probabilities.reduce(0, +) > 0 else {
                throw LFError.usage("--interleave-probs must be non-negative numbers with a positive sum")
            }
            let sum = probabilities.reduce(0, +)
            var running = 0.0
            cumulative = probabilities.map { running += $0 / sum; return running }
        } else {
            cumulative = nil
        }
    }

    /// The next record and the index of the source it came from, or nil when the mix is complete.
    public func next() throws -> (source: Int, item: SourceItem)? {
        if done || sources.isEmpty { return nil }
        switch strategy {
        case .concat:
            while concatIndex < sources.count {
                if let item = try sources[concatIndex].take() { return (concatIndex, item) }
                concatIndex += 1
            }
            done = true
            return nil
        case .interleaveUnder, .interleaveOver, .interleaveOnce:
            return cumulative == nil ? try roundRobin() : try drawn()
        }
    }

    private func roundRobin() throws -> (source: Int, item: SourceItem)? {
        switch strategy {
        case .interleaveUnder:
            // Read a whole round first: a partial round is not given (min length × inputs).
            if pendingRound.isEmpty {
                for i in sources.indices {
                    guard let item = try sources[i].take() else {
                        done = true
                        return nil
                    }
                    pendingRound.append((i, item))
                }
            }
            let first = pendingRound.removeFirst()
            return (first.0, first.1)
        case .interleaveOver:
            if roundRobinNext == 0 && !exhausted.isEmpty && exhausted.allSatisfy({ $0 }) {
                done = true
                return nil
            }
            let i = roundRobinNext
            roundRobinNext = (roundRobinNext + 1) % sources.count
            guard let item = try takeRestarting(i) else { return try roundRobin() }
            return (i, item)
        default:  // interleaveOnce
            for _ in 0..<sources.count {
                let i = roundRobinNext
                roundRobinNext = (roundRobinNext + 1) % sources.count
                if let item = try sources[i].take() { return (i, item) }
            }
            done = true
            return nil
        }
    }

    /// Takes from source `i`; when that was its last record, marks it used up and starts it over.
    /// An input with no records at all is marked and skipped.
    private func takeRestarting(_ i: Int) throws -> SourceItem? {
        guard let item = try sources[i].take() else {
            exhausted[i] = true
            return nil
        }
        if try !sources[i].hasNext() {
            exhausted[i] = true
            try sources[i].rewind()
        }
        return item
    }

    private func drawn() throws -> (source: Int, item: SourceItem)? {
        guard let cumulative else { return nil }
        while true {
            switch strategy {
            case .interleaveUnder: if exhausted.contains(true) { done = true; return nil }
            default: if exhausted.allSatisfy({ $0 }) { done = true; return nil }
            }
            let u = Double(splitMix64(&rng) >> 11) * 0x1p-53
            let i = cumulative.firstIndex(where: { u < $0 }) ?? (cumulative.count - 1)
            if strategy == .interleaveOnce {
                if exhausted[i] { continue }
                guard let item = try sources[i].take() else { exhausted[i] = true; continue }
                if try !sources[i].hasNext() { exhausted[i] = true }
                return (i, item)
            }
            if let item = try takeRestarting(i) { return (i, item) }
            if sources.allSatisfy({ $0.isEmptyInput }) { done = true; return nil }
        }
    }
}

/// A source with one record of look-ahead (to know that a record was the last).
final class PeekableSource {
    let source: RecordSource
    private var peeked: SourceItem?
    private var peekedEnd = false
    private(set) var isEmptyInput = false
    private var gaveAny = false

    init(_ source: RecordSource) { self.source = source }

    func take() throws -> SourceItem? {
        if let p = peeked {
            peeked = nil
            gaveAny = true
            return p
        }
        if peekedEnd { return nil }
        let item = try source.next()
        if item == nil && !gaveAny { isEmptyInput = true }
        if item != nil { gaveAny = true }
        return item
    }

    func hasNext() throws -> Bool {
        if peeked != nil { return true }
        if peekedEnd { return false }
        peeked = try source.next()
        if peeked == nil { peekedEnd = true }
        return peeked != nil
    }

    func rewind() throws {
        try source.rewind()
        peeked = nil
        peekedEnd = false
    }
}
