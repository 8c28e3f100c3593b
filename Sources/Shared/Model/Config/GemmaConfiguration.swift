import Foundation

/// `GemmaConfig` (model_type "gemma"): Gemma 1. RMSNorm with `(1 + w)`, embeddings scaled by
/// sqrt(hidden_size), GeGLU MLP with the tanh-approximated GELU, tied embeddings.
struct GemmaConfiguration: HFModelConfiguration {
    var vocabSize: Int
    var hiddenSize: Int
    var intermediateSize: Int
    var layerCount: Int
    var headCount: Int
    var kvHeadCount: Int
    var headDim: Int
    var hiddenAct: String?
    var hiddenActivation: String?
    var maxPositions: Int
    var rmsNormEps: Double
    var attentionBias: Bool
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
        case hiddenActivation = "hidden_activation"
        case maxPositions = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case attentionBias = "attention_bias"
        case tieWordEmbeddings = "tie_word_embeddings"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        kvHeadCount = try c.decodeIfPresent(Int.self, forKey: .kvHeadCount) ?? 16  // default 16
        // default 256 — GemmaConfig always has head_dim (gemma-7b: 3072 / 16 = 192, but head_dim 256)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? 256
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)  // default "gelu_pytorch_tanh"
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation)  // default None
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 8192  // default 8192
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6  // default 1e-6
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false  // default false (q, k, v and o)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true  // default true
        tokens = try SpecialTokenIDs(from: decoder, bos: 2, eos: [1], pad: 0)  // defaults 2, 1, 0
        rope = try RoPESpelling(from: decoder)  // rope_theta default 10000.0
        dtype = try DTypeSpelling(from: decoder)
    }

    /// Gemma is trained with the tanh-approximated GELU. `hidden_activation` wins when given; the
    /// first Gemma configs say `hidden_act: "gelu"`, which transformers reads as gelu_pytorch_tanh
    /// (it warns and switches), so lf does the same.
    private func activation(_ check: ConfigChecker) throws -> Activation {
        if let hiddenActivation {
            guard let a = Activation.fromTransformers(hiddenActivation) else {
                throw check.fail("unsupported hidden_activation \"\(hiddenActivation)\"", CodingKeys.hiddenActivation.rawValue,
                                 hint: "lf supports \(Activation.supportedNames)")
            }
            return a
        }
        guard let hiddenAct, hiddenAct != "gelu" else { return .geluTanh }
        guard let a = Activation.fromTransformers(hiddenAct) else {
            throw check.fail("unsupported hidden_act \"\(hiddenAct)\"", CodingKeys.hiddenAct.rawValue,
                             hint: "lf supports \(Activation.supportedNames)")
        }
        return a
    }

    func normalized(path: String) throws -> ModelConfig {
        let check = ConfigChecker(path: path)
        try check.positive(hiddenSize, CodingKeys.hiddenSize.rawValue)
        let config = ModelConfig(
            architecture: .gemma, vocabSize: vocabSize, hiddenSize: hiddenSize, layerCount: layerCount,
            headCount: headCount, kvHeadCount: kvHeadCount, headDim: headDim,
            intermediateSize: intermediateSize, maxPositions: maxPositions, normEps: rmsNormEps, normKind: .rmsOnePlusWeight,
            activation: try activation(check), gatedMLP: true,
            rope: try rope.resolve(defaultTheta: 10000, headDim: headDim, maxPositions: maxPositions, path: path),
            qkvBias: attentionBias, outputBias: attentionBias, mlpBias: false, qkNorm: false,
            tiedEmbeddings: tieWordEmbeddings, learnedPositions: false,
            embeddingScale: Double(hiddenSize).squareRoot(), slidingWindow: nil,
            bosTokenID: tokens.bos, eosTokenIDs: tokens.eos, padTokenID: tokens.pad, dtype: try dtype.resolve(path: path))
        try config.validate(path: path)
        return config
    }
}
