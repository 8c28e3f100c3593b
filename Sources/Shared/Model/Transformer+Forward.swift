import Dispatch
import Foundation

/// The keys and values of the positions seen so far, per layer: (capacity, KV, hd) each.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public private(set) var count = 0
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    private let arena: Arena

    public init(config: ModelConfig, capacity: Int) {
        self.capacity = capacity
        let size = capacity * config.kvWidth
        let arena = Arena()
        keys = (0..<config.layerCount).map { _ in arena.floats(size) }
        values = (0..<config.layerCount).map { _ in arena.floats(size) }
        self.arena = arena
    }

    /// Forgets every position (the buffers are kept).
    public func reset() { count = 0 }

    func advance(by n: Int) { count += n }
}

/// Which positions' logits a forward pass computes: none (filling the cache), the last (generation),
/// or all (scoring a sequence).
public enum LogitsRequest: Sendable {
    case none, last, all
}

extension TransformerModel {
    /// Runs `tokens` (at the positions after those already in `cache`) through the model, appends
    /// their keys and values to the cache, and writes the requested logits into `logits`
    /// ((1, V) for `.last`, (T, V) for `.all`).
    public func forward(_ tokens: [Int32], cache: KVCache, logits request: LogitsRequest, into logits: UnsafeMutablePointer<Float>?) throws {
        let c = config
        let T = tokens.count
        guard T > 0 else { return }
        let start = cache.count
        guard start + T <= cache.capacity else {
            throw LFError("the sequence needs \(start + T) positions but the cache holds \(cache.capacity)",
                          hint: "shorten the prompt or lower --max-new-tokens")
        }
        if positionEmbedding != nil, start + T > c.maxPositions {
            throw LFError("the sequence is \(start + T) tokens long; this model has learned positions for \(c.maxPositions)",
                          hint: "shorten the prompt or lower --max-new-tokens")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw LFError("token id \(bad) is outside the model's vocabulary of \(c.vocabSize)")
        }
        workspace.lock.lock()
        defer { workspace.lock.unlock() }
        let w = workspace
        let (C, H, KV, hd, I) = (c.hiddenSize, c.headCount, c.kvHeadCount, c.headDim, c.intermediateSize)
        let Q = H * hd, K = KV * hd, QKV = Q + 2 * K

        /// (T, C)
        let x = w.hidden.reserve(T * C)
        embed(tokens, start: start, into: x)

        // RoPE tables for these positions (rotaryDim/2 each), chosen for the whole current length.
        let half = (rotary?.rotaryDim ?? 0) / 2
        var cosTable = [Float](repeating: 0, count: T * half), sinTable = cosTable
        if let rotary {
            let invFreq = rotary.inverseFrequencies(sequenceLength: start + T)
            cosTable.withUnsafeMutableBufferPointer { cosBuffer in
                sinTable.withUnsafeMutableBufferPointer { sinBuffer in
                    for t in 0..<T {
                        rotary.cosSin(position: start + t, inverseFrequencies: invFreq,
                                      cos: cosBuffer.baseAddress! + t * half, sin: sinBuffer.baseAddress! + t * half)
                    }
                }
            }
        }

        let normed = w.normed.reserve(T * C)
        let qkv = w.qkv.reserve(T * QKV)
        let q = w.q.reserve(T * Q)
        let attention = w.attention.reserve(T * Q)
        let projected = w.projected.reserve(T * C)
        let mlpWidth = c.gatedMLP ? 2 * I : I
        let mlp = w.mlp.reserve(T * mlpWidth)
        let gated = w.gated.reserve(T * I)
        let scale = 1 / Float(hd).squareRoot()

        for (layer, block) in blocks.enumerated() {
            // Attention.
            block.attentionNorm.forward(normed, x, rows: T, C: C)
            block.qkv.forward(normed, rows: T, into: qkv, scratch: w.weights)
            let keys = cache.keys[layer] + start * K, values = cache.values[layer] + start * K
            for t in 0..<T {
                let row = qkv + t * QKV
                let qt = q + t * Q, kt = keys + t * K
                qt.update(from: row, count: Q)
                kt.update(from: row + Q, count: K)
                (values + t * K).update(from: row + Q + K, count: K)
                if let qNorm = block.qNorm, let kNorm = block.kNorm {
                    rmsNormForward(qt, qt, qNorm, rows: H, C: hd, eps: Float(c.normEps))
                    rmsNormForward(kt, kt, kNorm, rows: KV, C: hd, eps: Float(c.normEps))
                }
                if let rotary {
                    cosTable.withUnsafeBufferPointer { cs in
                        sinTable.withUnsafeBufferPointer { sn in
                            ropeForward(qt, heads: H, headDim: hd, rotaryDim: rotary.rotaryDim, cos: cs.baseAddress! + t * half, sin: sn.baseAddress! + t * half)
                            ropeForward(kt, heads: KV, headDim: hd, rotaryDim: rotary.rotaryDim, cos: cs.baseAddress! + t * half, sin: sn.baseAddress! + t * half)
                        }
                    }
                }
            }
            attentionForward(attention, q: q, keys: cache.keys[layer], values: cache.values[layer], T: T, start: start,
                             H: H, KV: KV, hd: hd, scale: scale, window: c.slidingWindow)
            block.output.forward(attention, rows: T, into: projected, scratch: w.weights)
            add(x, projected, count: T * C)

            // MLP.
            block.mlpNorm.forward(normed, x, rows: T, C: C)
            block.up.forward(normed, rows: T, into: mlp, scratch: w.weights)
            if c.gatedMLP {
                Activations.gatedForward(c.activation, gated, mlp, rows: T, intermediate: I)
                block.down.forward(gated, rows: T, into: projected, scratch: w.weights)
            } else {
                Activations.forward(c.activation, mlp, count: T * I)
                block.down.forward(mlp, rows: T, into: projected, scratch: w.weights)
            }
            add(x, projected, count: T * C)
        }
        cache.advance(by: T)

        switch request {
        case .none:
            return
        case .last:
            guard let logits else { return }
            finalNorm.forward(normed, x + (T - 1) * C, rows: 1, C: C)
            lmHead.forward(normed, rows: 1, into: logits, scratch: w.weights)
        case .all:
            guard let logits else { return }
            finalNorm.forward(normed, x, rows: T, C: C)
            lmHead.forward(normed, rows: T, into: logits, scratch: w.weights)
        }
    }

    /// Token embeddings (scaled for Gemma), plus learned positions (GPT-2).
    func embed(_ tokens: [Int32], start: Int, into x: UnsafeMutablePointer<Float>) {
        let C = config.hiddenSize
        for (t, token) in tokens.enumerated() {
            let row = x + t * C
            tokenEmbedding.widenRows(Int(token), 1, cols: C, into: row)
            if config.embeddingScale != 1 {
                let s = Float(config.embeddingScale)
                for i in 0..<C { row[i] *= s }
            }
            if let p = positionEmbedding {
                let pos = p + (start + t) * C
                for i in 0..<C { row[i] += pos[i] }
            }
        }
    }

    /// A fresh cache for sequences of up to `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(config: config, capacity: capacity)
    }
}

/// x += y over n values.
@inline(__always)
func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n { x[i] += y[i] }
}
