import Foundation
@testable import Shared
import TestSupport

/// A stand-in tokenizer for the token-based features: every two Unicode scalars are one token
/// (so token counts differ from character counts), and ids decode back to the exact text.
/// Tests use text below U+8000 (15 bits per scalar, two per id).
struct PairTokenizer: TextTokenizer {
    func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        let scalars = Array(text.unicodeScalars)
        return stride(from: 0, to: scalars.count, by: 2).map { i in
            let a = Int32(scalars[i].value)
            let b = i + 1 < scalars.count ? Int32(scalars[i + 1].value) : 0
            return (a & 0x7FFF) << 15 | (b & 0x7FFF)
        }
    }

    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var s = String.UnicodeScalarView()
        for id in ids {
            if let a = Unicode.Scalar(UInt32((id >> 15) & 0x7FFF)) { s.append(a) }
            let b = UInt32(id & 0x7FFF)
            if b != 0, let scalar = Unicode.Scalar(b) { s.append(scalar) }
        }
        return String(s)
    }

    func tokenID(_ token: String) -> Int32? { nil }
    var vocabularySize: Int { 1 << 30 }
    var fingerprint: String { "pair-tokenizer" }
}

/// A record source over in-memory values (for mixing and pipeline tests).
final class ArraySource: RecordSource {
    let name: String
    let values: [JSONValue]
    private var index = 0

    init(_ name: String, _ values: [JSONValue]) {
        self.name = name
        self.values = values
    }

    func next() throws -> SourceItem? {
        guard index < values.count else { return nil }
        index += 1
        return .record(RawRecord(value: values[index - 1], location: RecordLocation(file: name, line: index, record: index)))
    }

    func rewind() throws { index = 0 }
}

enum DatasetFixtures {
    static var datasets: String { Fixtures.shared.appendingPathComponent("corpus/datasets").path }

    static func temporaryFile(_ name: String, _ contents: String) throws -> String {
        let dir = try Fixtures.temporaryDirectory("lf-format-test")
        let path = dir.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    /// Runs a pipeline and returns the written lines per split, the rejects and the summary.
    static func run(_ inputs: [FormatInput], _ options: FormatOptions) throws -> (lines: [SplitName: [String]], rejects: [String], summary: FormatSummary) {
        var lines: [SplitName: [String]] = [:]
        var rejects: [String] = []
        let pipeline = FormatPipeline(inputs: inputs, options: options)
        let summary = try pipeline.run(
            output: { split, bytes in lines[split, default: []].append(String(decoding: bytes, as: UTF8.self)) },
            rejects: { bytes in rejects.append(String(decoding: bytes, as: UTF8.self)) })
        return (lines, rejects, summary)
    }

    static func values(_ source: RecordSource) throws -> [JSONValue] {
        try RecordSources.readAll(source).compactMap { if case .record(let r) = $0 { return r.value }; return nil }
    }
}
