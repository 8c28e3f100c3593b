import Foundation

/// Reads a shard directory written by `ShardWriter` (layout: top of ShardWriter.swift).
///
/// Opening checks everything that can be checked without decompressing: manifest.json, that every
/// listed file exists with the listed size and sha256, each file's header, index and trailer, that
/// the frames tile the file, and that the per-file and total counts agree with the manifest. Reading
/// a sequence decompresses its one frame (zstd checks the frame's checksum) and checks the payload
/// against the index. Any problem is an `LFError` naming the file (and byte offset or sequence).
///
/// The reader is safe to use from several threads: the files are memory-mapped read-only.
///
/// ```swift
/// let shards = try ShardReader(directory: "shards/")
/// try shards.checkTokenizer(tokenizer)            // refuses shards made with another tokenizer
/// for i in 0 ..< shards.sequenceCount {
///     let s = try shards.sequence(i)               // ids, mask, documentStarts
/// }
/// ```
public final class ShardReader: @unchecked Sendable {
    public let directory: String
    public let manifest: ShardManifest
    /// The number of sequences in the directory.
    public let sequenceCount: Int

    struct Entry {
        var offset: Int
        var size: Int
        var tokens: Int
        var documents: Int
        var trained: Int
    }

    final class Shard {
        let name: String
        let path: String
        let file: MappedFile
        let entries: [Entry]
        init(name: String, path: String, file: MappedFile, entries: [Entry]) {
            self.name = name
            self.path = path
            self.file = file
            self.entries = entries
        }
    }

    private let shards: [Shard]
    /// firstSequence[k] is the global number of file k's first sequence; one extra entry at the end.
    private let firstSequence: [Int]
    private let decompressor: ZstdDecompressor

    /// Opens `directory` and checks it (see the type's comment). With `verifyChecksums: false` the
    /// sha256 of each file is not computed (everything else is still checked).
    public init(directory: String, verifyChecksums: Bool = true) throws {
        self.directory = directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw LFError("the shard directory does not exist", at: SourceLocation(file: directory),
                          hint: "make it with lf-tokenize pack … -o \(directory)")
        }
        guard isDir.boolValue else {
            throw LFError("expected a shard directory, found a file", at: SourceLocation(file: directory))
        }
        let manifestPath = (directory as NSString).appendingPathComponent(ShardManifest.fileName)
        manifest = try ShardManifest(contentsOf: manifestPath)
        var shards: [Shard] = []
        var first = [0]
        for listed in manifest.files {
            let shard = try Self.open(listed, in: directory, manifest: manifest, verifyChecksum: verifyChecksums)
            shards.append(shard)
            first.append(first.last! + shard.entries.count)
        }
        self.shards = shards
        firstSequence = first
        sequenceCount = first.last!
        decompressor = try ZstdDecompressor()
    }

    // MARK: Tokenizer check

    /// Refuses shards made with a different tokenizer. `source` names where `fingerprint` came from
    /// (the model directory) in the message.
    public func checkTokenizer(fingerprint: String, source: String) throws {
        guard fingerprint == manifest.tokenizerFingerprint else {
            throw LFError("the shards were made with a different tokenizer: the shards' tokenizer fingerprint is "
                          + "\(manifest.tokenizerFingerprint) (\(directory)/manifest.json), the model's is \(fingerprint) (\(source))",
                          hint: "pack the data again with this model's tokenizer (lf-tokenize pack --tokenizer MODEL_DIR …), or use the model the shards were made for")
        }
    }

    public func checkTokenizer(_ tokenizer: any TextTokenizer, source: String = "the model's tokenizer") throws {
        try checkTokenizer(fingerprint: tokenizer.fingerprint, source: source)
        guard tokenizer.vocabularySize >= manifest.vocabularySize else {
            throw LFError("the shards use ids up to \(manifest.vocabularySize - 1) but the tokenizer has only \(tokenizer.vocabularySize)",
                          at: SourceLocation(file: source))
        }
    }

    // MARK: Index (no decompression)

    /// The number of tokens of sequence `i`.
    public func tokenCount(ofSequence i: Int) -> Int { entry(i).tokens }
    /// The number of documents packed into sequence `i`.
    public func documentCount(ofSequence i: Int) -> Int { entry(i).documents }
    /// The number of trained targets of sequence `i`.
    public func trainedCount(ofSequence i: Int) -> Int { entry(i).trained }

    /// The shard file and position of sequence `i` (for messages).
    public func location(ofSequence i: Int) -> (file: String, indexInFile: Int) {
        let (k, j) = locate(i)
        return (shards[k].name, j)
    }

    private func locate(_ i: Int) -> (Int, Int) {
        precondition(i >= 0 && i < sequenceCount, "sequence \(i) is out of range 0 ..< \(sequenceCount)")
        var lo = 0, hi = shards.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if firstSequence[mid] <= i { lo = mid } else { hi = mid - 1 }
        }
        return (lo, i - firstSequence[lo])
    }

    private func entry(_ i: Int) -> Entry {
        let (k, j) = locate(i)
        return shards[k].entries[j]
    }

    // MARK: Sequences

    /// Sequence `i` (0 ..< sequenceCount): decompressed and checked.
    public func sequence(_ i: Int) throws -> PackedSequence {
        guard i >= 0 && i < sequenceCount else {
            throw LFError("sequence \(i) does not exist: the directory has \(sequenceCount) sequences", at: SourceLocation(file: directory))
        }
        let (k, j) = locate(i)
        let shard = shards[k]
        let e = shard.entries[j]
        let w = manifest.idBytes
        let payloadSize = 8 + e.tokens * w + (e.tokens + 7) / 8 + 4 * e.documents
        func fail(_ message: String) -> LFError {
            LFError("sequence \(i) (number \(j) in this file): \(message)", at: SourceLocation(file: shard.path, byteOffset: e.offset),
                    hint: "the shard file is damaged; pack the data again")
        }
        let payload: [UInt8]
        do {
            let frame = UnsafeRawBufferPointer(rebasing: shard.file.bytes[e.offset ..< e.offset + e.size])
            payload = try decompressor.decompressFrame(frame, expectedSize: payloadSize)
        } catch let error as LFError {
            throw fail(error.message)
        }
        return try payload.withUnsafeBytes { p -> PackedSequence in
            let t = Int(p.load(fromByteOffset: 0, as: UInt32.self).littleEndian)
            let d = Int(p.load(fromByteOffset: 4, as: UInt32.self).littleEndian)
            guard t == e.tokens, d == e.documents else {
                throw fail("the payload says \(t) tokens and \(d) documents, the index \(e.tokens) and \(e.documents)")
            }
            var ids = [Int32](repeating: 0, count: t)
            var offset = 8
            let vocab = manifest.vocabularySize
            for n in 0 ..< t {
                let id: Int = w == 2 ? Int(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
                                     : Int(p.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                guard id < vocab else { throw fail("token \(n) has id \(id), outside the vocabulary of \(vocab)") }
                ids[n] = Int32(id)
                offset += w
            }
            var mask = [Bool](repeating: false, count: t)
            var trained = 0
            for n in 0 ..< t {
                let bit = (p[offset + n >> 3] >> UInt8(n & 7)) & 1 == 1
                mask[n] = bit
                if bit { trained += 1 }
            }
            if t & 7 != 0, p[offset + (t >> 3)] >> UInt8(t & 7) != 0 {
                throw fail("unused bits of the last mask byte are set")
            }
            offset += (t + 7) / 8
            guard trained == e.trained else { throw fail("\(trained) mask bits are set, the index says \(e.trained)") }
            var starts = [Int](repeating: 0, count: d)
            for n in 0 ..< d {
                starts[n] = Int(p.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                offset += 4
            }
            let sequence = PackedSequence(ids: ids, mask: mask, documentStarts: starts)
            if let problem = sequence.problem { throw fail(problem) }
            return sequence
        }
    }

    /// Decompresses and checks every sequence (what `lf-tokenize stats --verify` does).
    public func verifyAllSequences() throws {
        for i in 0 ..< sequenceCount { _ = try sequence(i) }
    }

    // MARK: Opening a file

    static func open(_ listed: ShardManifest.File, in directory: String, manifest: ShardManifest, verifyChecksum: Bool) throws -> Shard {
        let path = (directory as NSString).appendingPathComponent(listed.name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LFError("shard file missing: manifest.json lists \(listed.name) but the directory has no such file",
                          at: SourceLocation(file: path), hint: "the shard directory is incomplete; pack the data again")
        }
        let file = try MappedFile(path: path)
        func fail(_ message: String, at offset: Int? = nil) -> LFError {
            LFError(message, at: SourceLocation(file: path, byteOffset: offset), hint: "the shard file is damaged; pack the data again")
        }
        guard file.count == listed.bytes else {
            throw fail("the file has \(file.count) bytes but manifest.json says \(listed.bytes) (truncated or replaced?)")
        }
        if verifyChecksum {
            let digest = SHA256.hex(file.bytes)
            guard digest == listed.sha256 else {
                throw fail("checksum mismatch: the file's sha256 is \(digest), manifest.json says \(listed.sha256)")
            }
        }
        let bytes = file.bytes
        let headerSize = ShardFileWriter.headerSize, trailerSize = ShardFileWriter.trailerSize, entrySize = ShardFileWriter.entrySize
        guard bytes.count >= headerSize + 8 + trailerSize else { throw fail("the file is too short (\(bytes.count) bytes) to be a shard") }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard u32(0) == Zstd.skippableMagicBase, u32(4) == 16, Array(bytes[8 ..< 16]) == ShardFileWriter.headerMagic else {
            throw fail("not an lf shard file (bad header)", at: 0)
        }
        let version = Int(u32(16))
        guard version == ShardManifest.formatVersion else { throw fail("shard format version \(version) is not supported", at: 16) }
        let width = Int(u32(20))
        guard width == manifest.idBytes else {
            throw fail("the file stores \(width)-byte ids but manifest.json says \(manifest.idBytes)", at: 20)
        }
        let trailer = bytes.count - trailerSize
        guard Array(bytes[(bytes.count - 8)...]) == ShardFileWriter.indexMagic else {
            throw fail("the file does not end with an index (truncated?)", at: bytes.count - 8)
        }
        let n64 = u64(trailer), total = u64(trailer + 8), indexOffset64 = u64(trailer + 16)
        guard n64 <= UInt64(bytes.count / entrySize), indexOffset64 < UInt64(bytes.count) else {
            throw fail("the index trailer is corrupt", at: trailer)
        }
        let n = Int(n64), indexOffset = Int(indexOffset64)
        guard indexOffset >= headerSize, indexOffset + 8 + n * entrySize + trailerSize == bytes.count,
              u32(indexOffset) == Zstd.skippableMagicBase + 1, Int(u32(indexOffset + 4)) == n * entrySize + trailerSize else {
            throw fail("the index frame is corrupt or not where the trailer says", at: indexOffset)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(n)
        var expectedOffset = headerSize
        var tokens = 0, trained = 0
        for k in 0 ..< n {
            let o = indexOffset + 8 + k * entrySize
            let e = Entry(offset: Int(u64(o)), size: Int(u32(o + 8)), tokens: Int(u32(o + 12)), documents: Int(u32(o + 16)),
                          trained: Int(u32(o + 20)))
            guard e.offset == expectedOffset, e.size > 0, e.offset + e.size <= indexOffset else {
                throw fail("index entry \(k) points at bytes \(e.offset) ..< \(e.offset + e.size), expected a frame starting at \(expectedOffset)", at: o)
            }
            guard e.tokens >= 1, e.documents >= 1, e.documents <= e.tokens, e.trained <= e.tokens - e.documents else {
                throw fail("index entry \(k) has impossible counts (\(e.tokens) tokens, \(e.documents) documents, \(e.trained) trained)", at: o)
            }
            expectedOffset = e.offset + e.size
            tokens += e.tokens
            trained += e.trained
            entries.append(e)
        }
        guard expectedOffset == indexOffset else { throw fail("there are bytes between the last frame and the index", at: expectedOffset) }
        guard UInt64(tokens) == total else { throw fail("the index entries hold \(tokens) tokens, the trailer says \(total)", at: trailer) }
        guard n == listed.sequences, tokens == listed.tokens, trained == listed.trainedTokens else {
            throw fail("the file holds \(n) sequences, \(tokens) tokens and \(trained) trained tokens; manifest.json says "
                       + "\(listed.sequences), \(listed.tokens) and \(listed.trainedTokens)")
        }
        return Shard(name: listed.name, path: path, file: file, entries: entries)
    }
}
