import Foundation
import Shared
import Testing
import TestSupport

/// A SentencePiece (`llama`) GGUF vocabulary becomes the tokenizer.json transformers' LlamaConverter
/// writes: checked against the spm_llama fixture, made from the same sentencepiece model.
@Suite struct SentencePieceTokenizerTests {
    static let dir = Fixtures.path("tokenizers/spm_llama")

    /// The vocabulary as llama.cpp's convert stores a sentencepiece model in GGUF.
    static func vocabulary() throws -> GGUFVocabulary {
        let model = try SentencePieceModel(path: dir + "/tokenizer.model")
        return GGUFVocabulary(
            model: .llama, tokens: model.pieces.map(\.text),
            tokenTypes: model.pieces.map { GGUFVocabulary.TokenType(rawValue: $0.type) ?? .normal },
            scores: model.pieces.map(\.score), bosID: 1, eosID: 2, unknownID: 0,
            addBOS: true, addEOS: false, addSpacePrefix: true)
    }

    @Test func mergesRebuiltFromScoresMatchTransformers() throws {
        let v = try Self.vocabulary()
        let expected = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: Self.dir + "/tokenizer.json")))
        guard case .array(let want)? = expected["model"]?["merges"] else { Issue.record("fixture has no merges"); return }
        let got = HFTokenizerFiles.sentencePieceMerges(tokens: v.tokens, scores: v.scores!)
        #expect(got.count == want.count)
        for (i, (pair, expect)) in zip(got, want).enumerated() where JSONValue.array([.string(pair.0), .string(pair.1)]) != expect {
            Issue.record("merge \(i): got \(pair), expected \(expect)")
            break
        }
    }

    @Test func tokenizerJSONEqualsTheFixture() throws {
        let files = try HFTokenizerFiles(vocabulary: Self.vocabulary(), modelMaxLength: nil, source: "spm")
        let expected = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: Self.dir + "/tokenizer.json")))
        for key in ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model"] {
            #expect(files.tokenizerJSON[key] == expected[key], "tokenizer.json[\(key)] differs")
        }
        #expect(files.tokenizerJSON == expected)
    }
}
