/// One training sequence of a shard: token ids, the loss mask, and where each packed document starts.
///
/// `mask[i]` is true when token `i` is a training target: the loss includes predicting `ids[i]` from
/// the tokens before it *in the same document*. The first token of every document is never a target
/// (nothing in its document precedes it), so its mask bit is always false, and the number of true
/// bits is exactly the number of predictions the loss sums over.
///
/// Documents never see each other: attention is causal *within* a document (block-diagonal across
/// documents) and position ids restart at 0 at every document start (`positionIDs()`).
public struct PackedSequence: Sendable, Equatable {
    /// (T) token ids.
    public var ids: [Int32]
    /// (T) true = trained target.
    public var mask: [Bool]
    /// (D) the offset of each document's first token: strictly increasing, the first is 0, all < T.
    public var documentStarts: [Int]

    public init(ids: [Int32], mask: [Bool], documentStarts: [Int] = [0]) {
        precondition(ids.count == mask.count, "ids and mask must have the same length")
        self.ids = ids
        self.mask = mask
        self.documentStarts = documentStarts
    }

    public var count: Int { ids.count }

    /// The number of trained targets (true mask bits).
    public var trainedCount: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// (D) the token range of each document.
    public var documentRanges: [Range<Int>] {
        documentStarts.indices.map { d in
            documentStarts[d] ..< (d + 1 < documentStarts.count ? documentStarts[d + 1] : ids.count)
        }
    }

    /// (T) positions that restart at 0 at every document start.
    public func positionIDs() -> [Int32] {
        var positions = [Int32](repeating: 0, count: ids.count)
        for range in documentRanges {
            for (p, i) in range.enumerated() { positions[i] = Int32(p) }
        }
        return positions
    }

    /// Why the sequence breaks the invariants above, or nil if it is well formed.
    public var problem: String? {
        if ids.isEmpty { return "the sequence is empty" }
        if ids.count != mask.count { return "\(ids.count) ids but \(mask.count) mask bits" }
        if documentStarts.first != 0 { return "the first document does not start at 0" }
        for d in documentStarts.indices.dropFirst() where documentStarts[d] <= documentStarts[d - 1] || documentStarts[d] >= ids.count {
            return "document start \(documentStarts[d]) (document \(d)) is out of order or past the end"
        }
        for start in documentStarts where mask[start] {
            return "the first token of the document at \(start) is marked as trained"
        }
        return nil
    }
}
