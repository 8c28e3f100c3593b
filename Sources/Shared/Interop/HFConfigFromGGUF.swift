import Foundation

/// The hyperparameters of a llama-architecture GGUF (`llama.*` keys), and the Hugging Face
/// config.json / generation_config.json they describe.
public struct LlamaGGUFHyperparameters: Equatable, Sendable {
    public var layers: Int
    public var contextLength: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var vocabSize: Int
    public var tiedEmbeddings: Bool
    public var ropeScaling: RopeScaling?

    public enum RopeScaling: Equatable, Sendable {
        case linear(factor: Double)
        case yarn(factor: Double, originalMaxPositions: Int)
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
    }

    public init(layers: Int, contextLength: Int, hiddenSize: Int, intermediateSize: Int, heads: Int, kvHeads: Int, headDim: Int,
                ropeTheta: Float, rmsNormEps: Float, vocabSize: Int, tiedEmbeddings: Bool, ropeScaling: RopeScaling? = nil) {
        self.layers = layers
        self.contextLength = contextLength
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.vocabSize = vocabSize
        self.tiedEmbeddings = tiedEmbeddings
        self.ropeScaling = ropeScaling
    }

    /// config.json in the hub spelling that transformers 4 and 5 both read (`rope_theta`,
    /// `rope_scaling`, `torch_dtype`), keys sorted as `save_pretrained` writes them.
    ///
    /// - Parameter precision: the model's precision (`torch_dtype`), which is the source file's, not
    ///   the container `--dtype` chose: see `sourcePrecision(fileType:)`.
    public func configJSON(vocabulary: GGUFVocabulary, precision: DType) -> JSONValue {
        var entries: [(String, JSONValue)] = [
            ("architectures", .array([.string("LlamaForCausalLM")])),
            ("attention_bias", .bool(false)),
            ("attention_dropout", .double(0)),
            ("bos_token_id", vocabulary.bosID.map { .int($0) } ?? .null),
            ("eos_token_id", vocabulary.eosID.map { .int($0) } ?? .null),
            ("head_dim", .int(headDim)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .int(hiddenSize)),
            // Not stored in GGUF and unused for inference and LoRA; hidden^-0.5 is what SmolLM2
            // and the Llama family were initialised with (transformers' own default is 0.02).
            ("initializer_range", .double(1 / Double(hiddenSize).squareRoot())),
            ("intermediate_size", .int(intermediateSize)),
            ("max_position_embeddings", .int(contextLength)),
            ("mlp_bias", .bool(false)),
            ("model_type", .string("llama")),
            ("num_attention_heads", .int(heads)),
            ("num_hidden_layers", .int(layers)),
            ("num_key_value_heads", .int(kvHeads)),
            ("pad_token_id", vocabulary.paddingID.map { .int($0) } ?? .null),
            ("pretraining_tp", .int(1)),
            ("rms_norm_eps", .float(rmsNormEps)),
            ("rope_scaling", ropeScalingJSON),
            ("rope_theta", Self.number(ropeTheta)),
            ("tie_word_embeddings", .bool(tiedEmbeddings)),
            ("torch_dtype", .string(precision.torchName)),
            ("use_cache", .bool(true)),
            ("vocab_size", .int(vocabSize)),
        ]
        entries.sort { $0.0 < $1.0 }
        return .object(entries)
    }

    /// generation_config.json: the special ids, and greedy decoding with a bounded length (what
    /// llama.cpp and Ollama do when asked for deterministic output). A model with an end-of-turn
    /// token different from EOS stops on both.
    public func generationConfigJSON(vocabulary: GGUFVocabulary) -> JSONValue {
        var eos: JSONValue = vocabulary.eosID.map { .int($0) } ?? .null
        if let eot = vocabulary.endOfTurnID, let e = vocabulary.eosID, eot != e {
            eos = .array([.int(e), .int(eot)])
        }
        var entries: [(String, JSONValue)] = []
        if let bos = vocabulary.bosID { entries.append(("bos_token_id", .int(bos))) }
        entries.append(("eos_token_id", eos))
        if let pad = vocabulary.paddingID { entries.append(("pad_token_id", .int(pad))) }
        entries.append(("do_sample", .bool(false)))
        entries.append(("max_new_tokens", .int(256)))
        return .object(entries)
    }

    /// The precision a GGUF's weights have, from `general.file_type` (llama_ftype): all-F32 files
    /// are float32, F16 and BF16 files their own type, and quantised files bfloat16 — their values
    /// carry less precision than any float type, and bf16 is what Llama-family checkpoints are
    /// loaded in. This is what config.json's `torch_dtype` records, so that a model imported as
    /// float32 for exactness still says it is a 16-bit model, as its hub original does.
    public static func sourcePrecision(fileType: Int) -> DType {
        switch fileType {
        case 0: .f32
        case 1: .f16
        case 32: .bf16
        default: .bf16
        }
    }

    var ropeScalingJSON: JSONValue {
        switch ropeScaling {
        case nil: return .null
        case .linear(let factor):
            return .object([("factor", .double(factor)), ("rope_type", .string("linear")), ("type", .string("linear"))])
        case .yarn(let factor, let original):
            return .object([("factor", .double(factor)), ("original_max_position_embeddings", .int(original)),
                            ("rope_type", .string("yarn")), ("type", .string("yarn"))])
        case .llama3(let factor, let low, let high, let original):
            return .object([("factor", .double(factor)), ("high_freq_factor", .double(high)), ("low_freq_factor", .double(low)),
                            ("original_max_position_embeddings", .int(original)), ("rope_type", .string("llama3"))])
        }
    }

    /// An integral float32 as a JSON integer (`rope_theta: 100000`, as the hub writes it),
    /// anything else as its shortest decimal.
    static func number(_ value: Float) -> JSONValue {
        if value == value.rounded(), abs(value) < 1e15 { return .int(Int(value)) }
        return .float(value)
    }

    /// Recognises Llama 3.1-style rotary scaling from llama.cpp's `rope_freqs` tensor (one divisor
    /// per rotary frequency), by recomputing the divisors for the parameter sets Meta published
    /// (factor 8 or 32, low 1, high 4, original context 8192) and for the factor the tensor's largest
    /// value implies. Returns nil if none reproduces the tensor.
    public static func llama3Scaling(ropeFreqs: [Float], theta: Float, headDim: Int) -> RopeScaling? {
        guard let maxFactor = ropeFreqs.max(), ropeFreqs.count == headDim / 2 else { return nil }
        var candidates: [(Double, Double, Double, Int)] = []
        for original in [8192, 4096, 2048, 16384, 32768, 131072] {
            for (low, high) in [(1.0, 4.0), (1.0, 2.0), (2.0, 4.0)] {
                candidates.append((Double(maxFactor), low, high, original))
            }
        }
        for (factor, low, high, original) in candidates {
            let expected = llama3Divisors(theta: Double(theta), headDim: headDim, factor: factor, low: low, high: high, original: original)
            let matches = zip(expected, ropeFreqs).allSatisfy { abs($0 - Double($1)) <= 1e-4 * max(1, abs($0)) }
            if matches { return .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: original) }
        }
        return nil
    }

    /// The per-frequency divisors of Llama 3.1 rope scaling (as convert_hf_to_gguf computes rope_freqs).
    static func llama3Divisors(theta: Double, headDim: Int, factor: Double, low: Double, high: Double, original: Int) -> [Double] {
        let lowWavelength = Double(original) / low
        let highWavelength = Double(original) / high
        return (0..<(headDim / 2)).map { i in
            let freq = 1 / pow(theta, Double(2 * i) / Double(headDim))
            let wavelength = 2 * Double.pi / freq
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return factor }
            let smooth = (Double(original) / wavelength - low) / (high - low)
            return 1 / ((1 - smooth) / factor + smooth)
        }
    }
}
