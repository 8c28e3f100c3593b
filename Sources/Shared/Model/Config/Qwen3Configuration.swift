import Foundation

/// `Qwen3Config` (model_type "qwen3"): the Llama computation plus a per-head RMSNorm of q and k
/// (q_norm, k_norm) after the projections and before RoPE.
struct Qwen3Configuration: HFModelConfiguration {
    var vocabSize: Int
    var hiddenSize: Int
    var intermediateSize: Int
    var layerCount: Int
    var headCount: Int
    var kvHeadCount: Int?
    var headDim: Int
    var hiddenAct: String
    var maxPositions: Int
    var rmsNormEps: Double
    var attentionBias: Bool
    var useSlidingWindow: Bool
    var tieWordEmbeddings: Bool
    var tokens: SpecialTokenIDs
    var rope: RoPESpelling
    var dtype: DTypeSpelling

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case kvHeadCount = "num_key_value_heads"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case maxPositions = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case attentionBias = "attention_bias"
        case useSlidingWindow = "use_sliding_window"
        case tieWordEmbeddings = "tie_word_embeddings"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        // default 32; an explicit null means num_attention_heads
        kvHeadCount = try c.decodeNullable(Int.self, forKey: .kvHeadCount, absent: 32)
        // default 128 — Qwen3Config always has head_dim, so transformers never falls back to hidden / heads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? 128
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"  // default "silu"
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 32768  // default 32768
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6  // default 1e-6
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false  // default false (q, k, v and o)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false  // default false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false  // default false
        tokens = try SpecialTokenIDs(from: decoder, bos: nil, eos: [], pad: nil)  // no defaults (None)
        rope = try RoPESpelling(from: decoder)  // rope_theta default 10000.0
        dtype = try DTypeSpelling(from: decoder)
    }

    func normalized(path: String) throws -> ModelConfig {
        let check = ConfigChecker(path: path)
        if useSlidingWindow {
            throw check.fail("use_sliding_window is true; lf implements only full attention for qwen3",
                             CodingKeys.useSlidingWindow.rawValue, hint: "released Qwen3 checkpoints set it to false")
        }
        let headDim = try check.headDim(given: headDim, hidden: hiddenSize, heads: headCount,
                                        hiddenKey: CodingKeys.hiddenSize.rawValue, headsKey: CodingKeys.headCount.rawValue,
                                        headDimKey: CodingKeys.headDim.rawValue)
        guard let activation = Activation.fromTransformers(hiddenAct) else {
            throw check.fail("unsupported hidden_act \"\(hiddenAct)\"", CodingKeys.hiddenAct.rawValue,
                             hint: "lf supports \(Activation.supportedNames)")
        }
        let config = ModelConfig(
            architecture: .qwen3, vocabSize: vocabSize, hiddenSize: hiddenSize, layerCount: layerCount,
            headCount: headCount, kvHeadCount: kvHeadCount ?? headCount, headDim: headDim,
            intermediateSize: intermediateSize, maxPositions: maxPositions, normEps: rmsNormEps, normKind: .rms,
            activation: activation, gatedMLP: true,
            rope: try rope.resolve(defaultTheta: 10000, headDim: headDim, maxPositions: maxPositions, path: path),
            qkvBias: attentionBias, outputBias: attentionBias, mlpBias: false, qkNorm: true,
            tiedEmbeddings: tieWordEmbeddings, learnedPositions: false, embeddingScale: 1, slidingWindow: nil,
            bosTokenID: tokens.bos, eosTokenIDs: tokens.eos, padTokenID: tokens.pad, dtype: try dtype.resolve(path: path))
        try config.validate(path: path)
        return config
    }
}
