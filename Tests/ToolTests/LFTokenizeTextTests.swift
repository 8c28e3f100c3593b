import Foundation
import Shared
import Testing
import TestSupport

/// lf-tokenize encode / decode / count / train as scripts use them.
@Suite struct LFTokenizeTextTests {
    static let smollm = Fixtures.path("smollm2/tokenizer.json")

    @Test func encodeLinesGivesHFIds() throws {
        let r = try Tools.run("lf-tokenize", ["encode", "-t", Self.smollm], stdin: Data("The quick brown fox jumps over the lazy dog.\r\n<|im_start|>user\n".utf8))
        #expect(r.status == 0)
        #expect(r.stdout == "504 2365 6354 16438 27003 690 260 23790 2767 30\n1 4093\n")
    }

    @Test func encodeNoSpecialAndTokensAndJSON() throws {
        let noSpecial = try Tools.run("lf-tokenize", ["encode", "-t", Self.smollm, "--no-special"], stdin: Data("<|im_end|>".utf8))
        #expect(noSpecial.stdout == "44 108 306 79 486 108 46\n")
        let tokens = try Tools.run("lf-tokenize", ["encode", "-t", Self.smollm, "--tokens"], stdin: Data("Hello world".utf8))
        #expect(tokens.stdout == "Hello Ġworld\n")
        let json = try Tools.run("lf-tokenize", ["encode", "-t", Self.smollm, "--json", "--jobs", "1"], stdin: Data("Hi".utf8))
        let object = try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any]
        #expect(object?["ids"] as? [Int] == [26843])  // HF tokenizers: [26843]
    }

    @Test func decodeAcceptsSpacesCommasJSONAndEncodeOutput() throws {
        let input = "504 2365 6354\n504,2365\n[1, 4093, 2]\n{\"ids\": [30]}\n"
        let r = try Tools.run("lf-tokenize", ["decode", "-t", Self.smollm], stdin: Data(input.utf8))
        #expect(r.status == 0)
        #expect(r.stdout == "The quick brown\nThe quick\n<|im_start|>user<|im_end|>\n.\n")
        let skip = try Tools.run("lf-tokenize", ["decode", "-t", Self.smollm, "--skip-special", "--json"], stdin: Data("[1, 4093, 198, 2]\n".utf8))
        #expect(skip.stdout == "{\"text\":\"user\\n\"}\n")
    }

    @Test func decodeRejectsBadIdsNamingTheLine() throws {
        let r = try Tools.run("lf-tokenize", ["decode", "-t", Self.smollm], stdin: Data("1 2\n3 x 4\n".utf8))
        #expect(r.status == 1)
        #expect(r.stderr.contains("<stdin>:2"))
        let big = try Tools.run("lf-tokenize", ["decode", "-t", Self.smollm], stdin: Data("99999999\n".utf8))
        #expect(big.status == 1)
        #expect(big.stderr.contains("outside the vocabulary"))
    }

    @Test func countPerRecordTotalAndJSON() throws {
        let jsonl = "{\"text\":\"Hello world\"}\n{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello\"}]}\n"
        let each = try Tools.run("lf-tokenize", ["count", "-t", Self.smollm, "--jsonl"], stdin: Data(jsonl.utf8))
        #expect(each.stdout == "2\n3\n")
        #expect(each.stderr.contains("2 records, 5 tokens"))
        let total = try Tools.run("lf-tokenize", ["count", "-t", Self.smollm, "--jsonl", "--total"], stdin: Data(jsonl.utf8))
        #expect(total.stdout == "5\n")
        let summary = try Tools.run("lf-tokenize", ["count", "-t", Self.smollm, "--jsonl", "--json"], stdin: Data(jsonl.utf8))
        let object = try JSONSerialization.jsonObject(with: summary.stdoutData) as? [String: Any]
        #expect(object?["tokens"] as? Int == 5 && object?["max"] as? Int == 3)
    }

    @Test func missingFieldIsNamed() throws {
        let r = try Tools.run("lf-tokenize", ["count", "-t", Self.smollm, "--jsonl"], stdin: Data("{\"text\":\"a\"}\n{\"prompt\":\"b\"}\n".utf8))
        #expect(r.status == 1)
        #expect(r.stderr.contains("<stdin>:2") && r.stderr.contains("\"text\""))
    }

    @Test func unknownTokenizerComponentExits1WithItsPath() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tokenizer.json").path
        try Data(#"{"model":{"type":"Unigram","vocab":[]}}"#.utf8).write(to: URL(fileURLWithPath: path))
        let r = try Tools.run("lf-tokenize", ["encode", "-t", dir.path], stdin: Data("x".utf8))
        #expect(r.status == 1)
        #expect(r.stderr.contains("[model.type]") && r.stderr.contains("Unigram"))
    }

    @Test func trainWritesATokenizerThatRoundTrips() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var corpus = ""
        try JSONLReader(path: Fixtures.path("tokenizers/corpus.jsonl")).forEachObject { _, o in corpus += (o["text"] as! String) + "\n" }
        try Data(corpus.utf8).write(to: dir.appendingPathComponent("corpus.txt"))
        let r = try Tools.run("lf-tokenize", ["train", "--vocab-size", "600", "--pre", "llama3", "--special", "<|eot|>",
                                              dir.path + "/corpus.txt", "-o", dir.path, "--json"])
        #expect(r.status == 0)
        let summary = try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any]
        #expect(summary?["vocab_size"] as? Int == 600)
        let sample = "Fine-tuning a 135M-parameter model on a laptop<|eot|>"
        let enc = try Tools.run("lf-tokenize", ["encode", "-t", dir.path], stdin: Data(sample.utf8))
        let dec = try Tools.run("lf-tokenize", ["decode", "-t", dir.path], stdin: enc.stdoutData)
        #expect(dec.stdout == sample + "\n")
        #expect(enc.stdout.hasSuffix(" 0\n"))  // <|eot|> is id 0
    }

    @Test func trainRefusesBadOptions() throws {
        #expect(try Tools.run("lf-tokenize", ["train", "--vocab-size", "100", "-o", "/tmp/x.json", "f.txt"]).status == 2)
        #expect(try Tools.run("lf-tokenize", ["train", "--vocab-size", "1000", "--pre", "bert", "-o", "/tmp/x.json", "f.txt"]).status == 2)
    }
}
