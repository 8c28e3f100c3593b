import Foundation
import Shared
import Testing
import TestSupport

/// The real default model against transformers' reference (../shared/fixtures/smollm2/reference_generation.json):
/// greedy answers token for token, and the top-5 next-token logits within 2e-2.
@Suite(.enabled(if: DefaultModel.shouldTest, "the default model is not fetched (scripts/fetch-model.sh)"))
struct SmolLM2GenerationTests {
    static let reference: [String: Any] = {
        let url = URL(fileURLWithPath: Fixtures.path("smollm2/reference_generation.json"))
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]) ?? [:]
    }()

    static let model: TransformerModel? = try? TransformerModel.load(directory: DefaultModel.directory)

    @Test func greedyAnswersAreIdentical() throws {
        let model = try #require(Self.model, "the model did not load")
        let tokenizer = try Tokenizer.load(directory: DefaultModel.directory)
        let generator = Generator(model: model, tokenizer: tokenizer, stopTokenIDs: [2])
        for g in Self.reference["generations"] as! [[String: Any]] {
            let prompt = (g["prompt_ids"] as! [Int]).map { Int32($0) }
            let expected = (g["greedy_new_ids"] as! [Int]).map { Int32($0) }
            let result = try generator.generate(prompt: prompt, maxNewTokens: 64, sampling: SamplingOptions())
            // The reference includes the EOS it stopped at; lf stops before emitting it.
            #expect(result.tokens + (result.finishReason == .eos ? [2] : []) == expected)
            #expect(result.text == g["text"] as? String)
        }
    }

    @Test func nextTokenTopFiveMatches() throws {
        let model = try #require(Self.model, "the model did not load")
        let V = model.config.vocabSize
        for n in Self.reference["next_token"] as! [[String: Any]] {
            let ids = (n["ids"] as! [Int]).map { Int32($0) }
            var logits = [Float](repeating: 0, count: V)
            try logits.withUnsafeMutableBufferPointer {
                try model.forward(ids, cache: model.makeCache(capacity: ids.count), logits: .last, into: $0.baseAddress)
            }
            let top5 = (0..<V).sorted { logits[$0] > logits[$1] }.prefix(5)
            #expect(Array(top5) == (n["top5_ids"] as! [Int]))
            checkTensor("next-token logits", actual: top5.map { logits[$0] }, expected: (n["top5_logits"] as! [Double]).map { Float($0) }, atol: 2e-2)
        }
    }

    @Test func capitalOfFranceIsParis() throws {
        let model = try #require(Self.model, "the model did not load")
        let tokenizer = try Tokenizer.load(directory: DefaultModel.directory)
        let template = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let result = try Generator(model: model, tokenizer: tokenizer, stopTokenIDs: [2])
            .generate(prompt: tokenizer.encode(template, parseSpecial: true), maxNewTokens: 32, sampling: SamplingOptions())
        #expect(result.text.contains("Paris"))
    }
}
