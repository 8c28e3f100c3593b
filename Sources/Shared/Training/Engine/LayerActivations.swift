/// What one decoder layer's forward pass keeps for its backward pass, for N rows. The rest
/// (normed inputs, the roped q|k|v, the MLP activation) is cheap to recompute and is not kept.
///
/// With activation checkpointing every layer keeps only `input`, and one shared set of the other
/// buffers is refilled by re-running the layer's forward just before its backward.
final class LayerActivations: @unchecked Sendable {
    /// (N, C) the layer's input (the residual stream before it).
    let input: UnsafeMutablePointer<Float>
    /// (N, Q + 2K) q|k|v as the projection returns them (before q/k norms and RoPE).
    let qkv: UnsafeMutablePointer<Float>
    /// (N, Q) attention output; (N, H) its log-sum-exp per head.
    let attention: UnsafeMutablePointer<Float>
    let logSumExp: UnsafeMutablePointer<Float>
    /// (N, C) the residual stream after attention.
    let middle: UnsafeMutablePointer<Float>
    /// (N, 2I) or (N, I): the up projection before the activation.
    let gateUp: UnsafeMutablePointer<Float>
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
            owned = [input]
            lender = shared
            return
        }
        let Q = c.queryWidth, K = c.kvWidth
        qkv = .allocate(capacity: N * (Q + 2 * K))
        attention = .allocate(capacity: N * Q)
        logSumExp = .allocate(capacity: N * c.headCount)
        middle = .allocate(capacity: N * c.hiddenSize)
        gateUp = .allocate(capacity: N * (c.gatedMLP ? 2 : 1) * c.intermediateSize)
        owned = [input, qkv, attention, logSumExp, middle, gateUp]
        lender = nil
    }

    deinit { for p in owned { p.deallocate() } }

    /// Floats held by one full set, for N rows.
    static func floats(rows N: Int, config c: ModelConfig) -> Int {
        N * (2 * c.hiddenSize + c.queryWidth * 2 + 2 * c.kvWidth + c.headCount + (c.gatedMLP ? 2 : 1) * c.intermediateSize)
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
}

/// Buffers one training pass reuses across layers, sized for N rows.
final class PassBuffers: @unchecked Sendable {
    let rows: Int
    /// (N, C): the residual stream, then its gradient.
    let x: UnsafeMutablePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    /// (N, C) normed input of a block, and a (N, C) gradient scratch.
    let normed: UnsafeMutablePointer<Float>
    let dTemp: UnsafeMutablePointer<Float>
    let dNormed: UnsafeMutablePointer<Float>
    /// (N, Q + 2K): q|k|v after norms and RoPE, and its gradient.
    let qkvRoped: UnsafeMutablePointer<Float>
    let dqkv: UnsafeMutablePointer<Float>
    /// (N, Q) attention output gradient; (N, I) MLP activation and its gradient; (N, 2I).
    let dAttention: UnsafeMutablePointer<Float>
    let projected: UnsafeMutablePointer<Float>
    let activation: UnsafeMutablePointer<Float>
    let dActivation: UnsafeMutablePointer<Float>
    let dGateUp: UnsafeMutablePointer<Float>
    let linear = LinearScratch()
    private let owned: [UnsafeMutablePointer<Float>]

    init(rows N: Int, config c: ModelConfig) {
        rows = N
        let C = c.hiddenSize, Q = c.queryWidth, QKV = Q + 2 * c.kvWidth, I = c.intermediateSize
        func make(_ n: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(n, 1)) }
        x = make(N * C); dx = make(N * C); normed = make(N * C); dTemp = make(N * C); dNormed = make(N * C)
        qkvRoped = make(N * QKV); dqkv = make(N * QKV)
        dAttention = make(N * Q); projected = make(N * C)
        activation = make(N * I); dActivation = make(N * I); dGateUp = make(N * (c.gatedMLP ? 2 : 1) * I)
        owned = [x, dx, normed, dTemp, dNormed, qkvRoped, dqkv, dAttention, projected, activation, dActivation, dGateUp]
    }

    deinit { for p in owned { p.deallocate() } }
}
