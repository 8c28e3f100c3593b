import Foundation

/// Learns a byte-level BPE vocabulary the way Hugging Face's `BpeTrainer` does, so that the same
/// corpus and settings give the same vocabulary and merges:
///
/// 1. special tokens take the first ids, then the alphabet (every byte, as ByteLevel's initial
///    alphabet, plus nothing else) sorted by its character;
/// 2. pairs are counted over the distinct words weighted by their counts;
/// 3. a max-heap orders candidate merges by count, then by the smaller pair of ids; stale counts
///    are refreshed when popped; each merge is applied, left to right, in the words that were
///    recorded with it, and the pairs it creates are pushed with those words;
/// 4. training stops at the vocabulary size, or when the best count falls below `minFrequency`.
public struct BPETrainer {
    public var vocabularySize: Int
    public var minFrequency: Int
    public var specialTokens: [String]

    public init(vocabularySize: Int, minFrequency: Int = 0, specialTokens: [String] = []) {
        self.vocabularySize = vocabularySize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
    }

    /// What training produces: the vocabulary in id order and the merges in rank order, both in the
    /// byte-level alphabet.
    public struct Result {
        public var vocabulary: [String]
        public var merges: [(String, String)]
    }

    /// Word counts: each distinct pre-tokenized word (its raw bytes) and how often it occurs.
    public struct WordCounts {
        var counts: [[UInt8]: Int] = [:]
        public init() {}
        public var distinctWords: Int { counts.count }
        public mutating func add(_ word: [UInt8], count: Int = 1) { counts[word, default: 0] += count }
        public mutating func merge(_ other: WordCounts) {
            for (w, c) in other.counts { counts[w, default: 0] += c }
        }
    }

    private struct Candidate: Comparable {
        var pair: UInt64
        var count: Int
        var positions: [Int32]

        // Max-heap order: higher count first; on equal counts, the smaller pair (left id, then right id).
        static func < (a: Candidate, b: Candidate) -> Bool {
            if a.count != b.count { return a.count < b.count }
            return a.pair > b.pair
        }
        static func == (a: Candidate, b: Candidate) -> Bool { a.count == b.count && a.pair == b.pair }
    }

    public func train(_ wordCounts: WordCounts, progress: ProgressReporter? = nil) -> Result {
        // 1. Ids: special tokens, then the 256 byte characters sorted by code point.
        var vocabulary: [String] = []
        var ids: [String: Int32] = [:]  // byte-level strings (no canonical equivalents among them)
        func add(_ token: String) -> Int32 {
            if let id = ids[token] { return id }
            vocabulary.append(token)
            ids[token] = Int32(vocabulary.count - 1)
            return Int32(vocabulary.count - 1)
        }
        for token in specialTokens { _ = add(token) }
        let byteChars = ByteLevelAlphabet.characters.enumerated().sorted { $0.element.value < $1.element.value }
        var byteID = [Int32](repeating: 0, count: 256)
        for (byte, char) in byteChars { byteID[byte] = add(String(char)) }

        // 2. Words as symbol ids; the order of words does not change the result.
        let sortedWords = wordCounts.counts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words: [[Int32]] = sortedWords.map { $0.key.map { byteID[Int($0)] } }
        let counts: [Int] = sortedWords.map(\.value)

        var pairCounts: [UInt64: Int] = [:]
        var positions: [UInt64: Set<Int32>] = [:]
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<(word.count - 1) {
                let pair = Self.pack(word[i], word[i + 1])
                pairCounts[pair, default: 0] += counts[w]
                positions[pair, default: []].insert(Int32(w))
            }
        }
        // Pushed in pair order: Swift's dictionaries iterate in a per-process random order, and the
        // heap's order of equal elements depends on the order of pushes.
        var heap = MaxHeap<Candidate>()
        for (pair, where_) in positions.sorted(by: { $0.key < $1.key }) where pairCounts[pair, default: 0] > 0 {
            heap.push(Candidate(pair: pair, count: pairCounts[pair]!, positions: where_.sorted()))
        }

        // 3. Merges.
        var merges: [(UInt64, Int32)] = []
        while vocabulary.count < vocabularySize, var top = heap.pop() {
            let current = pairCounts[top.pair, default: 0]
            if top.count != current {
                top.count = current
                heap.push(top)
                continue
            }
            if top.count < 1 || minFrequency > top.count { break }
            let (a, b) = Self.unpack(top.pair)
            let newID = add(vocabulary[Int(a)] + vocabulary[Int(b)])
            merges.append((top.pair, newID))

            var changed: [UInt64: Set<Int32>] = [:]
            for w in top.positions {
                Self.merge(&words[Int(w)], a, b, newID) { pair, change in
                    pairCounts[pair, default: 0] += change * counts[Int(w)]
                    if change > 0 { changed[pair, default: []].insert(w) }
                }
            }
            for (pair, where_) in changed.sorted(by: { $0.key < $1.key }) {
                let count = pairCounts[pair, default: 0]
                if count > 0 { heap.push(Candidate(pair: pair, count: count, positions: where_.sorted())) }
            }
            progress?.set(vocabulary.count)
        }

        // A pair merged twice (once for words recorded late) keeps its last rank, as HF's merge
        // map does when the model is built.
        var lastRank: [UInt64: Int] = [:]
        for (rank, (pair, _)) in merges.enumerated() { lastRank[pair] = rank }
        let ordered = merges.enumerated().filter { lastRank[$0.element.0] == $0.offset }.map(\.element.0)
        return Result(vocabulary: vocabulary, merges: ordered.map { pair in
            let (a, b) = Self.unpack(pair)
            return (vocabulary[Int(a)], vocabulary[Int(b)])
        })
    }

    @inline(__always) static func pack(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
    @inline(__always) static func unpack(_ p: UInt64) -> (Int32, Int32) {
        (Int32(truncatingIfNeeded: p >> 32), Int32(truncatingIfNeeded: p & 0xFFFF_FFFF))
    }

    /// HF's `Word::merge`: replaces each non-overlapping (a, b), left to right, and reports the pair
    /// changes around it (-1 for pairs broken, +1 for pairs formed).
    static func merge(_ word: inout [Int32], _ a: Int32, _ b: Int32, _ replacement: Int32, _ change: (UInt64, Int) -> Void) {
        var i = 0
        while i < word.count {
            if word[i] == a, i + 1 < word.count, word[i + 1] == b {
                if i > 0 {
                    change(pack(word[i - 1], a), -1)
                    change(pack(word[i - 1], replacement), 1)
                }
                word.replaceSubrange(i...(i + 1), with: [replacement])
                if i < word.count - 1 {
                    change(pack(b, word[i + 1]), -1)
                    change(pack(replacement, word[i + 1]), 1)
                }
            }
            i += 1
        }
    }
}

/// A binary max-heap with the sift order of Rust's `BinaryHeap` (push: sift up; pop: swap the last
/// element to the root, sift it to the bottom, then up), so that equal elements leave in the same
/// order as in HF's trainer.
struct MaxHeap<Element: Comparable> {
    private(set) var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ x: Element) {
        items.append(x)
        siftUp(from: 0, to: items.count - 1)
    }

    mutating func pop() -> Element? {
        guard var last = items.popLast() else { return nil }
        if !items.isEmpty {
            swap(&last, &items[0])
            siftDownToBottom(0)
        }
        return last
    }

    private mutating func siftUp(from start: Int, to position: Int) {
        var pos = position
        let element = items[pos]
        while pos > start {
            let parent = (pos - 1) / 2
            if element <= items[parent] { break }
            items[pos] = items[parent]
            pos = parent
        }
        items[pos] = element
    }

    private mutating func siftDownToBottom(_ position: Int) {
        let end = items.count
        let start = position
        var pos = position
        let element = items[pos]
        var child = 2 * pos + 1
        while child <= end - 2 {
            if items[child] <= items[child + 1] { child += 1 }
            items[pos] = items[child]
            pos = child
            child = 2 * pos + 1
        }
        if child == end - 1 {
            items[pos] = items[child]
            pos = child
        }
        items[pos] = element
        siftUp(from: start, to: pos)
    }
}
