import Foundation
@testable import Shared
import Testing

@Suite struct MixerTests {
    /// Sources named by letter with records "a0", "a1", …
    func sources(_ lengths: [Int]) -> [RecordSource] {
        lengths.enumerated().map { i, n in
            let letter = String(UnicodeScalar(UInt8(97 + i)))
            return ArraySource(letter, (0..<n).map { .string("\(letter)\($0)") })
        }
    }

    func order(_ lengths: [Int], _ strategy: MixStrategy, probabilities: [Double]? = nil, seed: UInt64 = 42) throws -> [String] {
        let mixer = try Mixer(sources: sources(lengths), strategy: strategy, probabilities: probabilities, seed: seed)
        var out: [String] = []
        while let (_, item) = try mixer.next() {
            if case .record(let r) = item, case .string(let s) = r.value { out.append(s) }
            if out.count > 10000 { break }
        }
        return out
    }

    @Test func concat() throws {
        #expect(try order([2, 1], .concat) == ["a0", "a1", "b0"])
    }

    /// Hugging Face's documented orders for lengths [3, 4, 5] (arrow_dataset.py comments).
    @Test func roundRobinMatchesHuggingFace() throws {
        #expect(try order([3, 4, 5], .interleaveUnder) == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"])
        #expect(try order([3, 4, 5], .interleaveOver) == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2",
                                                          "a0", "b3", "c3", "a1", "b0", "c4"])
        #expect(try order([3, 4, 3], .interleaveOnce) == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2", "b3"])
    }

    @Test func drawnByProbabilities() throws {
        let under = try order([5, 50], .interleaveUnder, probabilities: [0.5, 0.5])
        #expect(under.filter { $0.hasPrefix("a") }.count == 5)   // stops when a runs out
        #expect(under.last?.hasPrefix("a") == true)
        let over = try order([5, 50], .interleaveOver, probabilities: [0.5, 0.5])
        #expect(Set(over.filter { $0.hasPrefix("b") }).count == 50)  // every record of b seen
        #expect(over.filter { $0.hasPrefix("a") }.count > 5)          // a repeated
        let once = try order([5, 50], .interleaveOnce, probabilities: [0.9, 0.1])
        #expect(once.count == 55 && Set(once).count == 55)
        #expect(try order([5, 50], .interleaveUnder, probabilities: [0.5, 0.5]) == under)  // deterministic
        #expect(try order([5, 50], .interleaveUnder, probabilities: [0.5, 0.5], seed: 7) != under)
        let skewed = try order([1000, 1000], .interleaveUnder, probabilities: [0.8, 0.2])
        let share = Double(skewed.filter { $0.hasPrefix("a") }.count) / Double(skewed.count)
        #expect(abs(share - 0.8) < 0.05)
    }

    @Test func probabilityErrors() {
        #expect(throws: LFError.self) { try Mixer(sources: sources([1, 1]), strategy: .interleaveUnder, probabilities: [1], seed: 0) }
        #expect(throws: LFError.self) { try Mixer(sources: sources([1, 1]), strategy: .interleaveUnder, probabilities: [0, 0], seed: 0) }
    }

    @Test func limitsCutAndCycle() throws {
        let cut = LimitedSource(ArraySource("a", [.int(1), .int(2), .int(3)]), limit: 2)
        #expect(try DatasetFixtures.values(cut) == [.int(1), .int(2)])
        let cycled = LimitedSource(ArraySource("a", [.int(1), .int(2)]), limit: 5, cycle: true)
        #expect(try DatasetFixtures.values(cycled) == [.int(1), .int(2), .int(1), .int(2), .int(1)])
    }
}

@Suite struct ChunkerTests {
    let document = """
        The first paragraph is short.

        The second paragraph has several sentences. Each one ends with a full stop! Does this one end with a question mark? Yes.

        Third paragraph: 中文句子。第二句。

        Last.
        """

    @Test func characterChunksFitAndCutAtBoundaries() {
        let chunker = DocumentChunker(size: 60, overlap: 0, unit: .characters)
        let chunks = chunker.chunks(document)
        #expect(chunks.allSatisfy { TextMeasure.characters($0) <= 60 })
        #expect(chunks.first == "The first paragraph is short.")
        #expect(chunks.contains("The second paragraph has several sentences."))
        #expect(chunks.contains { $0.hasPrefix("Does this one end with a question mark?") })
        // Nothing is lost: every word appears in some chunk.
        for word in document.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            #expect(chunks.contains { $0.contains(word) }, "\(word)")
        }
    }

    @Test func wholeParagraphsWhenTheyFit() {
        let chunks = DocumentChunker(size: 1000, overlap: 0, unit: .characters).chunks(document)
        #expect(chunks == [document])
    }

    @Test func overlapRepeatsTheEnd() {
        let text = (1...12).map { "Sentence number \($0) is here." }.joined(separator: " ")
        let chunks = DocumentChunker(size: 100, overlap: 40, unit: .characters).chunks(text)
        #expect(chunks.count > 3)
        for (a, b) in zip(chunks, chunks.dropFirst()) {
            let lastSentence = a.components(separatedBy: ". ").last ?? ""
            #expect(b.hasPrefix(lastSentence.hasSuffix(".") ? lastSentence : lastSentence + "."), "\(a) | \(b)")
        }
        #expect(chunks.allSatisfy { TextMeasure.characters($0) <= 100 })
    }

    @Test func hardCutsAndTokens() {
        let word = String(repeating: "abcdefghij", count: 5)
        #expect(DocumentChunker(size: 20, overlap: 0, unit: .characters).chunks(word) == [
            "abcdefghijabcdefghij", "abcdefghijabcdefghij", "abcdefghij",
        ])
        let tokenizer = PairTokenizer()
        let tokenChunks = DocumentChunker(size: 10, overlap: 0, unit: .tokens(tokenizer)).chunks(document)
        #expect(tokenChunks.allSatisfy { tokenizer.encode($0, parseSpecial: false).count <= 10 })
        #expect(tokenChunks.count > DocumentChunker(size: 10, overlap: 0, unit: .characters).chunks(document).count / 3)
        #expect(DocumentChunker(size: 5, overlap: 0, unit: .tokens(tokenizer)).chunks(word).joined() == word)
    }

    @Test func emptyDocumentHasNoChunks() {
        #expect(DocumentChunker(size: 10, overlap: 2, unit: .characters).chunks("").isEmpty)
    }
}

@Suite struct QAPatternTests {
    let manual = """
        # ACME Widget

        Intro text about the widget.

        ## Installation

        Unpack the box. Plug it in.

        ### Cables

        Use the blue cable.

        ## Empty

        ```
        # not a heading inside code
        ```
        """

    @Test func sectionsFollowHeadings() {
        let sections = DocumentSections.sections(of: manual, title: "T")
        #expect(sections.map(\.heading) == ["ACME Widget", "Installation", "Cables", "Empty"])
        #expect(sections[2].path == ["ACME Widget", "Installation", "Cables"])
        #expect(sections[1].body == "Unpack the box. Plug it in.")
        #expect(sections[3].body.contains("# not a heading"))
    }

    @Test func recordsFromAPattern() throws {
        let pattern = try QAPattern.parse(try DatasetFixtures.json("""
            {"questions": ["Explain {heading}.", "In {title}, what is {path}?"], "answer": "{body}",
             "system": "About {title}.", "min_chars": 10}
            """), file: "p.json")
        let records = pattern.records(for: DocumentText(text: manual, source: "manual.md"))
        // Intro, Installation and Cables qualify (Empty's body is a code block of 29 characters, also ≥ 10).
        #expect(records.count == 8)
        guard case .chat(let messages) = records[2] else { Issue.record("not chat"); return }
        #expect(messages.map(\.content) == ["About ACME Widget.", "Explain Installation.", "Unpack the box. Plug it in."])
        guard case .chat(let second) = records[5] else { return }
        #expect(second[1].content == "In ACME Widget, what is ACME Widget > Installation > Cables?")
    }

    @Test func chooseOneIsDeterministic() throws {
        let pattern = QAPattern(questions: ["A {heading}?", "B {heading}?", "C {heading}?"], chooseOne: true)
        let a = pattern.records(for: DocumentText(text: manual))
        #expect(a.count == 4)
        #expect(a == pattern.records(for: DocumentText(text: manual)))
    }

    @Test func paragraphAndDocumentUnits() {
        var pattern = QAPattern(unit: .paragraph, questions: ["{first_sentence}"])
        #expect(pattern.records(for: DocumentText(text: "One. Two.\n\nThree.")).count == 2)
        pattern.unit = .document
        let records = pattern.records(for: DocumentText(text: "One. Two.\n\nThree.", title: "Doc"))
        #expect(records == [.chat([ChatMessage(role: .user, content: "One."), ChatMessage(role: .assistant, content: "One. Two.\n\nThree.")])])
    }

    @Test(arguments: [
        (#"{"questions": ["Explain {topic}."]}"#, "unknown placeholder {topic}"),
        (#"{"questions": []}"#, "at least one question"),
        (#"{"questions": ["x"], "unit": "page"}"#, "section, paragraph or document"),
        (#"{"questions": ["x"], "colour": 1}"#, "unknown key"),
        (#"{"questions": ["a {heading"]}"#, "unclosed"),
    ])
    func patternErrors(json: String, message: String) throws {
        do {
            _ = try QAPattern.parse(try DatasetFixtures.json(json), file: "p.json")
            Issue.record("accepted \(json)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
            #expect("\(error)".hasPrefix("p.json"), "\(error)")
        }
    }

    @Test func literalBraces() throws {
        #expect(try QAPattern.fill("{{x}} {body}", ["body": "b"], strict: true) == "{x} b")
    }
}
