import Foundation

/// `Phi3Config` (model_type "phi3"): Phi-3, Phi-3.5-mini, Phi-4-mini. Fused projections (qkv_proj,
/// gate_up_proj), optional partial rotary (`partial_rotary_factor`) and LongRoPE, whose scale comes
/// from the top-level `original_max_position_embeddings`.
struct Phi3Configuration: HFModelConfiguration {
    var vocabSize: Int
    var hiddenSize: Int
    var intermediateSize: Int
    var layerCount: Int
    var headCount: Int
    var kvHeadCount: Int?
    var headDim: Int?
    var hiddenAct: String
    var maxPositions: Int
    var rmsNormEps: Double
    var slidingWindow: Int?
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
        case slidingWindow = "sliding_window"
        case tieWordEmbeddings = "tie_word_embeddings"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        kvHeadCount = try c.decodeIfPresent(Int.self, forKey: .kvHeadCount)  // default None: num_attention_heads
        // Phi3Config has no head_dim; the attention uses getattr(config, "head_dim", hidden / heads).
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"  // default "silu"
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 4096  // default 4096
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-5  // default 1e-5
        slidingWindow = try c.decodeNullable(Int.self, forKey: .slidingWindow, absent: nil)  // default None
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false  // default false
        tokens = try SpecialTokenIDs(from: decoder, bos: 1, eos: [32000], pad: 32000)  // defaults 1, 32000, 32000
        // rope_theta default 10000.0, partial_rotary_factor 1.0, original_max_position_embeddings 4096
        rope = try RoPESpelling(from: decoder)
        dtype = try DTypeSpelling(from: decoder)
    }

    func normalized(path: String) throws -> ModelConfig {
        let check = ConfigChecker(path: path)
        let headDim = try check.headDim(given: headDim, hidden: hiddenSize, heads: headCount,
                                        hiddenKey: CodingKeys.hiddenSize.rawValue, headsKey: CodingKeys.headCount.rawValue,
                                        headDimKey: nil)
        guard let activation = Activation.fromTransformers(hiddenAct) else {
            throw check.fail("unsupported hidden_act \"\(hiddenAct)\"", CodingKeys.hiddenAct.rawValue,
                             hint: "lf supports \(Activation.supportedNames)")
        }
        let config = ModelConfig(
            architecture: .phi3, vocabSize: vocabSize, hiddenSize: hiddenSize, layerCount: layerCount,
            headCount: headCount, kvHeadCount: kvHeadCount ?? headCount, headDim: headDim,
            intermediateSize: intermediateSize, maxPositions: maxPositions, normEps: rmsNormEps, normKind: .rms,
            activation: activation, gatedMLP: true,
            rope: try rope.resolve(defaultTheta: 10000, headDim: headDim, maxPositions: maxPositions,
                                   defaultOriginalMaxPositions: 4096, path: path),
            qkvBias: false, outputBias: false, mlpBias: false, qkNorm: false,
            tiedEmbeddings: tieWordEmbeddings, learnedPositions: false, embeddingScale: 1, slidingWindow: slidingWindow,
            bosTokenID: tokens.bos, eosTokenIDs: tokens.eos, padTokenID: tokens.pad, dtype: try dtype.resolve(path: path))
        try config.validate(path: path)
        return config
    }
}
