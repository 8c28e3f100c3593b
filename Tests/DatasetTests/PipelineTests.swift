import Foundation
@testable import Shared
import Testing

@Suite struct PipelineTests {
    func input(_ name: String, _ lines: [String], spec: SchemaSpec? = nil) throws -> FormatInput {
        let path = try DatasetFixtures.temporaryFile(name, lines.joined(separator: "\n") + "\n")
        return FormatInput(name: path, source: try RecordSources.open(path), spec: spec)
    }

    let good = [
        #"{"instruction":"Say hi","input":"","output":"Hi!"}"#,
        #"{"instruction":"Say hi","input":"","output":"Hi!  "}"#,
        #"{"instruction":"Add","input":"2+2","output":""}"#,
        #"{"instruction":"Count","input":"","output":"one two three"}"#,
    ]

    @Test func convertsCleansAndRejectsByReason() throws {
        var options = FormatOptions()
        options.rules.maxChars = 15
        let (lines, rejects, summary) = try DatasetFixtures.run([try input("a.jsonl", good)], options)
        #expect(lines[.train] == [
            #"{"messages":[{"role":"user","content":"Say hi"},{"role":"assistant","content":"Hi!"}]}"# + "\n",
        ])
        #expect(summary.read == 4)
        #expect(summary.rejected == [.duplicate: 1, .emptyTurn: 1, .tooLong: 1])
        #expect(summary.sources[0].schema == "alpaca")
        try #require(rejects.count == 3)
        let parsed = try rejects.map { try JSONParser.parse($0) }
        #expect(parsed.map { $0["reason"] } == [.string("duplicate"), .string("empty_turn"), .string("too_long")])
        #expect(parsed[0]["line"] == .int(2))
        #expect(parsed[2]["record"]?["messages"] != nil)
        let json = summary.json().serialized(pretty: false)
        #expect(json.contains(#""rejected":{"duplicate":1,"empty_turn":1,"too_long":1}"#), "\(json)")
        #expect(json.contains(#""splits":{"train":1}"#))
    }

    @Test func invalidRecordStopsWithFileLineAndField() throws {
        let bad = try input("bad.jsonl", good + [#"{"instruction":"x","output":5}"#])
        do {
            _ = try DatasetFixtures.run([bad], FormatOptions())
            Issue.record("no error")
        } catch let error as LFError {
            #expect(error.location?.line == 5)
            #expect(error.location?.field == "output")
            #expect(error.description.contains("bad.jsonl:5 [output]: \"output\" must be a string"))
            #expect(error.description.contains("--skip-invalid"))
        }
    }

    @Test func skipInvalidCountsAndKeeps() throws {
        var options = FormatOptions()
        options.skipInvalid = true
        let bad = try input("bad.jsonl", ["{oops", #"{"instruction":"x","output":5}"#, good[0]])
        let (lines, rejects, summary) = try DatasetFixtures.run([bad], options)
        #expect(lines[.train]?.count == 1)
        #expect(summary.rejected == [.malformedJSON: 1, .badRecord: 1])
        #expect(rejects[0].contains(#""text":"{oops""#))
        #expect(rejects[1].contains(#""field":"output""#))
    }

    @Test func unknownSchemaIsInvalid() throws {
        let odd = try input("odd.jsonl", [#"{"question":"q","answer":"a"}"#])
        #expect(throws: LFError.self) { try DatasetFixtures.run([odd], FormatOptions()) }
        var spec = SchemaSpec(schema: .alpaca)
        try spec.columns.apply([("prompt", "question"), ("response", "answer")])
        let mapped = try input("odd.jsonl", [#"{"question":"q","answer":"a"}"#], spec: spec)
        #expect(try DatasetFixtures.run([mapped], FormatOptions()).lines[.train]?.count == 1)
    }

    @Test func splitIsStableWhenDataIsAppended() throws {
        var options = FormatOptions()
        options.ratios = SplitRatios(train: 0.5, eval: 0.3, test: 0.2)
        let records = (0..<300).map { #"{"text":"document number \#($0)"}"# }
        let small = try DatasetFixtures.run([try input("s.jsonl", Array(records[0..<200]))], options).lines
        let large = try DatasetFixtures.run([try input("l.jsonl", records.reversed())], options).lines
        for split in SplitName.allCases {
            #expect(Set(small[split] ?? []).isSubset(of: Set(large[split] ?? [])), "\(split)")
            #expect((small[split] ?? []).count > 20)
        }
        options.seed = 43
        let reseeded = try DatasetFixtures.run([try input("s.jsonl", Array(records[0..<200]))], options).lines
        #expect(reseeded[.eval] != small[.eval])
    }

    @Test func shardsCoverTheDataOnce() throws {
        let records = (0..<100).map { #"{"text":"doc \#($0)"}"# }
        var all: [String] = []
        for i in 0..<4 {
            var options = FormatOptions()
            options.shard = Shard(index: i, count: 4)
            let result = try DatasetFixtures.run([try input("d.jsonl", records)], options)
            all += result.lines[.train] ?? []
            #expect(result.summary.otherShard + result.summary.totalWritten == 100)
        }
        #expect(all.count == 100 && Set(all).count == 100)
    }

    @Test func toolUseRejectedOnRequest() throws {
        let glaive = FormatInput(name: "glaive", source: try RecordSources.open(DatasetFixtures.datasets + "/glaive_toolcall_en_demo.json"),
                                 spec: SchemaSpec(schema: .sharegpt))
        var options = FormatOptions()
        options.toolPolicy = .reject
        let summary = try DatasetFixtures.run([glaive], options).summary
        #expect(summary.rejected[.toolUse] ?? 0 > 150)
        #expect(summary.totalWritten + summary.totalRejected == 300)
    }

    @Test func nearDuplicatesAndTokensInTheSummary() throws {
        var options = FormatOptions()
        options.dedup = .near(0.7)
        options.tokenizer = PairTokenizer()
        options.rules.maxTokens = 100
        let base = "The quick brown fox jumps over the lazy dog near the river bank in the morning light"
        let lines = [
            #"{"text":"\#(base)"}"#,
            #"{"text":"\#(base.replacingOccurrences(of: "quick", with: "fast"))"}"#,
            #"{"text":"Completely unrelated sentence about databases and indexes"}"#,
            #"{"text":"\#(String(repeating: "long ", count: 60))"}"#,
        ]
        let summary = try DatasetFixtures.run([try input("t.jsonl", lines)], options).summary
        #expect(summary.rejected == [.nearDuplicate: 1, .tooManyTokens: 1])
        #expect(summary.tokens?.count == 2)
        #expect(summary.tokens?.maximum == (base.unicodeScalars.count + 1) / 2)
        #expect(summary.json().serialized(pretty: false).contains(#""tokens":{"count":2"#))
    }

    @Test func documentsToChunksAndQuestions() throws {
        let doc = ##"{"id":"x","source":"manual.md","format":"md","title":"Manual","text":"# Setup\n\nPlug it in. Turn it on.\n\n# Use\n\nPress the button."}"##
        var options = FormatOptions()
        options.mode = .text(DocumentChunker(size: 20, overlap: 0, unit: .characters))
        let chunks = try DatasetFixtures.run([try input("docs.jsonl", [doc])], options)
        // Paragraphs are packed while they fit in 20 characters; the long one is cut between sentences.
        #expect(chunks.lines[.train] == [#"# Setup\n\nPlug it in."#, #"Turn it on.\n\n# Use"#, "Press the button."].map { #"{"text":"\#($0)"}"# + "\n" })
        #expect(chunks.summary.documents == 1)
        options.mode = .qa(QAPattern(questions: ["How do I {heading}?"]))
        let qa = try DatasetFixtures.run([try input("docs.jsonl", [doc])], options)
        #expect(qa.lines[.train]?.first == #"{"messages":[{"role":"user","content":"How do I Setup?"},{"role":"assistant","content":"Plug it in. Turn it on."}]}"# + "\n")
        options.mode = .text(DocumentChunker(size: 20, overlap: 0, unit: .characters))
        let chat = try input("chat.jsonl", [#"{"instruction":"a","output":"b"}"#])
        #expect(throws: LFError.self) { try DatasetFixtures.run([chat], options) }
    }

    @Test func llamaFactoryDemoData() throws {
        let entries = try DatasetInfo.load(path: DatasetFixtures.datasets, names: ["alpaca_en_demo", "identity"])
        let inputs = try entries.map { FormatInput(name: $0.name, source: try RecordSources.open($0.files[0]), spec: $0.spec) }
        var options = FormatOptions()
        options.ratios = SplitRatios(train: 0.9, eval: 0.1, test: 0)
        let (lines, _, summary) = try DatasetFixtures.run(inputs, options)
        #expect(summary.sources.map(\.read) == [999, 91])
        #expect(summary.rejected == [.duplicate: 14])
        #expect((lines[.train]?.count ?? 0) + (lines[.eval]?.count ?? 0) == 1076)
        for line in (lines[.train] ?? []) + (lines[.eval] ?? []) {
            _ = try JSONDecoder().decode(DatasetRecord.self, from: Data(line.utf8))
        }
        #expect(summary.characters.percentile(50) ?? 0 > 100)
    }
}
