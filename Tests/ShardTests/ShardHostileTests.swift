import Foundation
import Shared
import Testing
import TestSupport

/// Damaged shard directories: each must be refused with an LFError that names the file (and where
/// it helps, the sequence or byte offset), never a crash or wrong data.
@Suite struct ShardHostileTests {
    let dir: URL
    let path: String
    let sequences: [PackedSequence]

    init() throws {
        dir = try Fixtures.temporaryDirectory("lf-shards-hostile")
        sequences = (0 ..< 12).map { ShardFixture.sequence(count: 200 + $0, documents: 1 + $0 % 3, vocabulary: 1000, seed: $0) }
        path = try ShardFixture.write(sequences, in: dir, vocabulary: 1000, shardSize: 2048).0
    }

    var manifestPath: String { path + "/manifest.json" }
    var firstShard: String { path + "/shard-00000.zst" }

    func openError(verify: Bool = true, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LFError? {
        ShardFixture.error(sourceLocation: sourceLocation) { _ = try ShardReader(directory: path, verifyChecksums: verify) }
    }

    func editManifest(_ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: manifestPath))
    }

    func editShard(_ edit: (inout [UInt8]) -> Void) throws {
        var bytes = try ShardFixture.bytes(firstShard)
        edit(&bytes)
        try ShardFixture.writeBytes(bytes, to: firstShard)
    }

    @Test func theFixtureIsFine() throws {
        let reader = try ShardReader(directory: path)
        #expect(reader.manifest.files.count > 1)
        try reader.verifyAllSequences()
        for (i, s) in sequences.enumerated() { #expect(try reader.sequence(i) == s) }
    }

    @Test func noDirectoryOrAFile() throws {
        let missing = ShardFixture.error { _ = try ShardReader(directory: dir.appendingPathComponent("nope").path) }
        #expect(missing?.message.contains("does not exist") == true)
        let file = ShardFixture.error { _ = try ShardReader(directory: manifestPath) }
        #expect(file?.message.contains("found a file") == true)
    }

    @Test func missingManifest() throws {
        try FileManager.default.removeItem(atPath: manifestPath)
        let error = openError()
        #expect(error?.message.contains("no manifest.json") == true)
        #expect(error?.location?.file == manifestPath)
    }

    @Test func manifestNotJSON() throws {
        try ShardFixture.writeBytes(Array("{\"format\": ".utf8), to: manifestPath)
        #expect(openError()?.message.contains("not valid JSON") == true)
    }

    @Test func manifestWrongFormatOrVersion() throws {
        try editManifest { $0["format"] = "something-else" }
        #expect(openError()?.location?.field == "format")
        try editManifest { $0["format"] = "lf-shards"; $0["format_version"] = 2 }
        let error = openError()
        #expect(error?.message.contains("format_version 2 is not supported") == true)
        #expect(error?.location?.field == "format_version")
    }

    @Test func manifestMissingOrWrongKeys() throws {
        try editManifest { $0["tokenizer"] = nil }
        #expect(openError()?.location?.field == "tokenizer")
        try ShardFixture.write(sequences, in: dir, vocabulary: 1000, shardSize: 2048)
        try editManifest { $0["id_bytes"] = 3 }
        #expect(openError()?.message.contains("expected 2 or 4") == true)
        try editManifest { $0["id_bytes"] = 2; var t = $0["tokenizer"] as! [String: Any]; t["vocab_size"] = 70_000; $0["tokenizer"] = t }
        #expect(openError()?.message.contains("id_bytes is 2 but the vocabulary has 70000 ids") == true)
        try ShardFixture.write(sequences, in: dir, vocabulary: 1000, shardSize: 2048)
        try editManifest { var c = $0["counts"] as! [String: Any]; c["tokens"] = 1; $0["counts"] = c }
        #expect(openError()?.location?.field == "counts")
    }

    @Test func manifestFileListProblems() throws {
        try editManifest { var files = $0["files"] as! [[String: Any]]; files[1]["name"] = "../shard-00000.zst"; $0["files"] = files }
        #expect(openError()?.message.contains("is not a shard file name") == true)
        try ShardFixture.write(sequences, in: dir, vocabulary: 1000, shardSize: 2048)
        try editManifest { var files = $0["files"] as! [[String: Any]]; files[1]["name"] = files[0]["name"]; $0["files"] = files }
        #expect(openError()?.message.contains("listed twice") == true)
        try ShardFixture.write(sequences, in: dir, vocabulary: 1000, shardSize: 2048)
        try editManifest { var files = $0["files"] as! [[String: Any]]; files[0]["sha256"] = "XYZ"; $0["files"] = files }
        #expect(openError()?.message.contains("not a lower-case hex sha256") == true)
    }

    @Test func missingShardFile() throws {
        try FileManager.default.removeItem(atPath: firstShard)
        let error = openError()
        #expect(error?.message.contains("shard file missing") == true)
        #expect(error?.location?.file == firstShard)
    }

    @Test func truncatedShardFile() throws {
        try editShard { $0.removeLast(10) }
        let error = openError()
        #expect(error?.message.contains("truncated or replaced") == true)
        #expect(error?.location?.file == firstShard)
    }

    @Test func checksumMismatchNamesBothHashes() throws {
        let listed = try ShardReader(directory: path).manifest.files[0].sha256
        try editShard { $0[40] ^= 0x01 }
        let actual = try ShardFixture.bytes(firstShard).withUnsafeBytes { SHA256.hex($0) }
        let error = openError()
        #expect(error?.message.contains("checksum mismatch") == true)
        #expect(error?.message.contains(listed) == true)
        #expect(error?.message.contains(actual) == true)
    }

    /// With checksums not verified, a flipped byte inside a frame is still caught when the sequence
    /// is read: the error names the file, the sequence and the frame's byte offset.
    @Test func corruptFrameIsCaughtOnRead() throws {
        try editShard { $0[60] ^= 0x40 }
        let reader = try ShardReader(directory: path, verifyChecksums: false)
        let error = ShardFixture.error { _ = try reader.sequence(0) }
        #expect(error?.message.contains("sequence 0") == true, "\(String(describing: error))")
        #expect(error?.location?.file == firstShard)
        #expect(error?.location?.byteOffset == 24)
        // Other sequences are unaffected.
        #expect(try reader.sequence(sequences.count - 1) == sequences.last)
    }

    @Test func damagedHeaderTrailerOrIndex() throws {
        let original = try ShardFixture.bytes(firstShard)
        try editShard { $0[10] = UInt8(ascii: "X") }
        #expect(openError(verify: false)?.message.contains("bad header") == true)

        try ShardFixture.writeBytes(original, to: firstShard)
        try editShard { $0[20] = 4 }
        #expect(openError(verify: false)?.message.contains("4-byte ids but manifest.json says 2") == true)

        try ShardFixture.writeBytes(original, to: firstShard)
        try editShard { $0[$0.count - 1] = UInt8(ascii: "Y") }
        #expect(openError(verify: false)?.message.contains("does not end with an index") == true)

        try ShardFixture.writeBytes(original, to: firstShard)
        try editShard { $0[$0.count - 16] ^= 0x01 }  // the index offset in the trailer
        #expect(openError(verify: false)?.message.contains("index") == true)

        // An index entry pointing at the wrong place.
        try ShardFixture.writeBytes(original, to: firstShard)
        try editShard { bytes in
            let t = bytes.count - 32
            let indexOffset = Int(bytes[t + 16]) | Int(bytes[t + 17]) << 8 | Int(bytes[t + 18]) << 16
            bytes[indexOffset + 8] ^= 0x01
        }
        let entry = openError(verify: false)
        #expect(entry?.message.contains("index entry 0") == true, "\(String(describing: entry))")

        // Impossible counts in an entry.
        try ShardFixture.writeBytes(original, to: firstShard)
        try editShard { bytes in
            let t = bytes.count - 32
            let indexOffset = Int(bytes[t + 16]) | Int(bytes[t + 17]) << 8 | Int(bytes[t + 18]) << 16
            bytes[indexOffset + 8 + 16] = 0  // D = 0
        }
        #expect(openError(verify: false)?.message.contains("impossible counts") == true)

        // Too short to be a shard.
        try ShardFixture.writeBytes([0x50, 0x2A], to: firstShard)
        try editManifest { var files = $0["files"] as! [[String: Any]]; files[0]["bytes"] = 2; $0["files"] = files }
        #expect(openError(verify: false)?.message.contains("too short") == true)
    }

    @Test func idsOutsideTheManifestVocabulary() throws {
        // The manifest claims a smaller vocabulary than the ids written.
        try editManifest { var t = $0["tokenizer"] as! [String: Any]; t["vocab_size"] = 10; $0["tokenizer"] = t }
        let reader = try ShardReader(directory: path)
        let error = ShardFixture.error { _ = try reader.sequence(0) }
        #expect(error?.message.contains("outside the vocabulary of 10") == true)
    }

    @Test func sequenceOutOfRange() throws {
        let reader = try ShardReader(directory: path)
        #expect(ShardFixture.error { _ = try reader.sequence(sequences.count) }?.message.contains("does not exist") == true)
        #expect(ShardFixture.error { _ = try reader.sequence(-1) } != nil)
    }
}
