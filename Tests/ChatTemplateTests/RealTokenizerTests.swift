import Foundation
import Shared
import Testing
import TestSupport

/// Checks of templates and packing with the real tokenizer (tokenizer.json → `Tokenizer`).
enum RealTokenizer {
    static func load(_ directory: String) throws -> any TextTokenizer {
        try Tokenizer(path: directory)
    }
}

@Suite struct RealTokenizerTests {
    /// The SmolLM2 reference prompts (transformers' apply_chat_template with add_generation_prompt,
    /// tokenized) are what `auto` + the chatml template + the tokenizer give.
    @Test
    func smolLM2ReferencePromptIDs() throws {
        let dir = Fixtures.path("smollm2")
        let tokenizer = try RealTokenizer.load(dir)
        let template = try ChatTemplate.resolve("auto", config: try TokenizerConfig.load(modelDirectory: dir)).template
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/reference_generation.json"))) as? [String: Any]
        let generations = try #require(reference?["generations"] as? [[String: Any]])
        #expect(generations.count == 3)
        for generation in generations {
            let question = try #require(generation["question"] as? String)
            let expected = try #require(generation["prompt_ids"] as? [Int]).map(Int32.init)
            let rendered = try template.render([ChatMessage(role: .user, content: question)], addGenerationPrompt: true)
            #expect(rendered.segments.flatMap { tokenizer.encode($0.text, parseSpecial: true) } == expected, "\(question)")
            #expect(tokenizer.encode(rendered.text, parseSpecial: true) == expected)
        }
    }

    /// With a byte-level BPE tokenizer, encoding the segments one by one gives the ids of the whole
    /// text for ChatML conversations (boundaries sit next to special tokens or after a newline),
    /// on both fixture tokenizers, for conversations made of corpus lines.
    @Test(arguments: ["smollm2", "models/tiny-chat"])
    func segmentedEncodingEqualsWholeText(model: String) throws {
        let dir = Fixtures.path(model)
        let tokenizer = try RealTokenizer.load(dir)
        let template = try ChatTemplate.resolve("auto", config: try TokenizerConfig.load(modelDirectory: dir)).template
        let corpus = try String(contentsOfFile: Fixtures.path("tokenizers/corpus.jsonl"), encoding: .utf8)
        let texts = corpus.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], let text = object["text"] else { return nil }
            // A message that starts or ends with whitespace can merge with the template's newline
            // in the whole text; templates do not write such messages from lf-format's output.
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty || trimmed != text ? nil : text
        }
        #expect(texts.count > 500)
        var checked = 0
        for i in stride(from: 0, to: texts.count - 3, by: 4) {
            let chat = [ChatMessage(role: .user, content: texts[i]), ChatMessage(role: .assistant, content: texts[i + 1]),
                        ChatMessage(role: .user, content: texts[i + 2]), ChatMessage(role: .assistant, content: texts[i + 3])]
            let rendered = try template.render(chat)
            let segmented = rendered.segments.flatMap { tokenizer.encode($0.text, parseSpecial: true) }
            #expect(segmented == tokenizer.encode(rendered.text, parseSpecial: true), "conversation from corpus lines \(i)…\(i + 3)")
            checked += 1
        }
        #expect(checked > 100)
    }

    /// A pack of tiny-chat data reads back and decodes to the rendered conversations, the trained
    /// runs to the answers with their stop suffix.
    @Test
    func packWithTinyChatDecodesBack() throws {
        let dir = Fixtures.path("models/tiny-chat")
        let tokenizer = try RealTokenizer.load(dir)
        let template = try ChatTemplate.resolve("auto", config: try TokenizerConfig.load(modelDirectory: dir)).template
        let out = try Fixtures.temporaryDirectory("lf-real-pack")
        let input = out.appendingPathComponent("train.jsonl")
        let chats = (0 ..< 20).map { conversation((.user, "What is \($0) + \($0)?"), (.assistant, "It is \($0 + $0).")) }
        var lines: [String] = []
        for chat in chats { lines.append(String(decoding: try JSONEncoder().encode(DatasetRecord.chat(chat)), as: UTF8.self)) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
        let encoder = try RecordEncoder(tokenizer: tokenizer, template: template, options: PackingOptions(maxLength: 256, shuffle: false))
        try Packer(encoder: encoder).run(inputs: [input.path], output: out.appendingPathComponent("shards").path,
                                         tokenizerFingerprint: tokenizer.fingerprint, vocabularySize: tokenizer.vocabularySize)
        let reader = try ShardReader(directory: out.appendingPathComponent("shards").path)
        try reader.checkTokenizer(tokenizer)
        for (i, chat) in chats.enumerated() {
            let s = try reader.sequence(i)
            #expect(tokenizer.decode(s.ids, skipSpecial: false) == (try template.render(chat).text))
            let trained = zip(s.ids, s.mask).filter(\.1).map(\.0)
            #expect(tokenizer.decode(trained, skipSpecial: false) == "It is \(i + i).<|im_end|>\n")
        }
    }
}
