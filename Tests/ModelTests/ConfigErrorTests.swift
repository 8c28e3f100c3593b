import Foundation
import Shared
import Testing
import TestSupport

/// Configs edited away from the fixtures: spellings, defaults, and every refusal naming the file and
/// the field.
@Suite struct ConfigErrorTests {
    let dir: URL

    init() throws { dir = try Fixtures.temporaryDirectory("lf-config") }

    /// A fixture's config.json (or `file`) as a dictionary.
    private func base(_ model: String = "llama", file: String = "config.json") throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/\(model)/\(file)")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func write(_ json: [String: Any], _ name: String = "config.json") throws -> String {
        let path = dir.appendingPathComponent(name).path
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func decode(_ json: [String: Any]) throws -> ModelConfig {
        try ModelConfig.load(path: try write(json))
    }

    /// The LFError `json` must raise, checked to name the file and `field`.
    @discardableResult
    private func expectError(_ json: [String: Any], field: String?, _ fragment: String,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> LFError? {
        let path = try write(json)
        do {
            let config = try ModelConfig.load(path: path)
            Issue.record("decoded \(config.architecture)", sourceLocation: sourceLocation)
            return nil
        } catch let error as LFError {
            #expect(error.location?.file == path, "\(error)", sourceLocation: sourceLocation)
            #expect(error.location?.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(fragment), "\"\(fragment)\" not in \(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func unknownArchitectureListsSupportedOnes() throws {
        var json = try base()
        json["model_type"] = "mamba"
        let error = try expectError(json, field: "model_type", "unsupported model_type \"mamba\"")
        for type in ["gemma", "gpt2", "llama", "mistral", "phi3", "qwen2", "qwen3"] {
            #expect(error?.hint?.contains(type) == true)
        }
        #expect(ModelConfig.supportedModelTypes == ["gemma", "gpt2", "llama", "mistral", "phi3", "qwen2", "qwen3"])
        json["model_type"] = nil
        try expectError(json, field: "model_type", "no model_type")
        json["model_type"] = 3
        try expectError(json, field: "model_type", "wrong type")
    }

    @Test func missingRequiredField() throws {
        for key in ["hidden_size", "vocab_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"] {
            var json = try base()
            json[key] = nil
            try expectError(json, field: key, "missing required field \"\(key)\"")
        }
        var gpt2 = try base("gpt2")
        gpt2["n_embd"] = nil
        try expectError(gpt2, field: "n_embd", "missing required field")
    }

    @Test func wrongTypes() throws {
        var json = try base()
        json["hidden_size"] = "64"
        try expectError(json, field: "hidden_size", "wrong type")
        json = try base()
        json["rope_parameters"] = ["rope_theta": "big", "rope_type": "default"]
        try expectError(json, field: "rope_parameters.rope_theta", "wrong type")
        json = try base()
        json["eos_token_id"] = "</s>"
        try expectError(json, field: "eos_token_id", "wrong type")
        let path = dir.appendingPathComponent("bad.json").path
        try "{\"model_type\": \"llama\",".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ModelConfig.load(path: path)
            Issue.record("decoded truncated JSON")
        } catch let error as LFError {
            #expect(error.location?.file == path)
            #expect(error.message.contains("not valid JSON"))
        }
        #expect(throws: LFError.self) { try ModelConfig.load(path: dir.appendingPathComponent("absent.json").path) }
    }

    @Test func sizesAreValidated() throws {
        var json = try base()
        json["num_key_value_heads"] = 3
        try expectError(json, field: "num_key_value_heads", "not a multiple")
        json = try base()
        json["head_dim"] = nil
        json["num_attention_heads"] = 5
        json["num_key_value_heads"] = 5
        try expectError(json, field: "num_attention_heads", "not divisible")
        json = try base()
        json["vocab_size"] = 0
        try expectError(json, field: "vocab_size", "must be positive")
        json = try base()
        json["rms_norm_eps"] = -1
        try expectError(json, field: "rms_norm_eps", "positive")
        json = try base()
        json["eos_token_id"] = -2
        try expectError(json, field: "eos_token_id", "negative")
        var gpt2 = try base("gpt2")
        gpt2["n_head"] = 5
        try expectError(gpt2, field: "n_head", "not divisible")
    }

    @Test func headDimAbsentMeansHiddenOverHeads() throws {
        var json = try base()
        json["head_dim"] = nil
        json["hidden_size"] = 96
        #expect(try decode(json).headDim == 24)
        json["head_dim"] = NSNull()
        #expect(try decode(json).headDim == 24)
        // An explicit head_dim wins, even when it is not hidden / heads (Gemma-7B style).
        json["head_dim"] = 32
        let c = try decode(json)
        #expect(c.headDim == 32)
        #expect(c.queryWidth == 128)
    }

    @Test func defaultsFollowTransformers() throws {
        var json = try base()
        for key in ["num_key_value_heads", "rms_norm_eps", "tie_word_embeddings", "bos_token_id", "eos_token_id",
                    "rope_parameters", "dtype", "hidden_act", "attention_bias", "max_position_embeddings"] {
            json[key] = nil
        }
        let c = try decode(json)
        #expect(c.kvHeadCount == 4)  // = num_attention_heads
        #expect(c.normEps == 1e-6)
        #expect(!c.tiedEmbeddings)
        #expect(c.bosTokenID == 1)
        #expect(c.eosTokenIDs == [2])
        #expect(c.rope?.theta == 10000)
        #expect(c.dtype == nil)
        #expect(c.activation == .silu)
        #expect(c.maxPositions == 2048)
        var mistral = try base("mistral")
        mistral["sliding_window"] = nil
        #expect(try decode(mistral).slidingWindow == 4096)  // absent → 4096; null → none
        mistral["sliding_window"] = 1024
        #expect(try decode(mistral).slidingWindow == 1024)
        var gemma = try base("gemma")
        gemma["head_dim"] = nil
        gemma["tie_word_embeddings"] = nil
        #expect(try decode(gemma).headDim == 256)
        #expect(try decode(gemma).tiedEmbeddings)
        var qwen3 = try base("qwen3")
        qwen3["head_dim"] = nil
        #expect(try decode(qwen3).headDim == 128)
        var gpt2 = try base("gpt2")
        gpt2["n_inner"] = NSNull()
        gpt2["tie_word_embeddings"] = nil
        #expect(try decode(gpt2).intermediateSize == 256)
        #expect(try decode(gpt2).tiedEmbeddings)
    }

    @Test func tokenIDsIntOrList() throws {
        var json = try base()
        json["eos_token_id"] = [128001, 128008, 128009]
        #expect(try decode(json).eosTokenIDs == [128001, 128008, 128009])
        json["eos_token_id"] = NSNull()
        json["bos_token_id"] = NSNull()
        json["pad_token_id"] = 7
        let c = try decode(json)
        #expect(c.eosTokenIDs == [])
        #expect(c.bosTokenID == nil)
        #expect(c.padTokenID == 7)
    }

    @Test func dtypeSpellings() throws {
        var json = try base()
        json["dtype"] = nil
        json["torch_dtype"] = "float16"
        #expect(try decode(json).dtype == .f16)
        json["torch_dtype"] = "auto"
        #expect(try decode(json).dtype == nil)
        json["dtype"] = "float8_e4m3fn"
        try expectError(json, field: "dtype", "unknown dtype")
    }

    @Test func legacyRoPESpellings() throws {
        var json = try base("llama", file: "config.legacy.json")
        json["rope_scaling"] = ["type": "linear", "factor": 2]
        #expect(try decode(json).rope?.scaling == .linear(factor: 2))
        json["rope_scaling"] = ["rope_type": "dynamic", "factor": 2.0]
        #expect(try decode(json).rope?.scaling == .dynamic(factor: 2, originalMaxPositions: 128))
        json["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32]
        let yarn = try decode(json).rope?.scaling
        #expect(yarn == .yarn(YarnRoPE(factor: 4, originalMaxPositions: 32, betaFast: 32, betaSlow: 1,
                                       attentionFactor: 0.1 * log(4.0) + 1, truncate: true)))
        json["rope_scaling"] = ["type": "ntk-by-parts", "factor": 2]
        try expectError(json, field: "rope_scaling.type", "unsupported rope type \"ntk-by-parts\"")
        json["rope_scaling"] = ["rope_type": "linear"]
        try expectError(json, field: "rope_scaling.factor", "needs factor")
        json["rope_scaling"] = ["rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 1,
                                "original_max_position_embeddings": 64]
        try expectError(json, field: "rope_scaling.high_freq_factor", "greater than low_freq_factor")
        json["rope_scaling"] = NSNull()
        json["rope_theta"] = 500000  // an integer where a float is expected
        #expect(try decode(json).rope?.theta == 500_000)
    }

    @Test func conflictingSpellingsAreRefused() throws {
        var json = try base()
        json["rope_theta"] = 500000.0
        try expectError(json, field: "rope_theta", "in rope_parameters")
        var phi = try base("phi4-mini")
        phi["partial_rotary_factor"] = 0.5
        try expectError(phi, field: "partial_rotary_factor", "at the top level")
    }

    /// Phi-4-mini as the hub writes it: `rope_scaling` with `type` and no original_max inside (it is
    /// only at the top level), and the old Phi-3 name "su".
    @Test func phiLongRoPEHubSpelling() throws {
        let reference = try ModelConfig.load(directory: Fixtures.path("models/phi4-mini"))
        var json = try base("phi4-mini", file: "config.legacy.json")
        var scaling = try #require(json["rope_scaling"] as? [String: Any])
        scaling["original_max_position_embeddings"] = nil
        scaling["rope_type"] = nil
        scaling["type"] = "longrope"
        json["rope_scaling"] = scaling
        #expect(try decode(json) == reference)
        scaling["type"] = "su"
        json["rope_scaling"] = scaling
        #expect(try decode(json) == reference)
        // Without any original_max_position_embeddings, Phi3Config's default 4096 applies.
        json["original_max_position_embeddings"] = nil
        guard case .longrope(let p)? = try decode(json).rope?.scaling else {
            Issue.record("not longrope")
            return
        }
        #expect(p.originalMaxPositions == 4096)
        #expect(p.attentionFactor == 1)  // 128 / 4096 < 1
        scaling["short_factor"] = [1.0, 2.0]
        json["rope_scaling"] = scaling
        try expectError(json, field: "rope_scaling.short_factor", "has 2 entries, but 12 rotary dimensions need 6")
    }

    @Test func partialRotaryMustGiveEvenDims() throws {
        var json = try base("phi3", file: "config.legacy.json")
        json["partial_rotary_factor"] = 0.3  // 16 × 0.3 = 4.8 → 4: fine
        #expect(try decode(json).rope?.rotaryDim == 4)
        json["partial_rotary_factor"] = 0.2  // 3 dimensions: not even
        try expectError(json, field: "partial_rotary_factor", "even")
        json["partial_rotary_factor"] = 1.5
        try expectError(json, field: "partial_rotary_factor", "(0, 1]")
    }

    @Test func activations() throws {
        var gemma = try base("gemma")
        gemma["hidden_act"] = "gelu"  // old Gemma configs: transformers uses the tanh approximation
        #expect(try decode(gemma).activation == .geluTanh)
        gemma["hidden_activation"] = "gelu_pytorch_tanh"
        #expect(try decode(gemma).activation == .geluTanh)
        var gpt2 = try base("gpt2")
        gpt2["activation_function"] = "gelu"  // exact GELU outside Gemma
        #expect(try decode(gpt2).activation == .gelu)
        var llama = try base()
        llama["hidden_act"] = "swiglu_oai"
        try expectError(llama, field: "hidden_act", "unsupported hidden_act")
    }

    @Test func unsupportedVariantsAreRefused() throws {
        var gpt2 = try base("gpt2")
        gpt2["scale_attn_by_inverse_layer_idx"] = true
        try expectError(gpt2, field: "scale_attn_by_inverse_layer_idx", "does not implement")
        var qwen = try base("qwen2")
        qwen["use_sliding_window"] = true
        try expectError(qwen, field: "use_sliding_window", "full attention")
    }

    @Test func attentionBiasSwitches() throws {
        var llama = try base()
        llama["attention_bias"] = true
        llama["mlp_bias"] = true
        let c = try decode(llama)
        #expect(c.qkvBias && c.outputBias && c.mlpBias)
        var mistral = try base("mistral")
        mistral["attention_bias"] = true  // MistralConfig has no such switch: ignored
        #expect(try !decode(mistral).qkvBias)
    }
}
