import Foundation
import Shared
import Testing
import TestSupport

/// Helpers for the shard tests: sequences with known contents, directories written with them, and a
/// tokenizer that only has a fingerprint.
enum ShardFixture {
    /// A sequence of `count` tokens made of `documents` documents, deterministic in `seed`; ids are
    /// below `vocabulary`, and every document's first token is untrained.
    static func sequence(count: Int, documents: Int = 1, vocabulary: Int = 50_000, seed: Int = 0) -> PackedSequence {
        var ids: [Int32] = []
        var mask: [Bool] = []
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        for _ in 0 ..< count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            ids.append(Int32((state >> 33) % UInt64(vocabulary)))
            mask.append((state >> 17) & 3 != 0)
        }
        let step = max(1, count / documents)
        let starts = (0 ..< min(documents, count)).map { $0 * step }
        for s in starts { mask[s] = false }
        return PackedSequence(ids: ids, mask: mask, documentStarts: starts)
    }

    /// Writes `sequences` into a new directory under `parent` and returns its path and manifest.
    @discardableResult
    static func write(_ sequences: [PackedSequence], in parent: URL, name: String = "shards", vocabulary: Int = 50_000,
                      shardSize: Int = ShardWriter.defaultShardSize,
                      fingerprint: String = String(repeating: "ab", count: 32)) throws -> (String, ShardManifest) {
        let path = parent.appendingPathComponent(name).path
        let writer = try ShardWriter(directory: path, vocabularySize: vocabulary, shardSizeLimit: shardSize)
        for s in sequences { try writer.append(s) }
        let manifest = ShardManifest(tokenizerFingerprint: fingerprint, vocabularySize: vocabulary,
                                     template: .init(name: "chatml", stopTokens: ["<|im_end|>"]), maxLength: 4096, packing: true)
        return (path, try writer.finish(manifest))
    }

    /// The LFError thrown by `body`, or nil (recorded as a failure) when it does not throw one.
    static func error(sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> LFError? {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return nil
        } catch let error as LFError {
            return error
        } catch {
            Issue.record("expected an LFError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}

/// A tokenizer that is only a fingerprint and a vocabulary size.
struct FingerprintTokenizer: TextTokenizer {
    var fingerprint: String
    var vocabularySize: Int = 50_000
    func encode(_ text: String, parseSpecial: Bool) -> [Int32] { [] }
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String { "" }
    func tokenID(_ token: String) -> Int32? { nil }
}
