import Foundation
@testable import Shared
import Testing
import TestSupport

/// Layer (a) for the components the shared fixtures do not reach: Split behaviours, Metaspace
/// schemes, Whitespace/Punctuation/Bert splitting, added-token options, normalizers and decoders,
/// each checked against HF tokenizers' output (Tests/Resources/tokenizer-components/cases.json,
/// made by scripts/fixtures/tokenizer_components.py).
@Suite struct ComponentTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var base: String
        var override: [(String, JSONValue)]
        var results: [(text: String, ids: [Int32], decoded: String, skip: String)]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/tokenizer-components/cases.json")
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else { return [] }
        return cases.map { c in
            let override = (c["override"] as! [String: Any]).map { ($0.key, (try? JSONValue(any: $0.value)) ?? .null) }
            let results = (c["results"] as! [[String: Any]]).map {
                ($0["text"] as! String, ($0["ids"] as! [Int]).map { Int32($0) }, $0["decoded"] as! String, $0["decoded_skip_special"] as! String)
            }
            return Case(name: c["name"] as! String, base: c["base"] as! String, override: override, results: results)
        }
    }()

    /// The base tokenizer.json files, parsed once (exact keys: the canonical form of StrictJSON).
    static let bases: [String: JSONValue] = {
        var out: [String: JSONValue] = [:]
        for (name, path) in [("smollm2", Fixtures.path("smollm2/tokenizer.json")), ("spm_llama", Fixtures.path("tokenizers/spm_llama/tokenizer.json"))] {
            if let data = try? Data(contentsOf: URL(fileURLWithPath: path)) { out[name] = try? TokenizerJSON.parse(data, file: path).canonical() }
        }
        return out
    }()

    @Test func allCasesAreThere() { #expect(Self.cases.count == 28) }

    @Test(arguments: cases)
    func matchesHF(_ c: Case) throws {
        guard case .object(var members)? = Self.bases[c.base] else { Issue.record("no base \(c.base)"); return }
        for (key, value) in c.override {
            members.removeAll { $0.0 == key }
            members.append((key, value))
        }
        let t = try Tokenizer(data: Data(JSONValue.object(members).serialized(pretty: false).utf8), source: c.name)
        for r in c.results {
            #expect(t.encode(r.text, parseSpecial: true) == r.ids, "\(c.name): \(r.text.debugDescription)")
            #expect(t.decode(r.ids, skipSpecial: false) == r.decoded, "\(c.name): decode \(r.text.debugDescription)")
            #expect(t.decode(r.ids, skipSpecial: true) == r.skip, "\(c.name): decode skipping specials \(r.text.debugDescription)")
        }
    }
}
