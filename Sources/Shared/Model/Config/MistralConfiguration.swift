import Foundation

/// `MistralConfig` (model_type "mistral"): the Llama computation without biases, with an optional
/// sliding window.
struct MistralConfiguration: HFModelConfiguration {
    var vocabSize: Int
    var hiddenSize: Int
    var intermediateSize: Int
    var layerCount: Int
    var headCount: Int
    var kvHeadCount: Int
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
        kvHeadCount = try c.decodeIfPresent(Int.self, forKey: .kvHeadCount) ?? 8  // default 8
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)  // default None: hidden_size / num_attention_heads
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"  // default "silu"
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 4096 * 32  // default 4096 * 32
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6  // default 1e-6
        slidingWindow = try c.decodeNullable(Int.self, forKey: .slidingWindow, absent: 4096)  // default 4096; null = full attention
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false  // default false
        tokens = try SpecialTokenIDs(from: decoder, bos: 1, eos: [2], pad: nil)  // defaults 1, 2, None
        rope = try RoPESpelling(from: decoder)  // rope_theta default 10000.0
        dtype = try DTypeSpelling(from: decoder)
    }

    func normalized(path: String) throws -> ModelConfig {
        let check = ConfigChecker(path: path)
        let headDim = try check.headDim(given: headDim, hidden: hiddenSize, heads: headCount,
                                        hiddenKey: CodingKeys.hiddenSize.rawValue, headsKey: CodingKeys.headCount.rawValue,
                                        headDimKey: CodingKeys.headDim.rawValue)
        guard let activation = Activation.fromTransformers(hiddenAct) else {
            throw check.fail("unsupported hidden_act \"\(hiddenAct)\"", CodingKeys.hiddenAct.rawValue,
                             hint: "lf supports \(Activation.supportedNames)")
        }
        let config = ModelConfig(
            architecture: .mistral, vocabSize: vocabSize, hiddenSize: hiddenSize, layerCount: layerCount,
            headCount: headCount, kvHeadCount: kvHeadCount, headDim: headDim,
            intermediateSize: intermediateSize, maxPositions: maxPositions, normEps: rmsNormEps, normKind: .rms,
            activation: activation, gatedMLP: true,
            rope: try rope.resolve(defaultTheta: 10000, headDim: headDim, maxPositions: maxPositions, path: path),
            qkvBias: false, outputBias: false, mlpBias: false, qkNorm: false,
            tiedEmbeddings: tieWordEmbeddings, learnedPositions: false, embeddingScale: 1, slidingWindow: slidingWindow,
            bosTokenID: tokens.bos, eosTokenIDs: tokens.eos, padTokenID: tokens.pad, dtype: try dtype.resolve(path: path))
        try config.validate(path: path)
        return config
    }
}
