import Foundation
import Testing
import TestSupport

/// lf-format end to end: the built binary on LLaMA-Factory's demo data and small files.
@Suite struct LFFormatToolTests {
    var datasets: String { Fixtures.shared.appendingPathComponent("corpus/datasets").path }

    func write(_ dir: URL, _ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func files(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    @Test func datasetInfoToStdout() throws {
        let r = try Tools.run("lf-format", ["--dataset-info", datasets + "/dataset_info.json", "--dataset", "alpaca_en_demo"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 985)  // 999 records, 14 exact duplicates
        #expect(lines.first?.hasPrefix(#"{"messages":[{"role":"user","content":"Describe a process of making crepes."},"#) == true)
        #expect(r.stderr.contains("rejected 14 (duplicate 14)"))
    }

    @Test func splitIntoADirectoryWithJSONSummary() throws {
        let dir = try Fixtures.temporaryDirectory("lf-format-tool")
        let out = dir.appendingPathComponent("out").path
        let args = ["--dataset-info", datasets, "--dataset", "alpaca_en_demo,glaive_toolcall_en_demo,identity",
                    "--split", "0.9,0.05,0.05", "-o", out, "--json", "--quiet"]
        let r = try Tools.run("lf-format", args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        #expect(files(URL(fileURLWithPath: out)) == ["eval.jsonl", "test.jsonl", "train.jsonl"])
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let records = summary?["records"] as? [String: Int]
        #expect(records?["read"] == 1390)
        #expect(records?["written"] == 1341)
        #expect((summary?["rejected"] as? [String: Int]) == ["duplicate": 49])
        let splits = summary?["splits"] as? [String: Int]
        #expect((splits?["train"] ?? 0) + (splits?["eval"] ?? 0) + (splits?["test"] ?? 0) == 1341)
        let sources = summary?["sources"] as? [[String: Any]]
        #expect(sources?.map { $0["name"] as? String } == ["alpaca_en_demo", "glaive_toolcall_en_demo", "identity"])
        #expect(sources?.map { $0["schema"] as? String } == ["alpaca", "sharegpt", "alpaca"])
        let characters = (summary?["lengths"] as? [String: Any])?["characters"] as? [String: Any]
        #expect(characters?["p50"] is Int && characters?["p99"] is Int)

        // Same inputs and seed: the same bytes.
        let first = try Data(contentsOf: URL(fileURLWithPath: out + "/train.jsonl"))
        let again = try Tools.run("lf-format", args)
        #expect(again.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/train.jsonl")) == first)
        try? FileManager.default.removeItem(at: dir)
    }

    @Test func invalidRecordFailsWithLocationAndLeavesNoFile() throws {
        let dir = try Fixtures.temporaryDirectory("lf-format-tool")
        let input = try write(dir, "in.jsonl", """
            {"instruction": "a", "output": "b"}
            {"instruction": "c", "output": ["not", "text"]}
            {"instruction": "d", "output": "e"}
            """)
        let train = dir.appendingPathComponent("train.jsonl").path
        let r = try Tools.run("lf-format", [input, "--train", train])
        #expect(r.status == 1)
        #expect(r.stderr.contains("in.jsonl:2 [output]: \"output\" must be a string, found a list"), "\(r.stderr)")
        #expect(r.stderr.contains("--skip-invalid"))
        #expect(files(dir) == ["in.jsonl"])  // no output, no temporary

        let rejects = dir.appendingPathComponent("rejects.jsonl").path
        let skipped = try Tools.run("lf-format", [input, "--train", train, "--skip-invalid", "--rejects", rejects])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n").count == 2)
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(rejected.contains(#""reason":"bad_record""#) && rejected.contains(#""line":2"#) && rejected.contains(#""field":"output""#))
        #expect(skipped.stderr.contains("bad_record 1"))
        try? FileManager.default.removeItem(at: dir)
    }

    @Test func stdinPipeAndCSV() throws {
        let jsonl = #"{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"hello"}]}"# + "\n"
        let r = try Tools.run("lf-format", ["-", "-q"], stdin: Data(jsonl.utf8))
        #expect(r.status == 0)
        #expect(r.stdout == #"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}"# + "\n")
        let array = try Tools.run("lf-format", ["-", "-q"], stdin: Data(#"[{"text": " a\r\ndoc "}]"#.utf8))
        #expect(array.stdout == #"{"text":"a\ndoc"}"# + "\n")
        let csv = try Tools.run("lf-format", ["-", "-q", "--input-format", "csv", "--columns", "prompt=question,response=answer"],
                                stdin: Data("question,answer\nWhy?,\"Because, that's why.\"\n".utf8))
        #expect(csv.stdout == #"{"messages":[{"role":"user","content":"Why?"},{"role":"assistant","content":"Because, that's why."}]}"# + "\n")
    }

    @Test func documentsToTextChunksAndQA() throws {
        let dir = try Fixtures.temporaryDirectory("lf-format-tool")
        let docs = try write(dir, "docs.jsonl", ##"{"id":"1","source":"a.md","format":"md","title":"A","text":"# Intro\n\nOne sentence here. Another one there.\n\n# Next\n\nMore text."}"## + "\n")
        let text = try Tools.run("lf-format", [docs, "--mode", "text", "--chunk-size", "30", "--chunk-overlap", "5", "-q"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix(#"{"text":"#) })
        let pattern = try write(dir, "pattern.json", #"{"questions": ["Explain {heading}."], "answer": "{body}"}"#)
        let qa = try Tools.run("lf-format", [docs, "--mode", "qa", "--pattern", pattern, "-q"])
        #expect(qa.stdout.split(separator: "\n").count == 2)
        #expect(qa.stdout.contains(#"{"role":"user","content":"Explain Next."},{"role":"assistant","content":"More text."}"#))
        try? FileManager.default.removeItem(at: dir)
    }

    @Test(arguments: [
        (["x.jsonl", "--split", "0.9,0.1"], "needs -o DIR"),
        (["x.jsonl", "--json"], "--json prints the summary on stdout"),
        (["x.jsonl", "--max-tokens", "10"], "need --tokenizer"),
        (["--dataset", "a"], "--dataset needs --dataset-info"),
        (["x.jsonl", "--mode", "qa"], "--pattern"),
        (["x.jsonl", "--split", "1,0", "--eval", "e.jsonl"], "gives the eval split no records"),
        (["x.jsonl", "--from", "yaml"], "--from must be"),
        (["-", "--mix", "interleave_over"], "stdin cannot"),
        ([], "at least one input"),
    ])
    func usageErrors(args: [String], message: String) throws {
        let r = try Tools.run("lf-format", args)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func tokenLimitsAndTokenChunksUseTheModelsTokenizer() throws {
        let dir = try Fixtures.temporaryDirectory("lf-format-tool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try write(dir, "d.jsonl", #"{"text":"short one"}"# + "\n" + #"{"text":"\#(String(repeating: "many words here ", count: 40))"}"# + "\n")
        let tokenizer = Fixtures.path("smollm2/tokenizer.json")
        let limited = try Tools.run("lf-format", [data, "--tokenizer", tokenizer, "--max-tokens", "20", "--json", "-o", dir.path + "/out"])
        #expect(limited.status == 0, "\(limited.stderr)")
        #expect(try String(contentsOfFile: dir.path + "/out/train.jsonl", encoding: .utf8).split(separator: "\n").count == 1)
        let sentences = (1...30).map { "Sentence number \($0) is counted with the model's own tokenizer." }.joined(separator: " ")
        let docs = try write(dir, "docs.jsonl", #"{"id":"1","source":"a.txt","format":"txt","text":"\#(sentences)"}"# + "\n")
        let chunks = try Tools.run("lf-format", [docs, "--mode", "text", "--tokenizer", tokenizer, "--chunk-unit", "tokens", "--chunk-size", "64", "--chunk-overlap", "8", "-q"])
        #expect(chunks.status == 0, "\(chunks.stderr)")
        #expect(chunks.stdout.split(separator: "\n").count > 3)
        let missing = try Tools.run("lf-format", [data, "--tokenizer", dir.path + "/no-model", "--max-tokens", "5"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no-model"))
    }

    @Test func helpTeaches() throws {
        let r = try Tools.run("lf-format", ["--help"])
        #expect(r.status == 0)
        for needle in ["--dataset-info", "interleave_under", "<tool_call>", "mmh3.hash128", "--skip-invalid", "Exit status:"] {
            #expect(r.stdout.contains(needle), "\(needle)")
        }
    }

    @Test func mixingSamplesShardsAndNearDuplicates() throws {
        let info = datasets + "/dataset_info.json"
        let mixed = try Tools.run("lf-format", ["--dataset-info", info, "--dataset", "alpaca_en_demo,identity",
                                                "--mix", "interleave_under", "--max-samples", "50", "--dedup", "none", "-q"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        let lines = mixed.stdout.split(separator: "\n")
        #expect(lines.count == 100)
        #expect(lines[1].contains("{{name}}"))  // identity's first record comes second
        let drawn = try Tools.run("lf-format", ["--dataset-info", info, "--dataset", "alpaca_en_demo,identity",
                                                "--mix", "interleave_under", "--interleave-probs", "0.9,0.1", "--dedup", "none", "-q"])
        #expect(drawn.status == 0)
        #expect(drawn.stdout.split(separator: "\n").count > 500)  // stops when identity (91) runs out

        var shards: [Substring] = []
        for i in 0..<3 {
            let r = try Tools.run("lf-format", ["--dataset-info", info, "--dataset", "identity", "--shard", "\(i)/3", "-q"])
            shards += r.stdout.split(separator: "\n")
        }
        let whole = try Tools.run("lf-format", ["--dataset-info", info, "--dataset", "identity", "-q"]).stdout.split(separator: "\n")
        #expect(shards.sorted() == whole.sorted())

        let near = try Tools.run("lf-format", ["--dataset-info", info, "--dataset", "identity", "--dedup-threshold", "0.5", "--json", "-o",
                                               try Fixtures.temporaryDirectory("lf-format-near").path])
        #expect(near.status == 0, "\(near.stderr)")
        #expect(near.stdout.contains(#""near_duplicate":"#))  // identity's answers are templates of each other
    }

    @Test func missingInputIsAnIOError() throws {
        let r = try Tools.run("lf-format", ["/nonexistent/data.jsonl"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/data.jsonl"))
    }
}
