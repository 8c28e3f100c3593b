import Shared

extension TransformerModel {
    /// Logits (rows × T, V) of each row, one full forward pass per row: the reference the
    /// parity tests compare with.
    public func fullLogits(_ rows: [[Int32]]) throws -> [Float] {
        var out: [Float] = []
        for row in rows {
            var logits = [Float](repeating: 0, count: row.count * config.vocabSize)
            let cache = makeCache(capacity: row.count)
            try logits.withUnsafeMutableBufferPointer { try forward(row, cache: cache, logits: .all, into: $0.baseAddress) }
            out += logits
        }
        return out
    }
}
