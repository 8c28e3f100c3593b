import Foundation

/// The model families lf runs. The raw value is the config's `model_type`.
public enum Architecture: String, CaseIterable, Sendable {
    case llama, mistral, qwen2, qwen3, phi3, gemma, gpt2
}

/// How hidden states are normalised.
public enum NormKind: String, Sendable {
    /// RMSNorm: `x / rms(x) · w`.
    case rms
    /// Gemma's RMSNorm: `x / rms(x) · (1 + w)` (weights stored as offsets from 1), in float32.
    case rmsOnePlusWeight = "rms(1+w)"
    /// LayerNorm with weight and bias (GPT-2).
    case layerNorm = "layernorm"
}

/// The MLP non-linearity.
public enum Activation: String, Sendable {
    /// `x · sigmoid(x)` (transformers "silu"/"swish").
    case silu
    /// Exact GELU with erf (transformers "gelu").
    case gelu
    /// GELU with the tanh approximation (transformers "gelu_new", "gelu_pytorch_tanh", "gelu_fast").
    case geluTanh = "gelu_tanh"
    case relu

    /// Maps a transformers activation name; nil for one lf does not implement.
    static func fromTransformers(_ name: String) -> Activation? {
        switch name {
        case "silu", "swish": .silu
        case "gelu": .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": .geluTanh
        case "relu": .relu
        default: nil
        }
    }

    static let supportedNames = "silu, swish, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu"
}

/// One normalised view of a Hugging Face `config.json`, whatever its architecture and spelling: what
/// the forward pass, the tensor layout and the GGUF export need.
public struct ModelConfig: Equatable, Sendable {
    public var architecture: Architecture
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    /// Query heads (H).
    public var headCount: Int
    /// Key/value heads (KV); H is a multiple of KV.
    public var kvHeadCount: Int
    /// Per-head size (hd), from `head_dim` or hidden / heads.
    public var headDim: Int
    public var intermediateSize: Int
    /// `max_position_embeddings` (`n_positions` for GPT-2).
    public var maxPositions: Int
    public var normEps: Double
    public var normKind: NormKind
    public var activation: Activation
    /// true: `down(act(gate(x)) · up(x))` (SwiGLU / GeGLU); false: `proj(act(fc(x)))` (GPT-2).
    public var gatedMLP: Bool
    /// nil when positions are learned (GPT-2).
    public var rope: RoPEConfig?
    /// Biases on the q, k and v projections.
    public var qkvBias: Bool
    /// Bias on the attention output projection.
    public var outputBias: Bool
    public var mlpBias: Bool
    /// Per-head RMSNorm of q and k before RoPE (Qwen3).
    public var qkNorm: Bool
    /// lm_head shares the token embedding matrix.
    public var tiedEmbeddings: Bool
    /// Absolute position embeddings added to the token embeddings (GPT-2's wpe).
    public var learnedPositions: Bool
    /// Multiplier applied to the token embeddings before layer 0 (Gemma: sqrt(hidden_size), which
    /// transformers rounds to the weights' dtype), else 1.
    public var embeddingScale: Double
    /// Sliding-window attention width, nil for full causal attention.
    public var slidingWindow: Int?
    public var bosTokenID: Int?
    /// Every end-of-sequence id (configs give one or a list).
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?
    /// `dtype` / `torch_dtype`; nil when not stated.
    public var dtype: DType?

    public init(architecture: Architecture, vocabSize: Int, hiddenSize: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int, intermediateSize: Int, maxPositions: Int, normEps: Double,
                normKind: NormKind, activation: Activation, gatedMLP: Bool, rope: RoPEConfig?, qkvBias: Bool,
                outputBias: Bool, mlpBias: Bool, qkNorm: Bool, tiedEmbeddings: Bool, learnedPositions: Bool,
                embeddingScale: Double, slidingWindow: Int?, bosTokenID: Int?, eosTokenIDs: [Int], padTokenID: Int?,
                dtype: DType?) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.normEps = normEps
        self.normKind = normKind
        self.activation = activation
        self.gatedMLP = gatedMLP
        self.rope = rope
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.qkNorm = qkNorm
        self.tiedEmbeddings = tiedEmbeddings
        self.learnedPositions = learnedPositions
        self.embeddingScale = embeddingScale
        self.slidingWindow = slidingWindow
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
        self.dtype = dtype
    }

    /// H · hd: width of the query projection.
    public var queryWidth: Int { headCount * headDim }
    /// KV · hd: width of the key and value projections.
    public var kvWidth: Int { kvHeadCount * headDim }

    /// The `model_type` values lf can load.
    public static var supportedModelTypes: [String] { ModelConfigRegistry.types.keys.sorted() }

    /// Reads `directory/config.json`.
    public static func load(directory: String) throws -> ModelConfig {
        try load(path: (directory as NSString).appendingPathComponent("config.json"))
    }

    /// Reads a config file.
    public static func load(path: String) throws -> ModelConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LFError("cannot read the model config: \(error.localizedDescription)", at: SourceLocation(file: path),
                          hint: "a Hugging Face model directory holds config.json next to its .safetensors files")
        }
        return try decode(data, path: path)
    }

    /// Decodes config JSON; `path` names the source in errors.
    public static func decode(_ data: Data, path: String) throws -> ModelConfig {
        let decoder = JSONDecoder()
        let supported = supportedModelTypes.joined(separator: ", ")
        do {
            let probe = try decoder.decode(ModelTypeProbe.self, from: data)
            guard let modelType = probe.modelType else {
                throw LFError("config has no model_type", at: SourceLocation(file: path, field: "model_type"),
                              hint: "lf supports model_type \(supported)")
            }
            guard let type = ModelConfigRegistry.types[modelType] else {
                throw LFError("unsupported model_type \"\(modelType)\"", at: SourceLocation(file: path, field: "model_type"),
                              hint: "lf supports model_type \(supported)")
            }
            return try type.decode(data, decoder: decoder, path: path)
        } catch let error as DecodingError {
            throw JSONDecodingFailure.lfError(error, path: path)
        }
    }

    /// Checks shared by every architecture, naming the architecture's own keys. Each
    /// configuration struct calls it at the end of `normalized(path:)`.
    func validate(path: String, keys: ConfigKeyNames = ConfigKeyNames()) throws {
        let check = ConfigChecker(path: path)
        try check.positive(vocabSize, keys.vocab)
        try check.positive(hiddenSize, keys.hidden)
        try check.positive(layerCount, keys.layers)
        try check.positive(headCount, keys.heads)
        try check.kvHeads(kvHeadCount, heads: headCount, kvKey: keys.kvHeads, headsKey: keys.heads)
        try check.positive(headDim, keys.headDim)
        try check.positive(intermediateSize, keys.intermediate)
        try check.positive(maxPositions, keys.maxPositions)
        try check.positive(normEps, keys.eps)
        if let slidingWindow { try check.positive(slidingWindow, "sliding_window") }
        // transformers does not check token ids against the vocabulary (some configs name added
        // tokens beyond the embedding matrix); only a negative id is certainly wrong.
        if let bos = bosTokenID, bos < 0 { throw check.fail("bos_token_id \(bos) is negative", "bos_token_id") }
        if let pad = padTokenID, pad < 0 { throw check.fail("pad_token_id \(pad) is negative", "pad_token_id") }
        if let eos = eosTokenIDs.first(where: { $0 < 0 }) { throw check.fail("eos_token_id \(eos) is negative", "eos_token_id") }
    }
}

/// The config keys that hold the shared sizes, for error messages (GPT-2 spells them differently).
struct ConfigKeyNames {
    var vocab = "vocab_size"
    var hidden = "hidden_size"
    var layers = "num_hidden_layers"
    var heads = "num_attention_heads"
    var kvHeads = "num_key_value_heads"
    var headDim = "head_dim"
    var intermediate = "intermediate_size"
    var maxPositions = "max_position_embeddings"
    var eps = "rms_norm_eps"
}

/// Reads `model_type` alone, to pick the architecture's struct.
private struct ModelTypeProbe: Decodable {
    var modelType: String?
    enum CodingKeys: String, CodingKey { case modelType = "model_type" }
}

/// A Codable mirror of one architecture's `config.json` that can normalise itself.
protocol HFModelConfiguration: Decodable {
    /// Checks and converts to the normalised view; errors name `path` and the config key.
    func normalized(path: String) throws -> ModelConfig
}

extension HFModelConfiguration {
    static func decode(_ data: Data, decoder: JSONDecoder, path: String) throws -> ModelConfig {
        try decoder.decode(Self.self, from: data).normalized(path: path)
    }
}

/// `model_type` → its config struct.
enum ModelConfigRegistry {
    static let types: [String: any HFModelConfiguration.Type] = [
        Architecture.llama.rawValue: LlamaConfiguration.self,
        Architecture.mistral.rawValue: MistralConfiguration.self,
        Architecture.qwen2.rawValue: Qwen2Configuration.self,
        Architecture.qwen3.rawValue: Qwen3Configuration.self,
        Architecture.phi3.rawValue: Phi3Configuration.self,
        Architecture.gemma.rawValue: GemmaConfiguration.self,
        Architecture.gpt2.rawValue: GPT2Configuration.self,
    ]
}
