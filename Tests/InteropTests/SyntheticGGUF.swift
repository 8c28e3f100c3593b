import Foundation
import Shared
import TestSupport

/// Builds llama GGUF files in tests the way llama.cpp's convert_hf_to_gguf.py does (F32 tensors,
/// q/k rows permuted, `llama.*` and `tokenizer.ggml.*` keys), from the tiny llama fixture, with
/// hooks to break them in one place at a time.
struct SyntheticGGUF {
    var architecture = "llama"
    var metadata: [(String, GGUFValue)] = []
    var tensors: [(name: String, dims: [Int], values: [Float])] = []

    /// The fixture model `models/llama` (hidden 64, 2 layers, 4 heads / 2 kv heads, vocab 256) with
    /// the given vocabulary.
    static func llama(vocabulary: [(String, GGUFValue)]) throws -> SyntheticGGUF {
        let weights = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
        var g = SyntheticGGUF()
        g.metadata = [
            ("llama.block_count", .uint32(2)), ("llama.context_length", .uint32(128)),
            ("llama.embedding_length", .uint32(64)), ("llama.feed_forward_length", .uint32(128)),
            ("llama.attention.head_count", .uint32(4)), ("llama.attention.head_count_kv", .uint32(2)),
            ("llama.rope.freq_base", .float32(10000)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("general.file_type", .uint32(0)), ("llama.vocab_size", .uint32(256)), ("llama.rope.dimension_count", .uint32(16)),
        ] + vocabulary
        let names: [(String, String)] = [
            ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"),
        ] + (0..<2).flatMap { l in
            [("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm"), ("self_attn.q_proj", "attn_q"),
             ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"),
             ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down")]
                .map { ("model.layers.\(l).\($0.0).weight", "blk.\(l).\($0.1).weight") }
        }
        for (hf, gguf) in names {
            let t = weights[hf]!
            var values = try weights.floats(hf)
            if gguf.hasSuffix("attn_q.weight") { values = permute(values, rows: t.shape[0], cols: t.shape[1], heads: 4) }
            if gguf.hasSuffix("attn_k.weight") { values = permute(values, rows: t.shape[0], cols: t.shape[1], heads: 2) }
            g.tensors.append((gguf, Array(t.shape.reversed()), values))
        }
        return g
    }

    /// convert_hf_to_gguf's `permute`: HF row j·hd/2 + i of each head goes to row 2i + j.
    static func permute(_ w: [Float], rows: Int, cols: Int, heads: Int) -> [Float] {
        var out = w
        let hd = rows / heads, half = hd / 2
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let src = (h * hd + j * half + i) * cols, dst = (h * hd + 2 * i + j) * cols
                    out.replaceSubrange(dst..<(dst + cols), with: w[src..<(src + cols)])
                }
            }
        }
        return out
    }

    mutating func set(_ key: String, _ value: GGUFValue?) {
        metadata.removeAll { $0.0 == key }
        if let value { metadata.append((key, value)) }
    }

    func write(to path: String) throws {
        let w = try GGUFWriter(path: path)
        try w.add(key: "general.architecture", value: .string(architecture))
        for (k, v) in metadata { try w.add(key: k, value: v) }
        for t in tensors { try w.addTensorInfo(name: t.name, dimensions: t.dims, type: .f32, byteCount: t.values.count * 4) }
        for t in tensors { try w.writeTensorData(floats: t.values) }
        try w.finish()
    }

    /// The spm_llama fixture's sentencepiece vocabulary as GGUF keys.
    static func sentencePieceVocabulary() throws -> [(String, GGUFValue)] {
        let model = try SentencePieceModel(path: Fixtures.path("tokenizers/spm_llama/tokenizer.model"))
        return [
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .array(.string, model.pieces.map { .string($0.text) })),
            ("tokenizer.ggml.scores", .array(.float32, model.pieces.map { .float32($0.score) })),
            ("tokenizer.ggml.token_type", .array(.int32, model.pieces.map { .int32(Int32($0.type)) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)), ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)), ("tokenizer.ggml.add_bos_token", .bool(true)),
            ("tokenizer.ggml.add_eos_token", .bool(false)), ("tokenizer.ggml.add_space_prefix", .bool(true)),
        ]
    }

    /// A byte-level vocabulary read from a tokenizer.json fixture as convert writes it: one token
    /// list holding the model's vocabulary and the added tokens at their ids (added = control).
    static func byteLevelVocabulary(_ tokenizerJSON: String, pre: String) throws -> [(String, GGUFValue)] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenizerJSON))) as! [String: Any]
        let model = json["model"] as! [String: Any]
        var byID: [Int: String] = [:]
        for (token, id) in model["vocab"] as! [String: Int] { byID[id] = token }
        var control = Set<Int>()
        for added in json["added_tokens"] as! [[String: Any]] {
            byID[added["id"] as! Int] = (added["content"] as! String)
            control.insert(added["id"] as! Int)
        }
        let tokens = (0..<byID.count).map { byID[$0]! }
        let merges = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
        return [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(.int32, tokens.indices.map { .int32(control.contains($0) ? 3 : 1) })),
            ("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) })),
        ]
    }
}
