import Foundation

/// `GPT2Config` (model_type "gpt2"): GPT-2, DialoGPT, distilgpt2. Learned absolute positions,
/// pre-LayerNorm with biases, Conv1D projections (weights stored [in, out]), a plain MLP.
struct GPT2Configuration: HFModelConfiguration {
    var vocabSize: Int
    var hiddenSize: Int
    var layerCount: Int
    var headCount: Int
    var innerSize: Int?
    var positions: Int
    var layerNormEpsilon: Double
    var activationFunction: String
    var scaleAttnWeights: Bool
    var scaleAttnByInverseLayerIdx: Bool
    var addCrossAttention: Bool
    var tieWordEmbeddings: Bool
    var tokens: SpecialTokenIDs
    var dtype: DTypeSpelling

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "n_embd"
        case layerCount = "n_layer"
        case headCount = "n_head"
        case innerSize = "n_inner"
        case positions = "n_positions"
        case layerNormEpsilon = "layer_norm_epsilon"
        case activationFunction = "activation_function"
        case scaleAttnWeights = "scale_attn_weights"
        case scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
        case addCrossAttention = "add_cross_attention"
        case tieWordEmbeddings = "tie_word_embeddings"
    }

    static let keyNames = ConfigKeyNames(
        vocab: "vocab_size", hidden: "n_embd", layers: "n_layer", heads: "n_head", kvHeads: "n_head", headDim: "n_embd",
        intermediate: "n_inner", maxPositions: "n_positions", eps: "layer_norm_epsilon")

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        innerSize = try c.decodeIfPresent(Int.self, forKey: .innerSize)  // default None: 4 * n_embd
        positions = try c.decodeIfPresent(Int.self, forKey: .positions) ?? 1024  // default 1024
        layerNormEpsilon = try c.decodeIfPresent(Double.self, forKey: .layerNormEpsilon) ?? 1e-5  // default 1e-5
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? "gelu_new"  // default "gelu_new"
        scaleAttnWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) ?? true  // default true
        scaleAttnByInverseLayerIdx = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnByInverseLayerIdx) ?? false  // default false
        addCrossAttention = try c.decodeIfPresent(Bool.self, forKey: .addCrossAttention) ?? false  // default false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true  // default true
        tokens = try SpecialTokenIDs(from: decoder, bos: 50256, eos: [50256], pad: nil)  // defaults 50256, 50256, None
        dtype = try DTypeSpelling(from: decoder)
    }

    func normalized(path: String) throws -> ModelConfig {
        let check = ConfigChecker(path: path)
        // Variants of the attention lf does not implement: refuse them rather than compute something else.
        if !scaleAttnWeights {
            throw check.fail("scale_attn_weights is false; lf implements GPT-2 attention scaled by 1/sqrt(head_dim)",
                             CodingKeys.scaleAttnWeights.rawValue)
        }
        if scaleAttnByInverseLayerIdx {
            throw check.fail("scale_attn_by_inverse_layer_idx is true; lf does not implement it",
                             CodingKeys.scaleAttnByInverseLayerIdx.rawValue)
        }
        if addCrossAttention {
            throw check.fail("add_cross_attention is true (an encoder-decoder GPT-2); lf runs decoder-only models",
                             CodingKeys.addCrossAttention.rawValue)
        }
        let headDim = try check.headDim(given: nil, hidden: hiddenSize, heads: headCount,
                                        hiddenKey: CodingKeys.hiddenSize.rawValue, headsKey: CodingKeys.headCount.rawValue,
                                        headDimKey: nil)
        guard let activation = Activation.fromTransformers(activationFunction) else {
            throw check.fail("unsupported activation_function \"\(activationFunction)\"", CodingKeys.activationFunction.rawValue,
                             hint: "lf supports \(Activation.supportedNames)")
        }
        let config = ModelConfig(
            architecture: .gpt2, vocabSize: vocabSize, hiddenSize: hiddenSize, layerCount: layerCount,
            headCount: headCount, kvHeadCount: headCount, headDim: headDim,
            intermediateSize: innerSize ?? 4 * hiddenSize, maxPositions: positions, normEps: layerNormEpsilon,
            normKind: .layerNorm, activation: activation, gatedMLP: false, rope: nil,
            qkvBias: true, outputBias: true, mlpBias: true, qkNorm: false,
            tiedEmbeddings: tieWordEmbeddings, learnedPositions: true, embeddingScale: 1, slidingWindow: nil,
            bosTokenID: tokens.bos, eosTokenIDs: tokens.eos, padTokenID: tokens.pad, dtype: try dtype.resolve(path: path))
        try config.validate(path: path, keys: Self.keyNames)
        return config
    }
}
