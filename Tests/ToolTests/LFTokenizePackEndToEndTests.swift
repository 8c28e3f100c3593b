import Foundation
import Shared
import Testing
import TestSupport

/// lf-tokenize pack → stats → cat with the fixtures' real tokenizers.
@Suite struct LFTokenizePackEndToEndTests {
    let dir: URL
    let model = Fixtures.path("models/tiny-chat")

    init() throws { dir = try Fixtures.temporaryDirectory("lf-tokenize-e2e") }

    func input() throws -> String {
        var lines: [String] = []
        for i in 0 ..< 40 {
            lines.append(#"{"messages":[{"role":"user","content":"What is \#(i) plus \#(i)?"},{"role":"assistant","content":"It is \#(2 * i)."}]}"#)
        }
        lines.append(#"{"text":"Plain text for continued pre-training."}"#)
        let path = dir.appendingPathComponent("train.jsonl").path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func packStatsCat() throws {
        let data = try input()
        let out = dir.appendingPathComponent("shards").path
        let pack = try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, "--max-len", "256", "--packing", "--seed", "1", "-o", out, data])
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(pack.stdout.isEmpty)
        #expect(pack.stderr.contains("template chatml (auto: SmolLM2's ChatML template"))
        #expect(pack.stderr.contains("packed 41 records (40 chat, 1 text)"))

        let stats = try Tools.run("lf-tokenize", ["stats", "--verify", out])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("41 read: 40 chat, 1 text"))

        let cat = try Tools.run("lf-tokenize", ["cat", "--tokenizer", model, out])
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdout.contains("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 3 plus 3?<|im_end|>\n"
                                    + "<|im_start|>assistant\n⟦It is 6.<|im_end|>\n⟧"))
        // A text record: all trained but its first token, ending with <|endoftext|>.
        #expect(cat.stdout.contains(" continued pre-training.<|endoftext|>⟧"))

        let json = try Tools.run("lf-tokenize", ["cat", "--json", out])
        let first = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: "\n")[0].utf8)) as? [String: Any])
        #expect((first["ids"] as? [Int])?.count == (first["mask"] as? [Int])?.count)
        #expect((first["boundaries"] as? [Int])?.first == 0)
    }

    @Test func sameInputsSameBytes() throws {
        let data = try input()
        for name in ["a", "b"] {
            let r = try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, "--packing", "-o", dir.appendingPathComponent(name).path, data])
            #expect(r.status == 0, "\(r.stderr)")
        }
        for name in ["manifest.json", "shard-00000.zst"] {
            #expect(try Data(contentsOf: dir.appendingPathComponent("a/" + name)) == (try Data(contentsOf: dir.appendingPathComponent("b/" + name))))
        }
    }

    @Test func jsonSummaryAndStdin() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: try input()))
        let out = dir.appendingPathComponent("stdin").path
        let r = try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, "--json", "-o", out, "-"], stdin: data)
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try ShardManifest(json: try JSONValue(parsing: r.stdoutData), file: "<stdout>")
        #expect(manifest.counts.records == 41)
        #expect(manifest == (try ShardReader(directory: out).manifest))
    }

    @Test func invalidRecordNamesFileAndLine() throws {
        let path = dir.appendingPathComponent("bad.jsonl").path
        try Data("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n".utf8).write(to: URL(fileURLWithPath: path))
        let r = try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, "-o", dir.appendingPathComponent("o").path, path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(path):1 [messages]: the conversation has no assistant message"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
    }

    @Test func catRefusesAnotherModelsTokenizer() throws {
        let out = dir.appendingPathComponent("shards").path
        #expect(try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, "-o", out, try input()]).status == 0)
        let r = try Tools.run("lf-tokenize", ["cat", "--tokenizer", Fixtures.path("smollm2"), out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("different tokenizer"))
    }
}
