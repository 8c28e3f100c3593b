import Foundation
@testable import Shared
import Testing

@Suite struct JSONParserTests {
    @Test func valuesKeepKeyOrder() throws {
        let v = try JSONParser.parse(#" {"b": 1, "a": [true, false, null, -1.5e2, "x"], "c": {}} "#)
        guard case .object(let entries) = v else { Issue.record("not an object"); return }
        #expect(entries.map(\.0) == ["b", "a", "c"])
        #expect(v["b"] == .int(1))
        #expect(v["a"] == .array([.bool(true), .bool(false), .null, .double(-150), .string("x")]))
        #expect(v["c"] == .object([]))
    }

    @Test func escapesAndSurrogates() throws {
        let v = try JSONParser.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00 é""#)
        #expect(v == .string("a\"b\\c/d\n\té😀 é"))
    }

    @Test func duplicateKeysLastWins() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#)["a"] == .int(2))
    }

    @Test(arguments: [
        (#"{"a":1,}"#, 8, "expected a string key"),
        (#"[1,2"#, 5, "unexpected end of input"),
        (#""\ud800x""#, 8, "lone surrogate"),
        ("\"a\u{01}b\"", 3, "control character"),
        (#"{"a":1} x"#, 9, "unexpected text after"),
        (#"{"a":tru}"#, 6, "invalid literal"),
        (#"[01]"#, 3, "expected ',' or ']'"),
        (#""abc"#, 5, "unterminated string"),
    ])
    func errorsNameTheColumn(input: String, column: Int, message: String) {
        do {
            _ = try JSONParser.parse(input)
            Issue.record("\(input) parsed")
        } catch let error as JSONParseError {
            #expect(error.column == column, "\(input): \(error)")
            #expect(error.message.contains(message), "\(input): \(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func invalidUTF8IsAnError() {
        let bytes: [UInt8] = Array(#"{"a":"x"#.utf8) + [0xFF, 0x22, 0x7D]
        #expect(throws: JSONParseError.self) { try bytes.withUnsafeBytes { try JSONParser.parse($0) } }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    /// Every record of LLaMA-Factory's demo files parses to what JSONSerialization reads.
    @Test func agreesWithFoundationOnTheCorpus() throws {
        for name in ["alpaca_en_demo.json", "alpaca_zh_demo.json", "glaive_toolcall_en_demo.json", "dpo_en_demo.json"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: DatasetFixtures.datasets + "/" + name))
            let mine = try JSONParser.parse(data)
            let theirs = try JSONValue(any: JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
            #expect(mine == theirs, "\(name)")
        }
    }

    @Test func canonicalEncodingRoundTrips() throws {
        let record = DatasetRecord.chat([
            ChatMessage(role: .system, content: "be \"brief\" \\ ok"),
            ChatMessage(role: .user, content: "tab\there\nline\u{7F}\u{01} / é 中"),
            ChatMessage(role: .assistant, content: "fine"),
        ])
        let line = String(decoding: CanonicalEncoding.encode(record), as: UTF8.self)
        #expect(line.hasPrefix(#"{"messages":[{"role":"system","content":"be \"brief\" \\ ok"}"#))
        #expect(line.contains(#"tab\there\nline\u007f\u0001 / é 中"#))
        let decoded = try JSONDecoder().decode(DatasetRecord.self, from: Data(line.utf8))
        #expect(decoded == record)
        #expect(String(decoding: CanonicalEncoding.encode(.text("x")), as: UTF8.self) == #"{"text":"x"}"#)
    }
}
