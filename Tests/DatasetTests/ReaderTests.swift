import Foundation
@testable import Shared
import Testing

@Suite struct ReaderTests {
    func items(_ name: String, _ contents: String, format: InputFormat = .auto, chunk: Int = 16) throws -> [SourceItem] {
        let path = try DatasetFixtures.temporaryFile(name, contents)
        return try RecordSources.readAll(RecordSources.open(path, format: format, chunkSize: chunk))
    }

    func lines(_ items: [SourceItem]) -> [Int] {
        items.map { item -> Int in
            switch item {
            case .record(let r): return r.location.line
            case .malformed(let m): return -m.location.line
            }
        }
    }

    @Test func jsonLinesWithBOMCRLFBlankAndBadLines() throws {
        let text = "\u{FEFF}{\"text\":\"a\"}\r\n\r\n   \n{\"text\": \"b\"}\n{bad\n{\"text\":\"long " + String(repeating: "x", count: 100) + "\"}"
        let got = try items("a.jsonl", text)
        #expect(lines(got) == [1, 4, -5, 6])
        guard case .malformed(let bad) = got[2] else { Issue.record("expected malformed"); return }
        #expect(bad.message.contains("column 2"))
        #expect(bad.text == "{bad")
        guard case .record(let last) = got[3] else { return }
        #expect(last.location.record == 4)
    }

    @Test func jsonArrayIsStreamedAcrossChunks() throws {
        let text = """
            [
              {"instruction": "a", "output": "x ] } ,"},
              {"instruction": "b\\"", "output": "y"},
              {"instruction": 1 2},
              "scalar", 3
            ]

            """
        let got = try items("a.json", text, chunk: 16)
        #expect(lines(got) == [2, 3, -4, 5, 5])
        guard case .record(let first) = got[0] else { return }
        #expect(first.value["output"] == .string("x ] } ,"))
        guard case .record(let second) = got[1] else { return }
        #expect(second.value["instruction"] == .string("b\""))
        guard case .record(let last) = got[4] else { return }
        #expect(last.value == .int(3))
    }

    @Test(arguments: [
        ("[{\"a\":1},]", "trailing comma"),
        ("[{\"a\":1}", "unterminated JSON array"),
        ("[{\"a\":1}] x", "after the closing"),
        ("", "empty"),
    ])
    func brokenArraysStopWithTheLine(text: String, message: String) throws {
        // `.json` with content that does not start with `[` is read as JSON Lines; force the array.
        let path = try DatasetFixtures.temporaryFile("b.json", text)
        let source = JSONArraySource(input: try ByteInput(path: path, chunkSize: 16))
        do {
            _ = try RecordSources.readAll(source)
            Issue.record("no error for \(text)")
        } catch let error as LFError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.location?.line == 1)
        }
    }

    @Test func emptyArrayHasNoRecords() throws {
        #expect(try items("e.json", "  [ ]\n").isEmpty)
    }

    @Test func csvWithQuotesAndLineBreaks() throws {
        let text = "question,answer\r\n\"What is \"\"x\"\"?\",\"line one\nline two\"\nplain,\"a, b\"\n\nshort\n"
        let got = try items("q.csv", text, chunk: 16)
        #expect(lines(got) == [2, 4, -6])
        guard case .record(let first) = got[0] else { return }
        #expect(first.value["question"] == .string("What is \"x\"?"))
        #expect(first.value["answer"] == .string("line one\nline two"))
        guard case .record(let second) = got[1] else { return }
        #expect(second.value == .object([("question", .string("plain")), ("answer", .string("a, b"))]))
        guard case .malformed(let bad) = got[2] else { return }
        #expect(bad.message.contains("1 cells, the header has 2"))
    }

    @Test func tsvAndText() throws {
        let tsv = try items("t.tsv", "instruction\toutput\nhi\tthere\n")
        guard case .record(let r) = tsv[0] else { Issue.record("no record"); return }
        #expect(r.value["output"] == .string("there"))
        let txt = try items("t.txt", "first line\n\n  \nsecond\n")
        #expect(try txt.map { item -> JSONValue in
            guard case .record(let r) = item else { throw LFError("malformed") }
            return r.value
        } == [.object([("text", .string("first line"))]), .object([("text", .string("second"))])])
        #expect(lines(txt) == [1, 4])
    }

    @Test func rewindStartsOver() throws {
        let path = try DatasetFixtures.temporaryFile("r.json", #"[{"a":1},{"a":2}]"#)
        let source = try RecordSources.open(path, chunkSize: 8)
        let first = try DatasetFixtures.values(source)
        try source.rewind()
        #expect(try DatasetFixtures.values(source) == first)
        #expect(first.count == 2)
    }

    @Test func corpusFilesReadWhole() throws {
        for (name, count) in [("alpaca_en_demo.json", 999), ("glaive_toolcall_en_demo.json", 300), ("identity.json", 91)] {
            let source = try RecordSources.open(DatasetFixtures.datasets + "/" + name, chunkSize: 4096)
            #expect(try DatasetFixtures.values(source).count == count, "\(name)")
        }
    }
}
