import Foundation

/// tokenizer.json `model` of type BPE: the vocabulary, the merges by rank, and the options that
/// change how a word is split (byte fallback, unknown token, ignore_merges).
///
/// A word is encoded as HF does: one symbol per byte (byte-level models) or per character, then
/// the lowest-ranked adjacent pair is merged repeatedly — a min-heap over (rank, position), stale
/// entries skipped when popped, ties to the leftmost position (STYLE.md #12).
final class BPEModel: @unchecked Sendable {
    /// Token (the UTF-8 bytes of its string as written in tokenizer.json) → id. Keyed by bytes, not
    /// String: Swift compares strings by canonical equivalence, which would find "K" for the Kelvin sign.
    let vocab: TokenTable
    /// id → token string; "" where the vocabulary has no id.
    let tokens: [String]
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    let merges: PairTable
    let unknownID: Int32?
    let byteFallback: Bool
    let fuseUnknown: Bool
    let ignoreMerges: Bool
    /// For byte-level input: the id of each byte's symbol (-1 if absent).
    let byteSymbols: [Int32]
    /// The ids of `<0x00>`…`<0xFF>` for byte fallback (-1 if absent).
    let fallbackBytes: [Int32]

    /// Words longer than this are not cached (HF's limit too): they are rare and would fill the cache.
    static let cacheableBytes = 256

    init(_ json: TokenizerJSON) throws {
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = try json[key]?.string(), !value.isEmpty {
                throw json.error("BPE \(key) \"\(value)\" is not supported", hint: "lf reads byte-level and SentencePiece-style BPE models")
            }
        }
        if let dropout = try json["dropout"]?.double(), dropout > 0 {
            throw json.error("BPE dropout is a training-time option; lf encodes deterministically", hint: "set \"dropout\": null")
        }
        let vocabNode = try json.required("vocab")
        let entries = try vocabNode.members()
        var vocab = TokenTable(expectedCount: entries.count)
        var maxID: Int32 = -1
        for (token, node) in entries {
            let id = try node.int()
            guard id >= 0, id < Int(Int32.max) else { throw node.error("token ids must be non-negative integers") }
            vocab.set(token, Int32(id))
            maxID = max(maxID, Int32(id))
        }
        var tokens = [String](repeating: "", count: Int(maxID) + 1)
        for (token, node) in entries { tokens[try node.int()] = token }
        self.vocab = vocab
        self.tokens = tokens

        // Merges: ["a b", …] (older files) or [["a", "b"], …].
        let mergeNodes = try json["merges"]?.array() ?? []
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(mergeNodes.count)
        for (rank, node) in mergeNodes.enumerated() {
            let left: String, right: String
            if case .array = node.value {
                let pair = try node.array()
                guard pair.count == 2 else { throw node.error("a merge must be a pair of strings") }
                (left, right) = (try pair[0].string(), try pair[1].string())
            } else {
                let line = try node.string()
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw node.error("a merge must be two tokens separated by one space") }
                (left, right) = (String(parts[0]), String(parts[1]))
            }
            guard let a = vocab.get(left), let b = vocab.get(right) else {
                throw node.error("merge \(rank) uses a token that is not in the vocabulary (\(left.debugDescription) \(right.debugDescription))")
            }
            guard let merged = vocab.get(left + right) else {
                throw node.error("merge \(rank) makes \((left + right).debugDescription), which is not in the vocabulary")
            }
            // A pair listed twice keeps its last rank, as HF's HashMap collection does.
            merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] = UInt64(rank) << 32 | UInt64(UInt32(merged))
        }
        self.merges = PairTable(merges)

        if let unk = try json.optionalString("unk_token") {
            guard let id = vocab.get(unk) else { throw json.error("unk_token \(unk.debugDescription) is not in the vocabulary") }
            unknownID = id
        } else {
            unknownID = nil
        }
        byteFallback = try json.bool("byte_fallback", default: false)
        fuseUnknown = try json.bool("fuse_unk", default: false)
        ignoreMerges = try json.bool("ignore_merges", default: false)
        byteSymbols = (0..<256).map { vocab.get(String(ByteLevelAlphabet.characters[$0])) ?? -1 }
        fallbackBytes = (0..<256).map { vocab.get(String(format: "<0x%02X>", $0)) ?? -1 }
    }

    /// Appends the ids of one pre-tokenized piece to `out`, using and filling `cache`.
    func encode(_ piece: [Unicode.Scalar], byteLevel: Bool, cache: WordCache, into out: inout [Int32]) {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(piece.count * 2)
        for c in piece { UTF8.encode(c) { utf8.append($0) } }
        utf8.withUnsafeBytes { bytes in
            piece.withUnsafeBufferPointer { scalars in
                encode(bytes: bytes, scalars: scalars, byteLevel: byteLevel, cache: cache, into: &out)
            }
        }
    }

    /// The same for a piece given as its UTF-8 bytes and its scalars (views into the caller's buffers).
    func encode(bytes: UnsafeRawBufferPointer, scalars: UnsafeBufferPointer<Unicode.Scalar>, byteLevel: Bool, cache: WordCache,
                into out: inout [Int32]) {
        let cacheable = bytes.count <= Self.cacheableBytes
        let h = cacheable ? WordCache.hash(bytes) : 0
        if cacheable, cache.lookup(bytes, hash: h, into: &out) { return }
        let start = out.count
        if ignoreMerges, let whole = byteLevel ? vocab.get(ByteLevelAlphabet.encode(Array(bytes))) : vocab.get(bytes) {
            out.append(whole)
        } else {
            var symbols = byteLevel ? byteSymbols(bytes) : characterSymbols(scalars)
            merge(&symbols)
            out.append(contentsOf: symbols)
        }
        if cacheable { cache.insert(bytes, hash: h, ids: out[start...]) }
    }

    private func byteSymbols(_ bytes: UnsafeRawBufferPointer) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(bytes.count)
        var previousUnknown = false
        for b in bytes {
            let id = byteSymbols[Int(b)]
            if id >= 0 {
                symbols.append(id)
                previousUnknown = false
            } else if byteFallback, fallbackBytes[Int(b)] >= 0 {
                symbols.append(fallbackBytes[Int(b)])
                previousUnknown = false
            } else if let unk = unknownID {
                if !(fuseUnknown && previousUnknown) { symbols.append(unk) }
                previousUnknown = true
            }
        }
        return symbols
    }

    private func characterSymbols(_ piece: UnsafeBufferPointer<Unicode.Scalar>) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(piece.count)
        var previousUnknown = false
        var bytes: [UInt8] = []
        for c in piece {
            bytes.removeAll(keepingCapacity: true)
            UTF8.encode(c) { bytes.append($0) }
            if let id = vocab.get(bytes) {
                symbols.append(id)
                previousUnknown = false
                continue
            }
            if byteFallback {
                let ids = bytes.map { fallbackBytes[Int($0)] }
                if !ids.contains(-1) {
                    symbols.append(contentsOf: ids)
                    previousUnknown = false
                    continue
                }
            }
            if let unk = unknownID {
                if !(fuseUnknown && previousUnknown) { symbols.append(unk) }
                previousUnknown = true
            }
        }
        return symbols
    }

    /// Merges adjacent symbols by rank, in place.
    private func merge(_ symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        var next = (0..<n).map { Int32($0 + 1) }
        var prev = (0..<n).map { Int32($0 - 1) }
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = MinHeap()
        @inline(__always) func rankAt(_ i: Int) -> UInt64? {
            let j = Int(next[i])
            guard j >= 0 else { return nil }
            return merges.get(UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[j])))
        }
        for i in 0..<(n - 1) {
            if let m = rankAt(i) { heap.push((m & 0xFFFF_FFFF_0000_0000) | UInt64(i)) }
        }
        while let top = heap.pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[pos], let m = rankAt(pos), m >> 32 == rank else { continue }  // stale
            let right = Int(next[pos])
            symbols[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(pos) }
            if prev[pos] >= 0, let p = rankAt(Int(prev[pos])) { heap.push((p & 0xFFFF_FFFF_0000_0000) | UInt64(prev[pos])) }
            if let q = rankAt(pos) { heap.push((q & 0xFFFF_FFFF_0000_0000) | UInt64(pos)) }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 {
            out.append(symbols[i])
            i = Int(next[i])
        }
        symbols = out
    }
}

/// A binary min-heap of packed (rank << 32 | position) keys: ordering the keys orders by rank, then
/// leftmost position.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}
