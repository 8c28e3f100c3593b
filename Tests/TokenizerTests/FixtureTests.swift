import Foundation
import Shared
import Testing
import TestSupport

/// Layer (a) of STYLE.md #13: every tokenizer in ../shared/fixtures/tokenizers against the ids and
/// texts HF tokenizers produced, on all 2,000 corpus lines and the special-token lines.
@Suite struct FixtureTests {
    static let names = ["smollm2", "gpt2_bpe", "llama3_bpe", "qwen2_bpe", "o200k_bpe", "spm_llama"]

    static func tokenizer(_ name: String) throws -> Tokenizer {
        let path = name == "smollm2" ? Fixtures.path("smollm2/tokenizer.json") : Fixtures.path("tokenizers/\(name)/tokenizer.json")
        return try Tokenizer(path: path)
    }

    static func records(_ name: String, _ file: String) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        try JSONLReader(path: Fixtures.path("tokenizers/\(name)/\(file)")).forEachObject { _, o in out.append(o) }
        return out
    }

    static func ids(_ value: Any?) -> [Int32] { (value as? [Int] ?? []).map { Int32($0) } }

    @Test(arguments: names)
    func corpusIDsAndDecodingAreExact(name: String) throws {
        let t = try Self.tokenizer(name)
        var wrongIDs: [(Int, String, [Int32], [Int32])] = []
        var wrongText: [(Int, String, String)] = []
        let rows = try Self.records(name, "expected.jsonl")
        #expect(rows.count == 2000)
        for (i, row) in rows.enumerated() {
            let text = row["text"] as! String
            let want = Self.ids(row["ids"])
            let got = t.encode(text, parseSpecial: true)
            if got != want { wrongIDs.append((i + 1, text, got, want)) }
            let decoded = t.decode(want, skipSpecial: false)
            if decoded != row["decoded"] as! String { wrongText.append((i + 1, decoded, row["decoded"] as! String)) }
        }
        for (line, text, got, want) in wrongIDs.prefix(3) {
            Issue.record("\(name) line \(line) \(text.debugDescription):\n got  \(got)\n want \(want)")
        }
        for (line, got, want) in wrongText.prefix(3) {
            Issue.record("\(name) line \(line) decode:\n got  \(got.debugDescription)\n want \(want.debugDescription)")
        }
        #expect(wrongIDs.isEmpty, "\(name): \(wrongIDs.count) of \(rows.count) lines encode differently")
        #expect(wrongText.isEmpty, "\(name): \(wrongText.count) of \(rows.count) lines decode differently")
    }

    @Test(arguments: names)
    func specialTokensAreRecognisedOnlyWhenAsked(name: String) throws {
        let t = try Self.tokenizer(name)
        for row in try Self.records(name, "special.jsonl") {
            let text = row["text"] as! String
            #expect(t.encode(text, parseSpecial: true) == Self.ids(row["ids"]), "\(name) \(text.debugDescription) ids")
            #expect(t.encode(text, parseSpecial: true, addSpecialTokens: true) == Self.ids(row["ids_add_special_tokens"]),
                    "\(name) \(text.debugDescription) with special tokens added")
            #expect(t.encode(text, parseSpecial: false) == Self.ids(row["ids_specials_as_text"]),
                    "\(name) \(text.debugDescription) specials as text")
            let ids = Self.ids(row["ids"])
            #expect(t.decode(ids, skipSpecial: false) == row["decoded"] as? String, "\(name) \(text.debugDescription) decoded")
            #expect(t.decode(ids, skipSpecial: true) == row["decoded_skip_special"] as? String, "\(name) \(text.debugDescription) decoded, skipping specials")
        }
    }
}
