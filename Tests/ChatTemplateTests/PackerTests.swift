import Foundation
@testable import Shared
import Testing
import TestSupport

/// The whole pack pipeline with the stand-in tokenizer: JSONL files → shard directory, read back.
@Suite struct PackerTests {
    let dir: URL
    let tokenizer = ByteTokenizer()

    init() throws { dir = try Fixtures.temporaryDirectory("lf-pack") }

    func writeInput(_ name: String, _ lines: [String]) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func chatLine(_ i: Int) -> String {
        let answer = String(repeating: "answer \(i) ", count: 1 + i % 7)
        return #"{"messages":[{"role":"user","content":"question \#(i)"},{"role":"assistant","content":"\#(answer)"}]}"#
    }

    static let lines = (0 ..< 60).map { i in i % 10 == 9 ? #"{"text":"document number \#(i) with some words"}"# : chatLine(i) }

    func pack(_ inputs: [String], _ options: PackingOptions, name: String = "shards", skipInvalid: Bool = false,
              shardSize: Int = ShardWriter.defaultShardSize, template: ChatTemplate = .chatml) throws -> (String, ShardManifest) {
        var packer = Packer(encoder: try RecordEncoder(tokenizer: tokenizer, template: template, options: options))
        packer.skipInvalid = skipInvalid
        packer.shardSize = shardSize
        packer.batchSize = 7  // several batches, so batching and threads are exercised
        let output = dir.appendingPathComponent(name).path
        let manifest = try packer.run(inputs: inputs, output: output, tokenizerFingerprint: tokenizer.fingerprint,
                                      vocabularySize: tokenizer.vocabularySize)
        return (output, manifest)
    }

    func read(_ path: String) throws -> [PackedSequence] {
        let reader = try ShardReader(directory: path)
        try reader.checkTokenizer(tokenizer)
        return try (0 ..< reader.sequenceCount).map { try reader.sequence($0) }
    }

    /// The documents of each record, encoded directly, for comparison.
    func expectedDocuments(_ options: PackingOptions) throws -> [Document] {
        let encoder = try RecordEncoder(tokenizer: tokenizer, template: .chatml, options: options)
        return try Self.lines.flatMap { line -> [Document] in
            let record = try JSONDecoder().decode(DatasetRecord.self, from: Data(line.utf8))
            guard case .documents(let d, _, _) = try encoder.encode(record) else { return [] }
            return d
        }
    }

    func documents(of sequences: [PackedSequence]) -> [Document] {
        sequences.flatMap { s in s.documentRanges.map { Document(ids: Array(s.ids[$0]), mask: Array(s.mask[$0])) } }
    }

    func key(_ d: Document) -> String { d.ids.map(String.init).joined(separator: ",") + "|" + d.mask.map { $0 ? "1" : "0" }.joined() }

    @Test func inputOrderWithoutShuffleOrPacking() throws {
        let input = try writeInput("train.jsonl", Self.lines)
        let options = PackingOptions(maxLength: 4096, shuffle: false)
        let (path, manifest) = try pack([input], options)
        let sequences = try read(path)
        #expect(documents(of: sequences) == (try expectedDocuments(options)))
        #expect(sequences.allSatisfy { $0.documentStarts == [0] })
        #expect(manifest.counts.records == 60)
        #expect(manifest.counts.chatRecords == 54)
        #expect(manifest.counts.textRecords == 6)
        #expect(manifest.counts.documents == 60)
        #expect(manifest.counts.sequences == 60)
        #expect(manifest.counts.tokens == sequences.reduce(0) { $0 + $1.count })
        #expect(manifest.counts.trainedTokens == sequences.reduce(0) { $0 + $1.trainedCount })
        #expect(manifest.template == ShardManifest.Template(name: "chatml", stopTokens: ["<|im_end|>"]))
        #expect(manifest.tokenizerFingerprint == tokenizer.fingerprint)
        #expect(manifest.settings.shuffle == false)
        #expect(manifest.packing == false)
        #expect(manifest.idBytes == 2)
    }

    @Test func packingKeepsEveryDocumentWithItsBoundaries() throws {
        let input = try writeInput("train.jsonl", Self.lines)
        let options = PackingOptions(maxLength: 300, packing: true, seed: 3)
        let (path, manifest) = try pack([input], options)
        let sequences = try read(path)
        #expect(sequences.count < 60)
        #expect(sequences.allSatisfy { $0.count <= 300 && $0.problem == nil })
        #expect(sequences.contains { $0.documentStarts.count > 1 })
        // The same documents, each intact (ids and mask), just grouped and reordered.
        let expected = try expectedDocuments(options).map(key).sorted()
        #expect(documents(of: sequences).map(key).sorted() == expected)
        #expect(manifest.counts.documents == 60)
        #expect(manifest.packing)
        // Positions restart at each document.
        for s in sequences {
            let positions = s.positionIDs()
            for start in s.documentStarts { #expect(positions[start] == 0) }
        }
        // Greedy best fit fills the sequences well.
        #expect(Double(manifest.counts.tokens) / Double(sequences.count * 300) > 0.8)
    }

    @Test func sameSeedSameBytesOtherSeedOtherOrder() throws {
        let input = try writeInput("train.jsonl", Self.lines)
        let options = PackingOptions(maxLength: 300, packing: true, seed: 11)
        let (a, _) = try pack([input], options, name: "a")
        let (b, _) = try pack([input], options, name: "b")
        for name in try FileManager.default.contentsOfDirectory(atPath: a) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a + "/" + name)) == (try Data(contentsOf: URL(fileURLWithPath: b + "/" + name))))
        }
        var other = options
        other.seed = 12
        let (c, _) = try pack([input], other, name: "c")
        #expect(try read(a) != (try read(c)))
        // Unpacked, shuffled: a permutation of the input order.
        let (d, _) = try pack([input], PackingOptions(maxLength: 4096, seed: 5), name: "d")
        let shuffled = documents(of: try read(d))
        let ordered = try expectedDocuments(PackingOptions(maxLength: 4096))
        #expect(shuffled != ordered)
        #expect(shuffled.map(key).sorted() == ordered.map(key).sorted())
    }

    @Test func severalInputsAndManyShardFiles() throws {
        let first = try writeInput("a.jsonl", Array(Self.lines[..<30]))
        let second = try writeInput("b.jsonl", Array(Self.lines[30...]))
        let (path, manifest) = try pack([first, second], PackingOptions(maxLength: 4096, shuffle: false), shardSize: 4096)
        #expect(manifest.files.count > 1)
        #expect(documents(of: try read(path)) == (try expectedDocuments(PackingOptions(maxLength: 4096))))
    }

    @Test func droppedAndTruncatedRecordsAreCounted() throws {
        let long = #"{"messages":[{"role":"user","content":"\#(String(repeating: "q", count: 500))"},{"role":"assistant","content":"a"}]}"#
        let longTurns = #"{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"\#(String(repeating: "a", count: 60))"},{"role":"user","content":"q"},{"role":"assistant","content":"\#(String(repeating: "a", count: 60))"}]}"#
        let input = try writeInput("train.jsonl", [Self.chatLine(1), long, longTurns, #"{"text":"\#(String(repeating: "t", count: 250))"}"#])
        let (_, truncated) = try pack([input], PackingOptions(maxLength: 100), name: "t")
        #expect(truncated.counts.recordsTruncated == 2)
        #expect(truncated.counts.textRecordsSplit == 1)
        #expect(truncated.counts.recordsDropped.isEmpty)
        #expect(truncated.counts.documents == 1 + 1 + 1 + 3)
        let (_, dropped) = try pack([input], PackingOptions(maxLength: 100, dropLong: true), name: "d")
        #expect(dropped.counts.recordsDropped == ["too_long": 3])
        #expect(dropped.counts.documents == 1)
        #expect(dropped.counts.records == 4)
        #expect(dropped.settings.dropLong)
    }

    @Test func invalidRecordsStopTheRunNamingFileAndLine() throws {
        let cases: [(String, String, String?)] = [
            (#"{"messages":[]}"#, "empty conversation", "messages"),
            (#"{"messages":[{"role":"user","content":"q"}]}"#, "no assistant message", "messages"),
            (#"{"messages":[{"role":"user","content":"q"},{"role":"user","content":"q"}]}"#, "messages[1] has role \"user\"", "messages"),
            (#"{"messages":[{"role":"tool","content":"q"}]}"#, "unknown role", "messages[0].role"),
            (#"{"messages":[{"role":"user"}]}"#, "missing field \"content\"", "messages[0].content"),
            (#"{"messages":[{"role":"user","content":5}]}"#, "wrong type", "messages[0].content"),
            (#"{"id":"x"}"#, "missing field", "messages"),
            (#"[1,2]"#, "expected a JSON object", nil),
        ]
        for (bad, fragment, field) in cases {
            let input = try writeInput("bad.jsonl", [Self.chatLine(1), "", bad, Self.chatLine(2)])
            let error = #expect(throws: LFError.self) { try pack([input], PackingOptions()) }
            #expect(error?.location?.file == input)
            #expect(error?.location?.line == 3)
            #expect(error?.location?.field == field, "\(bad)")
            #expect(error?.message.contains(fragment) == true, "\(bad): \(String(describing: error))")
            #expect(error?.hint != nil)
            // Nothing is written.
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("shards").path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.jsonl"])
    }

    @Test func skipInvalidCountsThem() throws {
        let input = try writeInput("mixed.jsonl", [Self.chatLine(1), #"{"messages":[]}"#, #"{"messages":[{"role":"tool","content":"q"}]}"#,
                                                  #"{"messages":[{"role":"assistant","content":"a"}]}"#, Self.chatLine(2)])
        let (_, manifest) = try pack([input], PackingOptions(), skipInvalid: true)
        #expect(manifest.counts.records == 5)
        #expect(manifest.counts.documents == 2)
        #expect(manifest.counts.recordsDropped == ["empty_conversation": 1, "unknown_role": 1, "roles_out_of_order": 1])
    }

    @Test func malformedJSONIsFatalEvenWhenSkipping() throws {
        let input = try writeInput("broken.jsonl", [Self.chatLine(1), #"{"messages": [ oops"#])
        let error = #expect(throws: LFError.self) { try pack([input], PackingOptions(), skipInvalid: true) }
        #expect(error?.message.contains("malformed JSON") == true)
        #expect(error?.location?.line == 2)
    }

    @Test func nothingToPack() throws {
        let empty = try writeInput("empty.jsonl", [""])
        let error = #expect(throws: LFError.self) { try pack([empty], PackingOptions()) }
        #expect(error?.message.contains("nothing to pack: 0 records") == true)
        let allDropped = try writeInput("long.jsonl", [#"{"text":"\#(String(repeating: "t", count: 50))"}"#])
        let dropped = #expect(throws: LFError.self) { try pack([allDropped], PackingOptions(maxLength: 10, dropLong: true)) }
        #expect(dropped?.message.contains("1 dropped") == true)
    }

    @Test func textRecordsWithoutAnEndTokenAreFatalEvenWhenSkipping() throws {
        let input = try writeInput("text.jsonl", [#"{"text":"abc"}"#])
        var packer = Packer(encoder: try RecordEncoder(tokenizer: ByteTokenizer(specials: ["<x>"]), template: ChatTemplate.chatml.renamedForTest(),
                                                       options: PackingOptions()))
        packer.skipInvalid = true
        let error = #expect(throws: LFError.self) {
            try packer.run(inputs: [input], output: dir.appendingPathComponent("out").path, tokenizerFingerprint: "f", vocabularySize: 300)
        }
        #expect(error?.message.contains("end-of-document") == true)
        #expect(error?.location?.line == 1)
    }
}

@Suite struct SequencePackerTests {
    /// LLaMA-Factory's greedy_knapsack, written out plainly, for comparison.
    static func referenceKnapsack(_ lengths: [Int], capacity: Int) -> [[Int]] {
        var numbers = lengths.sorted()
        var knapsacks: [[Int]] = []
        while !numbers.isEmpty {
            var current: [Int] = []
            var remaining = capacity
            while true {
                guard let index = numbers.lastIndex(where: { $0 <= remaining }) else { break }
                remaining -= numbers[index]
                current.append(numbers.remove(at: index))
            }
            knapsacks.append(current)
        }
        return knapsacks
    }

    @Test func sameBinsAsLLaMAFactory() {
        var generator = SeededGenerator(seed: 1)
        for trial in 0 ..< 20 {
            let capacity = 50 + trial * 37
            let lengths = (0 ..< 300).map { _ in 1 + Int(generator.below(UInt64(capacity))) }
            let bins = SequencePacker.pack(lengths: lengths, order: Array(lengths.indices), capacity: capacity)
            #expect(bins.map { $0.map { lengths[$0] } } == Self.referenceKnapsack(lengths, capacity: capacity))
            #expect(bins.flatMap { $0 }.sorted() == Array(lengths.indices))
            #expect(bins.allSatisfy { $0.reduce(0) { $0 + lengths[$1] } <= capacity })
        }
    }

    @Test func tiesFollowTheGivenOrder() {
        let bins = SequencePacker.pack(lengths: [5, 5, 5, 5], order: [2, 0, 3, 1], capacity: 10)
        #expect(bins == [[2, 0], [3, 1]])
        #expect(SequencePacker.pack(lengths: [10], order: [0], capacity: 10) == [[0]])
        #expect(SequencePacker.pack(lengths: [], order: [], capacity: 10).isEmpty)
    }

    @Test func fenwickTree() {
        var tree = FenwickTree(size: 16)
        #expect(tree.largestNonEmpty(atMost: 16) == nil)
        tree.add(3, 1)
        tree.add(9, 2)
        #expect(tree.largestNonEmpty(atMost: 16) == 9)
        #expect(tree.largestNonEmpty(atMost: 8) == 3)
        #expect(tree.largestNonEmpty(atMost: 2) == nil)
        tree.add(9, -2)
        #expect(tree.largestNonEmpty(atMost: 100) == 3)
        #expect(tree.prefixSum(16) == 1)
    }

    /// SplitMix64's published first outputs, so a seed shuffles the same everywhere.
    @Test func seededGeneratorIsSplitMix64() {
        var g = SeededGenerator(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        var a = Array(0 ..< 10), b = Array(0 ..< 10)
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42)
        g1.shuffle(&a)
        g2.shuffle(&b)
        #expect(a == b)
        #expect(a.sorted() == Array(0 ..< 10))
        // Fisher–Yates from the end with Lemire's bounded integers (checked with a Python transcription).
        #expect(a == [8, 3, 6, 5, 4, 0, 9, 2, 1, 7])
        var counts = [Int](repeating: 0, count: 3)
        var g3 = SeededGenerator(seed: 9)
        for _ in 0 ..< 3000 { counts[Int(g3.below(3))] += 1 }
        #expect(counts.allSatisfy { $0 > 900 && $0 < 1100 })
    }
}
