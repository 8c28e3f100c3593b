import Foundation
import Shared
import Testing
import TestSupport

/// The shard format as a reader in another language sees it (the layout at the top of
/// ShardWriter.swift), and round trips through ShardWriter and ShardReader.
@Suite struct ShardFormatTests {
    let dir: URL

    init() throws { dir = try Fixtures.temporaryDirectory("lf-shards") }

    static let small = [
        PackedSequence(ids: [1, 300, 2], mask: [false, true, true], documentStarts: [0]),
        PackedSequence(ids: [5, 6, 7, 8, 9, 10, 11, 12, 13], mask: [false, true, true, true, false, true, true, true, true],
                       documentStarts: [0, 4]),
    ]

    static func u32(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
    static func u64(_ b: [UInt8], _ o: Int) -> Int { u32(b, o) | u32(b, o + 4) << 32 }

    /// Every byte of a two-sequence shard, checked by hand from the documented layout.
    @Test func exactLayoutOfASmallShard() throws {
        let (path, manifest) = try ShardFixture.write(Self.small, in: dir, vocabulary: 1000)
        #expect(manifest.files.map(\.name) == ["shard-00000.zst"])
        let b = try ShardFixture.bytes(path + "/shard-00000.zst")
        #expect(b.count == manifest.files[0].bytes)
        #expect(b.withUnsafeBytes { SHA256.hex($0) } == manifest.files[0].sha256)

        // Header: skippable frame 0x184D2A50, 16 bytes: "LFSHARDS", version 1, 2-byte ids.
        #expect(ShardFixture.hex(b[0 ..< 24]) == "50 2a 4d 18 10 00 00 00 4c 46 53 48 41 52 44 53 01 00 00 00 02 00 00 00")

        // Trailer: N = 2, 12 tokens, index offset, "LFSINDEX".
        let t = b.count - 32
        #expect(Self.u64(b, t) == 2)
        #expect(Self.u64(b, t + 8) == 12)
        let indexOffset = Self.u64(b, t + 16)
        #expect(Array(b[(b.count - 8)...]) == Array("LFSINDEX".utf8))
        #expect(Self.u32(b, indexOffset) == 0x184D_2A51)
        #expect(Self.u32(b, indexOffset + 4) == 2 * 24 + 32)
        #expect(indexOffset + 8 + 2 * 24 + 32 == b.count)

        // Index entries: offset, size, T, D, trained; the frames tile bytes 24 ..< indexOffset.
        let e0 = indexOffset + 8, e1 = e0 + 24
        #expect(Self.u64(b, e0) == 24)
        #expect(Self.u64(b, e1) == 24 + Self.u32(b, e0 + 8))
        #expect(Self.u64(b, e1) + Self.u32(b, e1 + 8) == indexOffset)
        #expect([Self.u32(b, e0 + 12), Self.u32(b, e0 + 16), Self.u32(b, e0 + 20)] == [3, 1, 2] as [Int])
        #expect([Self.u32(b, e1 + 12), Self.u32(b, e1 + 16), Self.u32(b, e1 + 20)] == [9, 2, 7] as [Int])

        // The file is a zstd stream whose content is the payloads back to back.
        let payload0 = "03 00 00 00 01 00 00 00 01 00 2c 01 02 00 06 00 00 00 00"
        let payload1 = "09 00 00 00 02 00 00 00 05 00 06 00 07 00 08 00 09 00 0a 00 0b 00 0c 00 0d 00 ee 01 00 00 00 00 04 00 00 00"
        #expect(ShardFixture.hex(try Zstd.decompress(b, maxSize: 1000)) == payload0 + " " + payload1)
        let frame0 = Array(b[24 ..< 24 + Self.u32(b, e0 + 8)])
        #expect(ShardFixture.hex(try frame0.withUnsafeBytes { try Zstd.decompressFrame($0, expectedSize: 19) }) == payload0)
    }

    /// `zstd -dc` (the command-line tool) reads a shard file as plain zstd.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd"), "needs /usr/bin/zstd"))
    func zstdCommandLineReadsAShard() throws {
        let (path, _) = try ShardFixture.write(Self.small, in: dir, vocabulary: 1000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        process.arguments = ["-dc", path + "/shard-00000.zst"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(out.count == 19 + 36)
        #expect(Array(out.prefix(4)) == [3, 0, 0, 0])
    }

    @Test(arguments: [(50_000, 2), (65_536, 2), (65_537, 4), (200_000, 4)])
    func roundTripIDWidths(vocabulary: Int, width: Int) throws {
        var sequences = (0 ..< 20).map { ShardFixture.sequence(count: 1 + $0 * 37, documents: 1 + $0 % 4, vocabulary: vocabulary, seed: $0) }
        // The largest id survives.
        sequences.append(PackedSequence(ids: [0, Int32(vocabulary - 1), Int32(vocabulary - 1)], mask: [false, true, false]))
        let (path, manifest) = try ShardFixture.write(sequences, in: dir, vocabulary: vocabulary)
        #expect(manifest.idBytes == width)
        let reader = try ShardReader(directory: path)
        #expect(reader.manifest == manifest)
        #expect(reader.manifest.idBytes == width)
        #expect(reader.sequenceCount == sequences.count)
        for (i, s) in sequences.enumerated() {
            #expect(try reader.sequence(i) == s)
            #expect(reader.tokenCount(ofSequence: i) == s.count)
            #expect(reader.documentCount(ofSequence: i) == s.documentStarts.count)
            #expect(reader.trainedCount(ofSequence: i) == s.trainedCount)
        }
        #expect(manifest.counts.tokens == sequences.reduce(0) { $0 + $1.count })
        #expect(manifest.counts.trainedTokens == sequences.reduce(0) { $0 + $1.trainedCount })
    }

    @Test func randomAccessAcrossManyFiles() throws {
        let sequences = (0 ..< 300).map { ShardFixture.sequence(count: 50 + ($0 * 7919) % 700, documents: 1 + $0 % 5, seed: $0) }
        let limit = 16 << 10
        let (path, manifest) = try ShardFixture.write(sequences, in: dir, shardSize: limit)
        #expect(manifest.files.count > 5)
        #expect(manifest.files.map(\.name) == (0 ..< manifest.files.count).map(ShardWriter.shardFileName))
        for file in manifest.files {
            #expect(file.bytes <= limit || file.sequences == 1, "\(file.name) is \(file.bytes) bytes")
            let size = try FileManager.default.attributesOfItem(atPath: path + "/" + file.name)[.size] as? Int
            #expect(size == file.bytes)
        }
        #expect(manifest.files.reduce(0) { $0 + $1.sequences } == 300)
        let reader = try ShardReader(directory: path)
        let order = (0 ..< 300).map { $0 * 7 % 300 }  // every index once, far apart
        for i in order { #expect(try reader.sequence(i) == sequences[i]) }
        // The location of the last sequence is in the last file.
        #expect(reader.location(ofSequence: 299).file == manifest.files.last?.name)
        // Concurrent reads give the same sequences.
        final class Box: @unchecked Sendable { var mismatches = 0; let lock = NSLock() }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in stride(from: worker, to: 300, by: 4) {
                if (try? reader.sequence(i)) != sequences[i] { box.lock.withLock { box.mismatches += 1 } }
            }
        }
        #expect(box.mismatches == 0)
    }

    @Test func aFrameLargerThanTheLimitGetsAFileOfItsOwn() throws {
        let sequences = (0 ..< 3).map { ShardFixture.sequence(count: 3000, seed: $0) }
        let (path, manifest) = try ShardFixture.write(sequences, in: dir, shardSize: 4096)
        #expect(manifest.files.count == 3)
        #expect(manifest.files.allSatisfy { $0.sequences == 1 && $0.bytes > 4096 })
        let reader = try ShardReader(directory: path)
        for i in 0 ..< 3 { #expect(try reader.sequence(i) == sequences[i]) }
    }

    @Test func sameSequencesSameBytes() throws {
        let sequences = (0 ..< 40).map { ShardFixture.sequence(count: 100 + $0, documents: 2, seed: $0) }
        let (a, _) = try ShardFixture.write(sequences, in: dir, name: "a", shardSize: 8192)
        let (b, _) = try ShardFixture.write(sequences, in: dir, name: "b", shardSize: 8192)
        let names = try FileManager.default.contentsOfDirectory(atPath: a).sorted()
        #expect(names == (try FileManager.default.contentsOfDirectory(atPath: b).sorted()))
        #expect(names.contains("manifest.json"))
        for name in names { #expect(try ShardFixture.bytes(a + "/" + name) == (try ShardFixture.bytes(b + "/" + name)), "\(name)") }
    }

    @Test func manifestJSONRoundTripsAndKeepsKeyOrder() throws {
        var manifest = ShardManifest(tokenizerFingerprint: String(repeating: "0f", count: 32), vocabularySize: 512,
                                     template: .init(name: "chatml", defaultSystem: "You are a helpful assistant.", eosToken: "<|im_end|>",
                                                     stopTokens: ["<|im_end|>"]),
                                     maxLength: 256, packing: true)
        manifest.settings.shuffle = true
        manifest.settings.seed = 42
        manifest.counts.records = 10
        manifest.counts.chatRecords = 9
        manifest.counts.textRecords = 1
        manifest.counts.recordsDropped = ["too_long": 2, "empty_conversation": 1]
        let (path, written) = try ShardFixture.write([ShardFixture.sequence(count: 10, vocabulary: 512)], in: dir, vocabulary: 512)
        _ = written
        // Rewrite the manifest with extra fields through the same writer path.
        let writer = try ShardWriter(directory: dir.appendingPathComponent("m").path, vocabularySize: 512)
        try writer.append(ShardFixture.sequence(count: 10, vocabulary: 512))
        let final = try writer.finish(manifest)
        let text = try String(contentsOfFile: dir.appendingPathComponent("m/manifest.json").path, encoding: .utf8)
        let keys = ["\"format\"", "\"format_version\"", "\"tokenizer\"", "\"id_bytes\"", "\"template\"", "\"max_length\"", "\"packing\"",
                    "\"settings\"", "\"counts\"", "\"files\""]
        let positions = keys.map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        #expect(text.contains("\"records_dropped\": {\n      \"empty_conversation\": 1,\n      \"too_long\": 2\n    }"))
        let read = try ShardManifest(contentsOf: dir.appendingPathComponent("m/manifest.json").path)
        #expect(read == final)
        #expect(read.template?.defaultSystem == "You are a helpful assistant.")
        #expect(read.settings.seed == 42)
        #expect(try ShardReader(directory: path).sequenceCount == 1)
    }

    @Test func packedSequenceHelpers() {
        let s = PackedSequence(ids: [1, 2, 3, 4, 5, 6], mask: [false, true, false, true, true, false], documentStarts: [0, 2, 5])
        #expect(s.documentRanges == [0 ..< 2, 2 ..< 5, 5 ..< 6])
        #expect(s.positionIDs() == [0, 1, 0, 1, 2, 0])
        #expect(s.trainedCount == 3)
        #expect(s.problem == nil)
        #expect(PackedSequence(ids: [1, 2], mask: [true, false]).problem?.contains("marked as trained") == true)
        #expect(PackedSequence(ids: [1, 2], mask: [false, false], documentStarts: [0, 2]).problem?.contains("past the end") == true)
        #expect(PackedSequence(ids: [1, 2, 3], mask: [false, false, false], documentStarts: [0, 2, 1]).problem != nil)
        #expect(PackedSequence(ids: [1, 2], mask: [false, false], documentStarts: [1]).problem?.contains("start at 0") == true)
        #expect(PackedSequence(ids: [], mask: [], documentStarts: [0]).problem?.contains("empty") == true)
    }

    @Test func writerRefusesBadSequences() throws {
        let writer = try ShardWriter(directory: dir.appendingPathComponent("bad").path, vocabularySize: 100)
        defer { writer.abort() }
        #expect(ShardFixture.error { try writer.append(PackedSequence(ids: [1, 100], mask: [false, true])) }?.message.contains("outside the vocabulary") == true)
        #expect(ShardFixture.error { try writer.append(PackedSequence(ids: [1, -1], mask: [false, true])) }?.message.contains("outside the vocabulary") == true)
        #expect(ShardFixture.error { try writer.append(PackedSequence(ids: [1, 2], mask: [true, true])) }?.message.contains("marked as trained") == true)
    }

    @Test func tokenizerFingerprintIsChecked() throws {
        let fingerprint = String(repeating: "ab", count: 32)
        let (path, _) = try ShardFixture.write([ShardFixture.sequence(count: 5)], in: dir, fingerprint: fingerprint)
        let reader = try ShardReader(directory: path)
        try reader.checkTokenizer(FingerprintTokenizer(fingerprint: fingerprint))
        let other = String(repeating: "cd", count: 32)
        let error = ShardFixture.error { try reader.checkTokenizer(FingerprintTokenizer(fingerprint: other), source: "models/other") }
        #expect(error?.message.contains("different tokenizer") == true)
        #expect(error?.message.contains(fingerprint) == true)
        #expect(error?.message.contains(other) == true)
        #expect(error?.message.contains("models/other") == true)
        #expect(error?.hint?.contains("pack the data again") == true)
        let small = ShardFixture.error { try reader.checkTokenizer(FingerprintTokenizer(fingerprint: fingerprint, vocabularySize: 10)) }
        #expect(small?.message.contains("only 10") == true)
    }

    @Test func aPreviousShardDirectoryIsReplaced() throws {
        let many = (0 ..< 30).map { ShardFixture.sequence(count: 500, seed: $0) }
        let (path, first) = try ShardFixture.write(many, in: dir, shardSize: 4096)
        #expect(first.files.count > 3)
        let (_, second) = try ShardFixture.write([ShardFixture.sequence(count: 5)], in: dir)
        #expect(second.files.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).sorted() == ["manifest.json", "shard-00000.zst"])
        #expect(try ShardReader(directory: path).sequenceCount == 1)
        // Nothing is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["shards"])
    }

    @Test func aDirectoryWithOtherFilesIsNotReplaced() throws {
        let path = dir.appendingPathComponent("precious").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try ShardFixture.writeBytes([1, 2, 3], to: path + "/notes.txt")
        let error = ShardFixture.error { _ = try ShardWriter(directory: path, vocabularySize: 10) }
        #expect(error?.status == .usage)
        #expect(error?.message.contains("notes.txt") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["notes.txt"])
        try ShardFixture.writeBytes([1], to: dir.appendingPathComponent("file").path)
        #expect(ShardFixture.error { _ = try ShardWriter(directory: dir.appendingPathComponent("file").path, vocabularySize: 10) }?.status == .usage)
    }

    @Test func anAbortedWriterLeavesNothing() throws {
        let path = dir.appendingPathComponent("aborted").path
        let writer = try ShardWriter(directory: path, vocabularySize: 50_000, shardSizeLimit: 4096)
        for i in 0 ..< 20 { try writer.append(ShardFixture.sequence(count: 400, seed: i)) }
        writer.abort()
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func shardFileNames() {
        #expect(ShardWriter.shardFileName(0) == "shard-00000.zst")
        #expect(ShardWriter.shardFileName(123_456) == "shard-123456.zst")
        #expect(ShardWriter.isShardFileName("shard-00012.zst"))
        #expect(ShardWriter.isShardFileName("shard-123456.zst"))
        #expect(!ShardWriter.isShardFileName("shard-12.zst"))
        #expect(!ShardWriter.isShardFileName("shard-0000a.zst"))
        #expect(!ShardWriter.isShardFileName("../shard-00000.zst"))
    }
}
