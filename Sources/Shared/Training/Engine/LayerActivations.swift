/// What one decoder layer's forward pass keeps for its backward pass, for N rows: everything the
/// backward reads, so that it recomputes nothing (recomputing the norms, RoPE and the MLP
/// activation took ~2% of a SmolLM2 pass, for 25% less activation memory).
///
/// With activation checkpointing every layer keeps only `input`, and one shared set of the other
/// buffers is refilled by re-running the layer's forward just before its backward.
final class LayerActivations: @unchecked Sendable {
    /// (N, C) the layer's input (the residual stream before it).
    let input: UnsafeMutablePointer<Float>
    /// (N, Q + 2K) q|k|v as the projection returns them (before q/k norms and RoPE), kept only for
    /// the q/k norms' backward. Without q/k norms this is `roped` itself: the projection writes
    /// there and RoPE turns it in place (its backward needs only the output's gradient), sparing
    /// a copy and a tenth of the activation memory.
    let qkv: UnsafeMutablePointer<Float>
    /// (N, Q) attention output; (N, H) its log-sum-exp per head.
    let attention: UnsafeMutablePointer<Float>
    let logSumExp: UnsafeMutablePointer<Float>
    /// (N, C) the residual stream after attention.
    let middle: UnsafeMutablePointer<Float>
    /// (N, 2I) or (N, I): the up projection before the activation.
    let gateUp: UnsafeMutablePointer<Float>
    /// (N, C) the normed inputs of attention and of the MLP.
    let attentionNormed: UnsafeMutablePointer<Float>
    let mlpNormed: UnsafeMutablePointer<Float>
    /// (N, Q + 2K) q|k|v after q/k norms and RoPE, as attention takes them.
    let roped: UnsafeMutablePointer<Float>
    /// (N, I) the MLP's activation, the down projection's input.
    let activation: UnsafeMutablePointer<Float>
    /// Attention's probabilities (`AttentionProbabilities`), kept when a pass's fit in
    /// `probabilityCapacity` floats: the backward then reads them instead of recomputing them.
    /// Allocated at that capacity, but only the pages a pass writes become resident.
    let probabilities: UnsafeMutablePointer<Float>
    let probabilityCapacity: Int
    /// DoRA's pre-scale outputs, per linear layer.
    let qkvTape = LinearTape(), outputTape = LinearTape(), upTape = LinearTape(), downTape = LinearTape()
    private let owned: [UnsafeMutablePointer<Float>]
    /// Keeps the set whose buffers this one borrows alive.
    private let lender: LayerActivations?

    /// A full set of buffers; or, with `sharing`, an own `input` and the rest of `sharing`'s.
    init(rows N: Int, config c: ModelConfig, sharing shared: LayerActivations? = nil) {
        let input = UnsafeMutablePointer<Float>.allocate(capacity: N * c.hiddenSize)
        self.input = input
        if let shared {
            qkv = shared.qkv; attention = shared.attention; logSumExp = shared.logSumExp
            middle = shared.middle; gateUp = shared.gateUp
            attentionNormed = shared.attentionNormed; mlpNormed = shared.mlpNormed; roped = shared.roped; activation = shared.activation
            probabilities = shared.probabilities; probabilityCapacity = shared.probabilityCapacity
            owned = [input]
            lender = shared
            return
        }
        let Q = c.queryWidth, K = c.kvWidth
        roped = .allocate(capacity: N * (Q + 2 * K))
        qkv = c.qkNorm ? .allocate(capacity: N * (Q + 2 * K)) : roped
        attention = .allocate(capacity: N * Q)
        logSumExp = .allocate(capacity: N * c.headCount)
        middle = .allocate(capacity: N * c.hiddenSize)
        gateUp = .allocate(capacity: N * (c.gatedMLP ? 2 : 1) * c.intermediateSize)
        attentionNormed = .allocate(capacity: N * c.hiddenSize)
        mlpNormed = .allocate(capacity: N * c.hiddenSize)
        activation = .allocate(capacity: N * c.intermediateSize)
        probabilityCapacity = Self.probabilityFloats(rows: N, config: c)
        probabilities = .allocate(capacity: max(1, probabilityCapacity))
        owned = [input, attention, logSumExp, middle, gateUp, attentionNormed, mlpNormed, roped, activation, probabilities]
            + (c.qkNorm ? [qkv] : [])
        lender = nil
    }

    deinit { for p in owned { p.deallocate() } }

    /// At most half as many floats as the other activations, for attention's probabilities: up to
    /// about 1000-token sequences at SmolLM2's shapes (a third more memory at 512 tokens, for
    /// an attention backward 15–18% faster); longer ones recompute them.
    static func probabilityFloats(rows N: Int, config c: ModelConfig) -> Int {
        floats(rows: N, config: c) / 2
    }

    /// Floats held by one full set, for N rows (besides the probabilities).
    static func floats(rows N: Int, config c: ModelConfig) -> Int {
        let qkv = c.queryWidth + 2 * c.kvWidth
        return N * (4 * c.hiddenSize + (c.qkNorm ? 2 : 1) * qkv + c.queryWidth + c.headCount + ((c.gatedMLP ? 2 : 1) + 1) * c.intermediateSize)
    }
}

/// The per-row inputs every layer shares in one pass: the batch's segments and RoPE tables.
struct PassContext {
    let rows: Int
    let segments: [AttentionSegment]
    /// (N, rotaryDim/2) each, at every row's position.
    let cos: UnsafePointer<Float>
    let sin: UnsafePointer<Float>
    /// Dropout masks derive from it.
    let seed: UInt64
    /// Whether attention keeps its probabilities for the backward pass (`LayerActivations.probabilities`).
    let keepsProbabilities: Bool
}

/// Buffers one training pass reuses across layers, sized for N rows.
final class PassBuffers: @unchecked Sendable {
    let rows: Int
    /// (N, C): the residual stream, then its gradient.
    let x: UnsafeMutablePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    /// (N, C): a copy of dx for a DoRA projection's backward, which scales its output gradient in
    /// place (untouched, so never resident, without DoRA).
    let dTemp: UnsafeMutablePointer<Float>
    let dNormed: UnsafeMutablePointer<Float>
    /// (N, Q + 2K): the gradient of q|k|v.
    let dqkv: UnsafeMutablePointer<Float>
    /// (N, Q) attention output gradient; (N, C) a projection's output; (N, I) the MLP
    /// activation's gradient; (N, 2I).
    let dAttention: UnsafeMutablePointer<Float>
    let projected: UnsafeMutablePointer<Float>
    let dActivation: UnsafeMutablePointer<Float>
    let dGateUp: UnsafeMutablePointer<Float>
    let linear = LinearScratch()
    private let owned: [UnsafeMutablePointer<Float>]

    init(rows N: Int, config c: ModelConfig) {
        rows = N
        let C = c.hiddenSize, Q = c.queryWidth, QKV = Q + 2 * c.kvWidth, I = c.intermediateSize
        func make(_ n: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(n, 1)) }
        x = make(N * C); dx = make(N * C); dTemp = make(N * C); dNormed = make(N * C)
        dqkv = make(N * QKV)
        dAttention = make(N * Q); projected = make(N * C)
        dActivation = make(N * I); dGateUp = make(N * (c.gatedMLP ? 2 : 1) * I)
        owned = [x, dx, dTemp, dNormed, dqkv, dAttention, projected, dActivation, dGateUp]
    }

    deinit { for p in owned { p.deallocate() } }
}
