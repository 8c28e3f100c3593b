/// One micro-batch, flattened: the tokens of its sequences one after another, each document a
/// segment that attends only to itself, positions restarting at every document, and per row the
/// token the model should predict there (−1 where nothing is trained).
public struct TrainingBatch: Sendable, Equatable {
    /// (N) token ids.
    public var tokens: [Int32]
    /// (N) position ids, 0 at the start of every document.
    public var positions: [Int32]
    /// (N) the id row t is trained to predict (the next token of its document), or −1.
    public var targets: [Int32]
    /// The documents, tiling 0..<N in order.
    public var segments: [AttentionSegment]
    /// The number of sequences it was made of.
    public var sequenceCount: Int

    public var rowCount: Int { tokens.count }
    /// The number of predictions the loss sums over.
    public var targetCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
    /// The longest document (RoPE tables and attention scratch are sized by it).
    public var longestSegment: Int { segments.map(\.count).max() ?? 0 }

    /// Sequences from a shard directory: `mask[i]` marks ids[i] as a target, predicted at row i − 1
    /// of the same document.
    public init(sequences: [PackedSequence]) {
        tokens = []; positions = []; targets = []; segments = []
        sequenceCount = sequences.count
        for sequence in sequences {
            let offset = tokens.count
            tokens += sequence.ids
            positions += sequence.positionIDs()
            var rowTargets = [Int32](repeating: -1, count: sequence.count)
            for range in sequence.documentRanges {
                segments.append(AttentionSegment(start: offset + range.lowerBound, count: range.count))
                for i in range.dropFirst() where sequence.mask[i] { rowTargets[i - 1] = sequence.ids[i] }
            }
            targets += rowTargets
        }
    }

    /// Rows in transformers' convention: `labels` is the row's ids with −100 where nothing is
    /// trained, and the loss at position t scores labels[t + 1] (one document per row).
    public init(rows: [[Int32]], labels: [[Int64]]) {
        tokens = []; positions = []; targets = []; segments = []
        sequenceCount = rows.count
        for (row, label) in zip(rows, labels) {
            precondition(row.count == label.count, "a row and its labels must have the same length")
            segments.append(AttentionSegment(start: tokens.count, count: row.count))
            tokens += row
            positions += (0..<row.count).map { Int32($0) }
            targets += (0..<row.count).map { t in t + 1 < row.count && label[t + 1] != -100 ? Int32(label[t + 1]) : -1 }
        }
    }
}
