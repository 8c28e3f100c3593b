import Foundation
@testable import Shared
import Testing

@Suite struct CleaningTests {
    @Test(arguments: [
        ("plain text", "plain text"),
        ("  lead and trail \n\n", "lead and trail"),
        ("a  \nb\t\nc", "a\nb\nc"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("p1\n\n\n\n\np2", "p1\n\np2"),
        ("x\u{0}y\u{7}z\u{7F}\u{85}w", "xyz\nw"),
        ("a\u{A0}b\u{2009}c\u{3000}d", "a b c\u{3000}d"),
        ("\u{FEFF}bom", "bom"),
        ("line\u{2028}sep", "line\nsep"),
        ("cafe\u{301}", "caf\u{E9}"),
        ("\u{212B}ngstr\u{F6}m", "\u{C5}ngstr\u{F6}m"),
        ("  code:\n    indented\n  ", "code:\n    indented"),
        ("中文，测试。😀👍🏽", "中文，测试。😀👍🏽"),
        ("\n \n \t", ""),
    ])
    func cleans(input: String, expected: String) {
        let cleaned = TextCleaner.clean(input)
        #expect(cleaned == expected, "\(input.debugDescription) → \(cleaned.debugDescription)")
        #expect(Array(cleaned.unicodeScalars) == Array(expected.unicodeScalars))
        #expect(TextCleaner.clean(cleaned) == cleaned, "not idempotent")
    }

    /// The "stable" ranges that skip normalisation must really be NFC-stable: each character alone,
    /// and after a letter, is left unchanged by Foundation's NFC.
    @Test func stableRangesAreNFCStable() {
        var checked = 0
        for v in UInt32(0x80)...0x1FAFF {
            guard TextCleaner.scalarClass(v) == .stable, let s = Unicode.Scalar(v) else { continue }
            let alone = String(s)
            let after = "a" + alone
            if alone.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(alone.unicodeScalars) == false
                || after.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(after.unicodeScalars) == false {
                Issue.record("U+\(String(v, radix: 16)) changes under NFC")
            }
            checked += 1
        }
        #expect(checked > 30000)
    }

    @Test func recordStructure() {
        var r = DatasetRecord.chat([ChatMessage(role: .system, content: ""), ChatMessage(role: .user, content: "q"), ChatMessage(role: .assistant, content: "a")])
        #expect(RecordRules.structure(&r) == nil)
        #expect(r == .chat([ChatMessage(role: .user, content: "q"), ChatMessage(role: .assistant, content: "a")]))
        var empty = DatasetRecord.chat([ChatMessage(role: .user, content: "q"), ChatMessage(role: .assistant, content: "")])
        #expect(RecordRules.structure(&empty)?.0 == .emptyTurn)
        var order = DatasetRecord.chat([ChatMessage(role: .user, content: "q"), ChatMessage(role: .user, content: "a")])
        #expect(RecordRules.structure(&order)?.0 == .roleOrder)
        var noAnswer = DatasetRecord.chat([ChatMessage(role: .user, content: "q")])
        #expect(RecordRules.structure(&noAnswer)?.0 == .roleOrder)
        var text = DatasetRecord.text("")
        #expect(RecordRules.structure(&text)?.0 == .emptyTurn)
    }

    @Test func lengthAndSymbolRules() {
        let rules = RecordRules(minChars: 3, maxChars: 10, minTokens: 2, maxTokens: 4, maxSymbolRatio: 0.5)
        #expect(rules.check(characters: 2, tokens: 3, symbolRatio: { 0 })?.0 == .tooShort)
        #expect(rules.check(characters: 11, tokens: 3, symbolRatio: { 0 })?.0 == .tooLong)
        #expect(rules.check(characters: 5, tokens: 1, symbolRatio: { 0 })?.0 == .tooFewTokens)
        #expect(rules.check(characters: 5, tokens: 5, symbolRatio: { 0 })?.0 == .tooManyTokens)
        #expect(rules.check(characters: 5, tokens: 3, symbolRatio: { 0.6 })?.0 == .symbolRatio)
        #expect(rules.check(characters: 5, tokens: 3, symbolRatio: { 0.5 }) == nil)
        #expect(TextMeasure.symbolRatio(.text("ab!!")) == 0.5)
        #expect(TextMeasure.symbolRatio(.text("中文 。")) == 1.0 / 3.0)
        #expect(TextMeasure.characters("héllo 中文 😀" + String(repeating: "x", count: 20)) == 30)
        #expect(TextMeasure.tokens(.chat([ChatMessage(role: .user, content: "abc"), ChatMessage(role: .assistant, content: "de")]),
                                   tokenizer: PairTokenizer()) == 3)
    }
}

@Suite struct DedupTests {
    /// Vectors from Python's mmh3 (`mmh3.hash128(data, seed, signed=False)` = h1 | h2 << 64).
    @Test(arguments: [
        ("", UInt32(0), UInt64(0), UInt64(0)),
        ("hello", 0, 0xCBD8_A7B3_41BD_9B02, 0x5B1E_906A_48AE_1D19),
        ("hello", 42, 0xC4B8_B3C9_60AF_6F08, 0x2334_B875_B0EF_BC7A),
        ("The quick brown fox jumps over the lazy dog", 0, 0xE34B_BC7B_BC07_1B6C, 0x7A43_3CA9_C49A_9347),
    ])
    func murmurMatchesPython(text: String, seed: UInt32, h1: UInt64, h2: UInt64) {
        let h = MurmurHash3.x64_128(Array(text.utf8), seed: seed)
        #expect(h.h1 == h1 && h.h2 == h2)
    }

    @Test func murmurLongInputs() {
        let bytes40 = (0..<40).map { UInt8($0) }
        #expect(MurmurHash3.x64_128(bytes40, seed: 123456789) == (0xC842_22DE_330C_6C87, 0x88E8_78EA_3AA7_1373))
        let bytes768 = (0..<768).map { UInt8($0 % 256) }
        #expect(MurmurHash3.x64_128(bytes768, seed: 4294967295) == (0xF273_A3CF_7614_846B, 0xB5D7_AF64_D334_F7B8))
    }

    @Test func exact() {
        var d = ExactDeduplicator()
        let first = d.insert(ContentDigest(line: Array("a".utf8)))
        let again = d.insert(ContentDigest(line: Array("a".utf8)))
        let other = d.insert(ContentDigest(line: Array("b".utf8)))
        #expect(first && !again && other)
        #expect(d.count == 2)
    }

    @Test func minHashFindsNearDuplicatesOnly() {
        var d = MinHashDeduplicator(threshold: 0.8)
        #expect(d.bands * d.rows <= 128)
        let base = "Making crepes is an easy and delicious process. Whisk flour, eggs, milk and water, rest the batter, then cook thin layers in a hot buttered pan for a minute on each side."
        let original = d.check(base)
        #expect(original == nil)
        // One word changed and different case/spacing: near duplicate.
        let similar = base.replacingOccurrences(of: "delicious", with: "tasty").uppercased().replacingOccurrences(of: " ", with: "  ")
        let near = d.check(similar)
        #expect((near ?? 0) >= 0.8)
        let different = d.check("A completely different text about configuring a Linux firewall with nftables rules and sets.")
        #expect(different == nil)
        #expect(d.count == 2)
    }

    @Test func bandsFollowTheThreshold() {
        let low = MinHashDeduplicator.bandsAndRows(threshold: 0.5, permutations: 128)
        let high = MinHashDeduplicator.bandsAndRows(threshold: 0.9, permutations: 128)
        #expect(low.1 < high.1)  // a higher threshold needs more rows per band
    }
}

@Suite struct SplitTests {
    let line = #"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}"#

    /// u = ((mmh3.hash128(line, seed, signed=False) & (2**64-1)) >> 11) / 2**53, from Python.
    @Test func unitValueMatchesTheDocumentedFormula() {
        let bytes = Array(line.utf8)
        for (seed, u) in [(UInt32(0), 0.015762671640134784), (42, 0.18168415466038046), (7, 0.24285875198596174)] {
            let splitter = Splitter(ratios: SplitRatios(train: 0.9, eval: 0.1, test: 0), seed: seed)
            #expect(bytes.withUnsafeBytes { splitter.unitValue(line: $0) } == u)
        }
        let splitter = Splitter(ratios: SplitRatios(train: 0.1, eval: 0.1, test: 0.8), seed: 7)  // u = 0.243
        #expect(splitter.split(line: bytes) == .test)
        #expect(Splitter(ratios: SplitRatios(train: 0.1, eval: 0.1, test: 0.8), seed: 42).split(line: bytes) == .eval)  // u = 0.182
    }

    @Test func ratiosAndProportions() throws {
        #expect(try SplitRatios(parsing: "90,5,5") == SplitRatios(train: 0.9, eval: 0.05, test: 0.05))
        #expect(try SplitRatios(parsing: "0.9,0.1").active == [.train, .eval])
        for bad in ["1", "0,1", "a,b", "1,2,3,4", "-1,2"] {
            #expect(throws: LFError.self) { try SplitRatios(parsing: bad) }
        }
        let splitter = Splitter(ratios: try SplitRatios(parsing: "0.8,0.1,0.1"), seed: 42)
        var counts: [SplitName: Int] = [:]
        for i in 0..<20000 { counts[splitter.split(line: Array(#"{"text":"record \#(i)"}"#.utf8)), default: 0] += 1 }
        #expect(abs((counts[.train] ?? 0) - 16000) < 400)
        #expect(abs((counts[.eval] ?? 0) - 2000) < 200)
        #expect(abs((counts[.test] ?? 0) - 2000) < 200)
    }

    @Test func shardsPartition() throws {
        let shards = try (0..<3).map { try Shard(parsing: "\($0)/3") }
        for i in 0..<300 {
            let digest = ContentDigest(line: Array("record \(i)".utf8))
            #expect(shards.filter { $0.contains(digest) }.count == 1)
        }
        #expect(throws: LFError.self) { try Shard(parsing: "3/3") }
        #expect(throws: LFError.self) { try Shard(parsing: "x") }
    }
}
