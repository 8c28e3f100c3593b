import Foundation
import Shared
import Testing
import TestSupport

/// A tokenizer.json lf cannot follow exactly is refused with the JSON path of the component.
@Suite struct TokenizerErrorTests {
    /// The smollm2 tokenizer.json with one part replaced (a tiny vocabulary keeps it fast).
    static func tokenizerJSON(_ edit: (inout [String: Any]) -> Void) -> Data {
        var t: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": [],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(), "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"]]],
        ]
        edit(&t)
        return try! JSONSerialization.data(withJSONObject: t)
    }

    func failure(_ data: Data) -> LFError? {
        #expect(throws: LFError.self) { _ = try Tokenizer(data: data, source: "tok.json") }
    }

    @Test func baseline() throws {
        let t = try Tokenizer(data: Self.tokenizerJSON { _ in }, source: "tok.json")
        #expect(t.encode("abab a", parseSpecial: true) == [2, 2, 0])  // the space has no token: dropped, as HF does
        #expect(t.decode([2, 0], skipSpecial: false) == "aba")
    }

    @Test func unknownNormalizerNamesItsPath() {
        let e = failure(Self.tokenizerJSON { $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Precompiled"]]] })
        #expect(e?.location?.field == "normalizer.normalizers[1].type")
        #expect(e?.message.contains("\"Precompiled\"") == true)
        #expect(e?.hint?.contains("NFKC") == true)
        #expect(e?.location?.file == "tok.json")
    }

    @Test func unknownPreTokenizerInASequence() {
        let e = failure(Self.tokenizerJSON {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "Digits"], ["type": "UnicodeScripts"]]]
        })
        #expect(e?.location?.field == "pre_tokenizer.pretokenizers[1].type")
    }

    @Test func unknownDecoderAndPostProcessor() {
        #expect(failure(Self.tokenizerJSON { $0["decoder"] = ["type": "WordPiece"] })?.location?.field == "decoder.type")
        #expect(failure(Self.tokenizerJSON { $0["post_processor"] = ["type": "Mystery"] })?.location?.field == "post_processor.type")
    }

    @Test func otherModelTypesAreRefused() {
        let e = failure(Self.tokenizerJSON { $0["model"] = ["type": "WordPiece", "vocab": ["a": 0]] })
        #expect(e?.location?.field == "model.type")
        #expect(e?.message.contains("WordPiece") == true)
    }

    @Test func mergeWithUnknownTokenNamesIt() {
        let e = failure(Self.tokenizerJSON { $0["model"] = ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"], ["a", "c"]]] })
        #expect(e?.location?.field == "model.merges[1]")
    }

    @Test func badSplitBehaviourAndRegex() {
        #expect(failure(Self.tokenizerJSON {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\p{L}+"], "behavior": "Sideways", "invert": false]
        })?.location?.field == "pre_tokenizer.behavior")
        #expect(failure(Self.tokenizerJSON {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated", "invert": false]
        }) != nil)
    }

    @Test func dropoutIsRefused() {
        #expect(failure(Self.tokenizerJSON { $0["model"] = ["type": "BPE", "vocab": ["a": 0], "merges": [], "dropout": 0.1] }) != nil)
    }

    @Test func invalidJSONGivesTheByteOffset() {
        let e = failure(Data("{\"model\": {\"type\": \"BPE\",, }}".utf8))
        #expect(e?.location?.byteOffset == 25)  // the second comma, counted from 0
    }

    @Test func directoryWithoutTokenizerJSON() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data().write(to: dir.appendingPathComponent("tokenizer.model"))
        let e = #expect(throws: LFError.self) { _ = try Tokenizer.load(directory: dir.path) }
        #expect(e?.hint?.contains("tokenizer.model") == true)
        #expect(throws: LFError.self) { _ = try Tokenizer(path: dir.path + "/missing") }
    }

    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        // "K" (U+004B) and the Kelvin sign (U+212A) are different tokens even though Swift Strings
        // compare them equal; so are precomposed "é" and "e" + combining acute.
        // Written as JSON text: a Swift dictionary literal could not even hold both keys.
        let json = #"{"model": {"type": "BPE", "merges": [], "vocab": {"K": 0, "\#u{212A}": 1, "\#u{E9}": 2, "e": 3, "\#u{301}": 4}}}"#
        let t = try Tokenizer(data: Data(json.utf8), source: "tok.json")
        #expect(t.encode("K\u{212A}\u{E9}e\u{301}", parseSpecial: true) == [0, 1, 2, 3, 4])
        #expect(t.tokenID("\u{212A}") == 1 && t.tokenID("K") == 0)
    }

    @Test func fingerprintIgnoresFormattingButNotContent() throws {
        let a = try Tokenizer(data: Self.tokenizerJSON { _ in }, source: "a")
        let pretty = try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Self.tokenizerJSON { _ in }), options: [.prettyPrinted])
        let b = try Tokenizer(data: pretty, source: "b")
        let c = try Tokenizer(data: Self.tokenizerJSON { $0["model"] = ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 3], "merges": [["a", "b"]]] }, source: "c")
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
        #expect(a.fingerprint.count == 64)
    }
}
