import Foundation
@testable import Shared
import Testing
import TestSupport

/// The hand-written scanners must split exactly as the regexes they replace. ICU (the general path)
/// is the independent reference here; the fixture tests check both against HF.
@Suite struct ScannerTests {
    static let corpus: [String] = {
        var texts: [String] = []
        try? JSONLReader(path: Fixtures.path("tokenizers/corpus.jsonl")).forEachObject { _, o in
            if let t = o["text"] as? String { texts.append(t) }
        }
        return texts
    }()

    static func ranges(_ pattern: SplitPattern, _ text: String) -> [Range<Int>] {
        let scalars = Array(text.unicodeScalars)
        var out: [Range<Int>] = []
        scalars.withUnsafeBufferPointer { s in pattern.forEachMatch(in: s) { out.append($0) } }
        return out
    }

    @Test(arguments: [SplitPattern.gpt2Regex, SplitPattern.llama3Regex, SplitPattern.qwen2Regex])
    func scannerAgreesWithICUOnTheCorpus(regex: String) throws {
        let scanner = try SplitPattern(.regex(regex))
        #expect(scanner.isScanner)
        let icu = SplitPattern(icu: regex)
        #expect(!Self.corpus.isEmpty)
        var differing = 0
        for text in Self.corpus + ["", " ", "  a", "a  ", "\r\n", " \r\n x", "'S 'LL 'Re", "1234567", "\u{0085}\u{000B}x", "ſ", "\t\tx"] {
            let a = Self.ranges(scanner, text), b = Self.ranges(icu, text)
            if a != b {
                differing += 1
                if differing <= 3 { Issue.record("\(text.debugDescription): scanner \(a) vs ICU \(b)") }
            }
        }
        #expect(differing == 0)
    }

    @Test func smallCases() throws {
        let gpt2 = try SplitPattern(.regex(SplitPattern.gpt2Regex))
        // "a   b": the run of three spaces gives two to the gap and one to " b".
        #expect(Self.ranges(gpt2, "a   b") == [0..<1, 1..<3, 3..<5])
        #expect(Self.ranges(gpt2, "I'm 42!") == [0..<1, 1..<3, 3..<6, 6..<7])  // " 42" keeps its space
        let llama3 = try SplitPattern(.regex(SplitPattern.llama3Regex))
        #expect(Self.ranges(llama3, "1234567") == [0..<3, 3..<6, 6..<7])
        #expect(Self.ranges(llama3, "x \n\n y") == [0..<1, 1..<4, 4..<6])
        #expect(Self.ranges(llama3, "I'LL") == [0..<1, 1..<4])
    }
}
