import Foundation
@testable import Shared
import Testing
import TestSupport

/// BPE training against the vocabularies HF's BpeTrainer learned for the fixtures (vocab_size,
/// min_frequency 2, ByteLevel initial alphabet, on the 2,000 corpus texts).
@Suite struct TrainerTests {
    static let texts: [String] = {
        var out: [String] = []
        try? JSONLReader(path: Fixtures.path("tokenizers/corpus.jsonl")).forEachObject { _, o in out.append(o["text"] as! String) }
        return out
    }()

    @Test(arguments: [("gpt2_bpe", TrainedTokenizer.Family.gpt2, 2000, ["<|endoftext|>"]),
                      ("llama3_bpe", .llama3, 3000, []), ("qwen2_bpe", .qwen2, 3000, [])])
    func sameVocabularyAndMergesAsHF(name: String, family: TrainedTokenizer.Family, size: Int, specials: [String]) throws {
        let counts = try TrainedTokenizer.countWords(Self.texts, family: family, specialTokens: specials)
        let result = BPETrainer(vocabularySize: size, minFrequency: 2, specialTokens: specials).train(counts)
        let fixture = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tokenizers/\(name)/tokenizer.json"))))
        guard case .object(let vocab)? = fixture["model"]?["vocab"], case .array(let merges)? = fixture["model"]?["merges"] else {
            Issue.record("fixture without vocab/merges"); return
        }
        #expect(result.vocabulary.count == vocab.count)
        var byID: [Int: String] = [:]
        for (token, id) in vocab { if case .int(let i) = id { byID[i] = token } }
        let firstWrong = result.vocabulary.indices.first { byID[$0] != result.vocabulary[$0] }
        #expect(firstWrong == nil, "\(name): first differing id \(firstWrong ?? -1)")
        #expect(result.merges.count == merges.count)
        let firstBadMerge = zip(result.merges, merges).enumerated().first { JSONValue.array([.string($0.element.0.0), .string($0.element.0.1)]) != $0.element.1 }
        #expect(firstBadMerge == nil, "\(name): first differing merge \(firstBadMerge?.offset ?? -1)")
    }

    @Test func trainedTokenizerLoadsAndRoundTrips() throws {
        let specials = ["<|endoftext|>"]
        let counts = try TrainedTokenizer.countWords(Self.texts, family: .smollm, specialTokens: specials)
        let result = BPETrainer(vocabularySize: 1200, specialTokens: specials).train(counts)
        let json = TrainedTokenizer.json(result, family: .smollm, specialTokens: specials)
        let t = try Tokenizer(data: Data(json.serialized().utf8), source: "trained")
        for text in Self.texts {
            #expect(t.decode(t.encode(text, parseSpecial: true), skipSpecial: false) == text)
        }
        #expect(t.tokenID("<|endoftext|>") == 0)
    }

    /// minbpe's toy, "aaabdaaabac" with three merges: minbpe learns aa, aaa, aaab and encodes
    /// [258, 100, 258, 97, 99] (bytes, then merges from 256). HF breaks the count tie after "aa"
    /// towards the smaller pair of ids, (a, b) before (aa, a), so it learns aa, ab, aaab — and
    /// encodes to the same pieces.
    @Test func toyMerges() throws {
        var counts = BPETrainer.WordCounts()
        counts.add(Array("aaabdaaabac".utf8))
        let result = BPETrainer(vocabularySize: 259).train(counts)
        #expect(result.merges.map { $0.0 + $0.1 } == ["aa", "ab", "aaab"])
        let t = try Tokenizer(data: Data(TrainedTokenizer.json(result, family: .gpt2, specialTokens: []).serialized().utf8), source: "toy")
        #expect(t.encode("aaabdaaabac", parseSpecial: false).map { t.token($0)! } == ["aaab", "d", "aaab", "a", "c"])
    }
}
