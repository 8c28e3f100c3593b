import Foundation
import Shared
import Testing
import TestSupport

/// A GGUF that lf cannot convert faithfully is refused before anything is written, with an error
/// that names the file and the key or tensor; no output and no temporary is left behind.
@Suite struct GGUFImportErrorTests {
    static let smollmVocabulary: [(String, GGUFValue)] = [
        ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("smollm")),
        ("tokenizer.ggml.tokens", .array(.string, (0..<256).map { .string("t\($0)") })),
        ("tokenizer.ggml.merges", .array(.string, [.string("t1 t2")])),
    ]

    /// Writes `g`, imports it, and returns the error (asserting that nothing was left behind).
    func failure(_ g: SyntheticGGUF, sourceLine: Testing.SourceLocation = #_sourceLocation) throws -> LFError? {
        let root = try Fixtures.temporaryDirectory("lf-import-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let gguf = root.path + "/bad.gguf"
        try g.write(to: gguf)
        let error = #expect(throws: LFError.self, sourceLocation: sourceLine) {
            _ = try GGUFImporter.run(gguf: gguf, output: root.path + "/out", dtype: .f32)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["bad.gguf"], sourceLocation: sourceLine)
        #expect(error?.location?.file == gguf, sourceLocation: sourceLine)
        return error
    }

    @Test func goodSyntheticFileImports() throws {
        // The baseline the other cases break in one place.
        let root = try Fixtures.temporaryDirectory("lf-import-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary).write(to: root.path + "/ok.gguf")
        let summary = try GGUFImporter.run(gguf: root.path + "/ok.gguf", output: root.path + "/out", dtype: .f32)
        #expect(summary.tensors == 20)
    }

    @Test func otherArchitectureIsRefused() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.architecture = "qwen2"
        let error = try failure(g)
        #expect(error?.location?.field == "general.architecture")
        #expect(error?.message.contains("\"qwen2\"") == true)
    }

    @Test func missingTensorIsNamed() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.tensors.removeAll { $0.name == "blk.1.ffn_up.weight" }
        let error = try failure(g)
        #expect(error?.location?.field == "model.layers.1.mlp.up_proj.weight")
    }

    @Test func shapeThatDisagreesWithTheHyperparametersIsNamed() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("llama.feed_forward_length", .uint32(96))
        let error = try failure(g)
        #expect(error?.location?.field == "blk.0.ffn_gate.weight" || error?.location?.field == "blk.0.ffn_down.weight"
                || error?.location?.field == "blk.0.ffn_up.weight")
        #expect(error?.message.contains("expected [96, 64]") == true || error?.message.contains("expected [64, 96]") == true)
    }

    @Test func unknownTensorIsRefusedRatherThanDropped() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.tensors.append(("blk.0.attn_q.bias", [64], [Float](repeating: 0, count: 64)))
        let error = try failure(g)
        #expect(error?.location?.field == "blk.0.attn_q.bias")
    }

    @Test func unknownPreTokenizerListsTheKnownOnes() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("tokenizer.ggml.pre", .string("brand-new-bpe"))
        let error = try failure(g)
        #expect(error?.location?.field == "tokenizer.ggml.pre")
        #expect(error?.hint?.contains("llama-bpe") == true && error?.hint?.contains("smollm") == true)
    }

    @Test func missingTokenizerIsAnError() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("tokenizer.ggml.model", nil)
        let error = try failure(g)
        #expect(error?.location?.field == "tokenizer.ggml.model")
    }

    @Test func missingHyperparameterIsNamed() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("llama.attention.layer_norm_rms_epsilon", nil)
        #expect(try failure(g)?.location?.field == "llama.attention.layer_norm_rms_epsilon")
    }

    @Test func headCountsThatDoNotDivideAreRefused() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("llama.attention.head_count_kv", .uint32(3))
        #expect(try failure(g)?.location?.field == "llama.attention.head_count_kv")
    }

    @Test func moreTokensThanEmbeddingRowsIsRefused() throws {
        var vocabulary = Self.smollmVocabulary
        vocabulary[2] = ("tokenizer.ggml.tokens", .array(.string, (0..<300).map { .string("t\($0)") }))
        let g = try SyntheticGGUF.llama(vocabulary: vocabulary)
        let error = try failure(g)
        #expect(error?.message.contains("300 tokens") == true)
    }

    @Test func malformedMergeIsNamed() throws {
        var g = try SyntheticGGUF.llama(vocabulary: Self.smollmVocabulary)
        g.set("tokenizer.ggml.merges", .array(.string, [.string("t1 t2"), .string("nospace")]))
        let error = try failure(g)
        #expect(error?.location?.field == "tokenizer.ggml.merges")
        #expect(error?.message.contains("merge 1") == true)
    }

    @Test func duplicateTokenIsNamed() throws {
        var vocabulary = Self.smollmVocabulary
        vocabulary[2] = ("tokenizer.ggml.tokens", .array(.string, (0..<256).map { .string($0 == 7 ? "t3" : "t\($0)") }))
        let error = try failure(SyntheticGGUF.llama(vocabulary: vocabulary))
        #expect(error?.message.contains("token 7") == true)
    }

    @Test func outputWithForeignFilesIsLeftAlone() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        let error = #expect(throws: LFError.self) {
            _ = try GGUFImporter.run(gguf: Fixtures.path("gguf/models/llama/llama.f32.gguf"), output: out, dtype: .f32)
        }
        #expect(error?.status == .usage)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["notes.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["out"])
    }

    @Test func previousImportIsReplaced() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.path + "/out"
        _ = try GGUFImporter.run(gguf: Fixtures.path("gguf/models/llama/llama.f32.gguf"), output: out, dtype: .f32)
        _ = try GGUFImporter.run(gguf: Fixtures.path("gguf/models/llama/llama.q8_0.gguf"), output: out, dtype: .bf16)
        let weights = try SafetensorsFile(path: out + "/model.safetensors")
        #expect(weights.tensors.allSatisfy { $0.dtype == .bf16 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["out"])
    }
}
