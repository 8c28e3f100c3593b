import Foundation
import Shared
import Testing
import TestSupport

/// `lf-gguf import` against llama.cpp's own GGUF files of the fixture models: the weights must come
/// back bit for bit, the tokenizer JSON-equal to the one the GGUF was made from.
@Suite struct GGUFImportTests {
    static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Imports `gguf` into a fresh temporary directory.
    static func imported(_ gguf: String, dtype: DType = .f32) throws -> (URL, String) {
        let root = try Fixtures.temporaryDirectory("lf-import")
        let out = root.appendingPathComponent("model").path
        _ = try GGUFImporter.run(gguf: gguf, output: out, dtype: dtype)
        return (root, out)
    }

    /// Every tensor of `expected` is in `actual` with the same shape and the same float bits.
    static func expectSameTensors(_ actualPath: String, _ expectedPath: String) throws {
        let actual = try SafetensorsFile(path: actualPath)
        let expected = try SafetensorsFile(path: expectedPath)
        #expect(actual.names.sorted() == expected.names.sorted())
        for t in expected.tensors {
            guard let a = actual[t.name] else { Issue.record("\(t.name) missing"); continue }
            #expect(a.shape == t.shape, "\(t.name) shape")
            let x = try actual.floats(t.name), y = try expected.floats(t.name)
            if let i = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) {
                Issue.record("\(t.name)[\(i)]: \(x[i]) != \(y[i])")
            }
        }
    }

    @Test(arguments: [
        ("gguf/models/llama/llama.f32.gguf", "models/llama/model.safetensors", "gguf/models/llama/hf/tokenizer.json"),
        ("gguf/models/tiny-chat/tiny-chat.f32.gguf", "models/tiny-chat/model.safetensors", "models/tiny-chat/tokenizer.json"),
    ])
    func f32FileGivesBackTheSourceModel(gguf: String, weights: String, tokenizer: String) throws {
        let (root, out) = try Self.imported(Fixtures.path(gguf))
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.expectSameTensors(out + "/model.safetensors", Fixtures.path(weights))
        #expect(try Self.json(out + "/tokenizer.json") == Self.json(Fixtures.path(tokenizer)))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)) == GGUFImporter.outputFiles)
    }

    @Test func importedConfigDescribesTheSameModel() throws {
        let (root, out) = try Self.imported(Fixtures.path("gguf/models/tiny-chat/tiny-chat.f32.gguf"))
        defer { try? FileManager.default.removeItem(at: root) }
        let got = try Self.json(out + "/config.json"), want = try Self.json(Fixtures.path("models/tiny-chat/config.json"))
        for key in ["architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size",
                    "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "hidden_act", "torch_dtype"] {
            #expect(got[key] == want[key], "config.json[\(key)]: \(String(describing: got[key])) vs \(String(describing: want[key]))")
        }
        let tc = try Self.json(out + "/tokenizer_config.json")
        let source = try Self.json(Fixtures.path("models/tiny-chat/tokenizer_config.json"))
        #expect(tc["chat_template"] == source["chat_template"])
        #expect(tc["eos_token"] == .string("<|im_end|>"))
        #expect(tc["model_max_length"] == .int(256))
        // lf's own loader reads the imported directory as the same model, all tensors accounted for.
        let config = try ModelConfig.load(directory: out)
        #expect(config.hiddenSize == 64 && config.layerCount == 2 && config.kvHeadCount == 2 && config.tiedEmbeddings)
        #expect(config == (try ModelConfig.load(directory: Fixtures.path("models/tiny-chat"))))
        _ = try CheckedWeights.load(directory: out)
    }

    /// Quantised files import with the q/k permutation undone: each tensor is within the format's
    /// rounding of the f32 original (a wrong permutation would be off by the weights' full range).
    @Test(arguments: ["q8_0", "q5_1", "q4_0", "q4_k_m", "q6_k", "bf16", "f16"])
    func quantisedFilesImportCloseToTheOriginal(type: String) throws {
        let (root, out) = try Self.imported(Fixtures.path("gguf/models/tiny-chat/tiny-chat.\(type).gguf"))
        defer { try? FileManager.default.removeItem(at: root) }
        let got = try SafetensorsFile(path: out + "/model.safetensors")
        let want = try SafetensorsFile(path: Fixtures.path("models/tiny-chat/model.safetensors"))
        let tolerance: Float = ["bf16": 0.002, "f16": 0.0002, "q8_0": 0.002][type] ?? 0.03
        for t in want.tensors {
            let x = try got.floats(t.name), y = try want.floats(t.name)
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= tolerance, "\(type) \(t.name): max |Δ| \(worst)")
        }
        let config = try Self.json(out + "/config.json")
        #expect(config["torch_dtype"] == .string(type == "f16" ? "float16" : "bfloat16"))
    }

    @Test func bf16OutputIsTheF32OutputRoundedToNearestEven() throws {
        let gguf = Fixtures.path("gguf/models/llama/llama.f32.gguf")
        let (root32, out32) = try Self.imported(gguf)
        let (root16, out16) = try Self.imported(gguf, dtype: .bf16)
        defer { try? FileManager.default.removeItem(at: root32); try? FileManager.default.removeItem(at: root16) }
        let a = try SafetensorsFile(path: out32 + "/model.safetensors"), b = try SafetensorsFile(path: out16 + "/model.safetensors")
        for t in a.tensors {
            #expect(b[t.name]?.dtype == .bf16)
            let rounded = try a.floats(t.name).map { HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16($0)) }
            #expect(try b.floats(t.name) == rounded, "\(t.name)")
        }
        // The config records the model's precision (an all-F32 file: float32), not the container.
        #expect(try Self.json(out16 + "/config.json")["torch_dtype"] == .string("float32"))
    }

    @Test func sentencePieceVocabularyGivesTransformersTokenizer() throws {
        var g = try SyntheticGGUF.llama(vocabulary: SyntheticGGUF.sentencePieceVocabulary())
        // A 1000-token vocabulary needs a 1000-row embedding.
        g.tensors[0] = ("token_embd.weight", [64, 1000], (0..<64_000).map { Float($0 % 97) * 0.001 })
        g.set("llama.vocab_size", .uint32(1000))
        let root = try Fixtures.temporaryDirectory("lf-import")
        defer { try? FileManager.default.removeItem(at: root) }
        try g.write(to: root.path + "/spm.gguf")
        _ = try GGUFImporter.run(gguf: root.path + "/spm.gguf", output: root.path + "/model", dtype: .f32)
        let got = try Self.json(root.path + "/model/tokenizer.json")
        let want = try Self.json(Fixtures.path("tokenizers/spm_llama/tokenizer.json"))
        #expect(got == want)
        let config = try Self.json(root.path + "/model/tokenizer_config.json")
        #expect(config["add_bos_token"] == .bool(true))
        #expect(config["bos_token"] == .string("<s>") && config["unk_token"] == .string("<unk>"))
        // The weights of the layers still come back exactly.
        let imported = try SafetensorsFile(path: root.path + "/model/model.safetensors")
        let source = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
        #expect(try imported.floats("model.layers.1.self_attn.q_proj.weight") == source.floats("model.layers.1.self_attn.q_proj.weight"))
        #expect(try imported.floats("model.layers.0.self_attn.k_proj.weight") == source.floats("model.layers.0.self_attn.k_proj.weight"))
    }

    @Test(arguments: [("gpt2_bpe", "gpt-2"), ("llama3_bpe", "llama-bpe"), ("qwen2_bpe", "qwen2")])
    func byteLevelPreTokenizersMatchTheirFamily(name: String, pre: String) throws {
        let path = Fixtures.path("tokenizers/\(name)/tokenizer.json")
        let vocabulary = try SyntheticGGUF.byteLevelVocabulary(path, pre: pre)
        guard case .array(_, let tokens)? = vocabulary.first(where: { $0.0 == "tokenizer.ggml.tokens" })?.1 else { return }
        var g = try SyntheticGGUF.llama(vocabulary: vocabulary)
        g.tensors[0] = ("token_embd.weight", [64, tokens.count], [Float](repeating: 0.01, count: 64 * tokens.count))
        g.set("llama.vocab_size", .uint32(UInt32(tokens.count)))
        let root = try Fixtures.temporaryDirectory("lf-import")
        defer { try? FileManager.default.removeItem(at: root) }
        try g.write(to: root.path + "/bpe.gguf")
        _ = try GGUFImporter.run(gguf: root.path + "/bpe.gguf", output: root.path + "/model", dtype: .f32)
        let got = try Self.json(root.path + "/model/tokenizer.json")
        let want = try Self.json(path)
        // The family's own pre-tokenizer, normalizer, decoder, merges and added tokens. (GGUF keeps
        // the added tokens in its one token list, so the model vocabulary also holds them.)
        for key in ["pre_tokenizer", "normalizer", "decoder", "added_tokens"] {
            #expect(got[key] == want[key], "\(name): \(key)")
        }
        for key in ["merges", "ignore_merges", "byte_fallback", "unk_token"] {
            #expect(got["model"]?[key] == want["model"]?[key], "\(name): model.\(key)")
        }
        guard case .object(let gotVocab)? = got["model"]?["vocab"], case .object(let wantVocab)? = want["model"]?["vocab"] else {
            Issue.record("no vocab"); return
        }
        let gotMap = Dictionary(gotVocab, uniquingKeysWith: { a, _ in a })
        #expect(wantVocab.allSatisfy { gotMap[$0.0] == $0.1 }, "\(name): every vocabulary entry keeps its id")
    }
}
