import Foundation
@testable import Shared
import Testing

/// Records → ids and loss masks, with the byte-per-token stand-in tokenizer so that every mask bit,
/// truncation point and stop token can be checked by decoding.
@Suite struct RecordEncoderTests {
    let tokenizer = ByteTokenizer()

    func encoder(_ template: ChatTemplate = .chatml, _ options: PackingOptions = PackingOptions(maxLength: 4096)) throws -> RecordEncoder {
        try RecordEncoder(tokenizer: tokenizer, template: template, options: options)
    }

    func documents(_ result: EncodedRecord, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [Document] {
        guard case .documents(let docs, _, _) = result else {
            Issue.record("expected documents, got \(result)", sourceLocation: sourceLocation)
            return []
        }
        return docs
    }

    /// The trained text: runs of trained tokens decoded, joined with "|".
    func trained(_ d: Document) -> String {
        var runs: [String] = []
        var current: [Int32] = []
        for (id, m) in zip(d.ids, d.mask) {
            if m { current.append(id) } else if !current.isEmpty { runs.append(tokenizer.decode(current, skipSpecial: false)); current = [] }
        }
        if !current.isEmpty { runs.append(tokenizer.decode(current, skipSpecial: false)) }
        return runs.joined(separator: "|")
    }

    func text(_ d: Document) -> String { tokenizer.decode(d.ids, skipSpecial: false) }

    static let twoTurns = conversation((.system, "Be kind."), (.user, "Hi"), (.assistant, "Hello!"), (.user, "Bye"), (.assistant, "Ciao"))

    @Test func assistantAnswersAreTrainedByDefault() throws {
        let d = documents(try encoder().encode(.chat(Self.twoTurns)))[0]
        let rendered = try ChatTemplate.chatml.render(Self.twoTurns)
        // Segments encoded one by one give the ids of the whole text (always, with this tokenizer).
        #expect(d.ids == tokenizer.encode(rendered.text, parseSpecial: true))
        #expect(trained(d) == "Hello!<|im_end|>\n|Ciao<|im_end|>\n")
        #expect(d.mask[0] == false)
        // The trained spans are exactly the rendered response spans.
        #expect(d.trainedCount == rendered.turns.map { tokenizer.encode($0.response, parseSpecial: true).count }.reduce(0, +))
    }

    @Test func trainOnPromptTrainsEverythingButTheFirstToken() throws {
        let d = documents(try encoder(.chatml, PackingOptions(maxLength: 4096, trainOnPrompt: true)).encode(.chat(Self.twoTurns)))[0]
        #expect(d.mask == [false] + [Bool](repeating: true, count: d.count - 1))
    }

    @Test func maskHistoryTrainsOnlyTheLastAnswer() throws {
        let d = documents(try encoder(.chatml, PackingOptions(maxLength: 4096, maskHistory: true)).encode(.chat(Self.twoTurns)))[0]
        #expect(trained(d) == "Ciao<|im_end|>\n")
        #expect(text(d) == (try ChatTemplate.chatml.render(Self.twoTurns).text))
    }

    @Test func masksForOtherTemplates() throws {
        let chat = conversation((.user, "Q"), (.assistant, "A"))
        #expect(trained(documents(try encoder(.llama3).encode(.chat(chat)))[0]) == "A<|eot_id|>")
        #expect(trained(documents(try encoder(.gemma).encode(.chat(chat)))[0]) == "A<end_of_turn>\n")
        #expect(trained(documents(try encoder(.deepseekR1).encode(.chat(chat)))[0]) == "<think>\n\n</think>\n\nA<｜end▁of▁sentence｜>")
        var alpaca = ChatTemplate.alpaca
        alpaca.eosToken = "</s>"
        #expect(trained(documents(try encoder(alpaca).encode(.chat(chat)))[0]) == "A</s>\n\n")
    }

    @Test func textRecordsAreTrainedAndEndWithTheDocumentEndToken() throws {
        let chatml = try encoder()
        #expect(chatml.documentEndToken == "<|endoftext|>")
        let d = documents(try chatml.encode(.text("plain <|im_end|> text")))[0]
        // Special-token text inside a text record stays text.
        #expect(d.ids == tokenizer.encode("plain <|im_end|> text", parseSpecial: false) + [tokenizer.tokenID("<|endoftext|>")!])
        #expect(d.mask == [false] + [Bool](repeating: true, count: d.count - 1))
        // Llama 3: BOS first, <|end_of_text|> last.
        let llama = documents(try encoder(.llama3).encode(.text("abc")))[0]
        #expect(text(llama) == "<|begin_of_text|>abc<|end_of_text|>")
        // Gemma has no <|endoftext|>: its EOS.
        #expect(text(documents(try encoder(.gemma).encode(.text("abc")))[0]) == "<bos>abc<eos>")
        // A tokenizer with none of the candidates: an error when a text record comes, not before.
        let e = try RecordEncoder(tokenizer: ByteTokenizer(specials: ["<x>"]), template: ChatTemplate.chatml.renamedForTest(), options: PackingOptions())
        #expect(e.documentEndToken == nil)
        #expect(throws: LFError.self) { try e.encode(.text("abc")) }
    }

    @Test func longTextIsCutIntoDocuments() throws {
        let e = try encoder(.llama3, PackingOptions(maxLength: 8))
        let text = "abcdefghijklmnopqrst"  // 20 bytes + BOS + end = 22 tokens
        guard case .documents(let docs, let truncated, let split) = try e.encode(.text(text)) else { Issue.record("dropped"); return }
        #expect(!truncated && split)
        #expect(docs.map(\.count) == [8, 8, 6])
        #expect(docs.map(self.text).joined() == "<|begin_of_text|>" + text + "<|end_of_text|>")
        #expect(docs.allSatisfy { $0.mask[0] == false && $0.mask.dropFirst().allSatisfy { $0 } })
        #expect(try encoder(.llama3, PackingOptions(maxLength: 8, dropLong: true)).encode(.text(text)) == .dropped(reason: "too_long"))
    }

    // MARK: Truncation

    /// A conversation of three turns of 30 tokens each after a 25-token prefix.
    static let threeTurns = conversation((.system, "sys"), (.user, "u1"), (.assistant, "answer one"), (.user, "u2"), (.assistant, "answer two"),
                                         (.user, "u3"), (.assistant, "answer three"))

    func lengths(_ template: ChatTemplate = .chatml) throws -> (prefix: Int, turns: [Int]) {
        let r = try template.render(Self.threeTurns)
        return (tokenizer.encode(r.prefix, parseSpecial: true).count,
                r.turns.map { tokenizer.encode($0.prompt + $0.response, parseSpecial: true).count })
    }

    @Test func wholeTurnsAreDroppedFromTheEnd() throws {
        let (p, t) = try lengths()
        let e = try encoder(.chatml, PackingOptions(maxLength: p + t[0] + t[1] + 3))
        guard case .documents(let docs, let truncated, _) = try e.encode(.chat(Self.threeTurns)) else { Issue.record("dropped"); return }
        #expect(truncated)
        #expect(text(docs[0]) == (try ChatTemplate.chatml.render(Array(Self.threeTurns.prefix(5))).text))
        #expect(trained(docs[0]) == "answer one<|im_end|>\n|answer two<|im_end|>\n")
        // With --drop-long the record is dropped instead.
        #expect(try encoder(.chatml, PackingOptions(maxLength: p + t[0] + t[1] + 3, dropLong: true)).encode(.chat(Self.threeTurns))
                == .dropped(reason: "too_long"))
    }

    @Test func maskHistoryKeepsTheLastTurnAndRecentHistory() throws {
        let (p, t) = try lengths()
        let e = try encoder(.chatml, PackingOptions(maxLength: p + t[1] + t[2] + 1, maskHistory: true))
        let d = documents(try e.encode(.chat(Self.threeTurns)))[0]
        let kept = conversation((.system, "sys"), (.user, "u2"), (.assistant, "answer two"), (.user, "u3"), (.assistant, "answer three"))
        #expect(text(d) == (try ChatTemplate.chatml.render(kept).text))
        #expect(trained(d) == "answer three<|im_end|>\n")
    }

    /// A first turn that alone is too long keeps the start of its prompt, its assistant header, the
    /// start of its answer and its stop suffix.
    @Test func aSingleTurnIsCutInsideKeepingHeaderAndStopToken() throws {
        let user = String(repeating: "u", count: 100), answer = String(repeating: "a", count: 100)
        let chat = conversation((.user, user), (.assistant, answer))
        let e = try encoder(.chatml, PackingOptions(maxLength: 60))
        guard case .documents(let docs, let truncated, _) = try e.encode(.chat(chat)) else { Issue.record("dropped"); return }
        #expect(truncated)
        let d = docs[0]
        #expect(d.count == 60)
        let s = text(d)
        #expect(s.hasPrefix("<|im_start|>user\nuuu"))
        #expect(s.hasSuffix("<|im_end|>\n"))
        // The header is everything the user slot writes after the message: "<|im_end|>\n<|im_start|>assistant\n".
        #expect(s.contains("uuu<|im_end|>\n<|im_start|>assistant\naaa"))
        #expect(trained(d).hasSuffix("a<|im_end|>\n"))
        #expect(trained(d).hasPrefix("aaa"))
        // infer_seqlen splits the 60 tokens in proportion: the prompt is 119 tokens, the answer 102.
        let rendered = try ChatTemplate.chatml.render(chat)
        let p = tokenizer.encode(rendered.turns[0].prompt, parseSpecial: true).count
        let r = tokenizer.encode(rendered.turns[0].response, parseSpecial: true).count
        #expect((p, r) == (119, 102))
        #expect(d.trainedCount == Int(Double(60) * 102.0 / 221.0))
    }

    @Test func turnsThatCannotBeCutAreDropped() throws {
        let chat = conversation((.user, "question"), (.assistant, "answer"))
        // One prompt token + the header, one answer token + the stop suffix is the least a turn can keep.
        let e = try encoder()
        #expect((e.headerLength, e.stopLength) == (13, 2))
        let least = 1 + 13 + 1 + 2
        #expect(try encoder(.chatml, PackingOptions(maxLength: least - 1)).encode(.chat(chat)) == .dropped(reason: "too_long_to_truncate"))
        let d = documents(try encoder(.chatml, PackingOptions(maxLength: least)).encode(.chat(chat)))
        #expect(d.first.map(text) == "<|im_start|><|im_end|>\n<|im_start|>assistant\na<|im_end|>\n")
        // A prefix that fills the budget alone.
        let long = conversation((.system, String(repeating: "s", count: 50)), (.user, "q"), (.assistant, "a"))
        #expect(try encoder(.chatml, PackingOptions(maxLength: 40)).encode(.chat(long)) == .dropped(reason: "too_long_to_truncate"))
    }

    /// LLaMA-Factory's own test cases for infer_seqlen.
    @Test func inferSeqlenMatchesLLaMAFactory() {
        let cases: [((Int, Int, Int), (Int, Int))] = [
            ((3000, 2000, 1000), (600, 400)), ((2000, 3000, 1000), (400, 600)), ((1000, 100, 1000), (900, 100)),
            ((100, 1000, 1000), (100, 900)), ((100, 500, 1000), (100, 500)), ((500, 100, 1000), (500, 100)), ((10, 10, 1000), (10, 10)),
        ]
        for ((s, t, c), expected) in cases {
            let got = RecordEncoder.inferSeqlen(source: s, target: t, cutoff: c)
            #expect(got.0 == expected.0 && got.1 == expected.1, "\((s, t, c))")
        }
    }

    @Test func aTemplateTheTokenizerCannotWriteIsRefused() throws {
        let noLlamaTokens = ByteTokenizer(specials: ["<|im_start|>", "<|im_end|>"])
        let error = #expect(throws: LFError.self) { try RecordEncoder(tokenizer: noLlamaTokens, template: .llama3, options: PackingOptions()) }
        #expect(error?.message.contains("<|start_header_id|>") == true)
        #expect(error?.hint?.contains("--template auto") == true)
        // In the vocabulary but not recognised as one token in text.
        struct Splitting: TextTokenizer {
            var inner = ByteTokenizer()
            var vocabularySize: Int { inner.vocabularySize }
            var fingerprint: String { inner.fingerprint }
            func encode(_ text: String, parseSpecial: Bool) -> [Int32] { inner.encode(text, parseSpecial: false) }
            func decode(_ ids: [Int32], skipSpecial: Bool) -> String { inner.decode(ids, skipSpecial: skipSpecial) }
            func tokenID(_ token: String) -> Int32? { inner.tokenID(token) }
        }
        let split = #expect(throws: LFError.self) { try RecordEncoder(tokenizer: Splitting(), template: .chatml, options: PackingOptions()) }
        #expect(split?.message.contains("encodes it as 12 tokens") == true)
        #expect(throws: LFError.self) { try RecordEncoder(tokenizer: tokenizer, template: .chatml, options: PackingOptions(trainOnPrompt: true, maskHistory: true)) }
        #expect(throws: LFError.self) { try RecordEncoder(tokenizer: tokenizer, template: .chatml, options: PackingOptions(maxLength: 1)) }
    }

    @Test func conversationErrorsComeThrough() throws {
        #expect(throws: ConversationError.noAssistant) { try encoder().encode(.chat(conversation((.user, "q")))) }
    }
}

extension ChatTemplate {
    /// A template without marker tokens, for a tokenizer that has none of the usual special tokens.
    func renamedForTest() -> ChatTemplate {
        ChatTemplate(name: "test", summary: "", system: "{content}", user: "{content}", assistant: "{content}",
                     documentEndCandidates: ["<|endoftext|>", "{eos}"], markerTokens: [], stopTokens: [])
    }
}
