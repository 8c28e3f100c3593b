// lf shard directories, format version 1 — what lf-tokenize pack writes and lf-train reads.
//
// A shard directory holds `manifest.json` (see ShardManifest.swift: format version, tokenizer
// fingerprint, template, max length, packing, counts, and per file its name, size, sha256 and
// sequence/token counts) and shard files `shard-00000.zst`, `shard-00001.zst`, … (five or more
// digits, numbered from 0 in manifest order). Sequences are numbered globally: file k holds the
// sequences that follow those of files 0…k-1.
//
// A shard file is a valid zstd stream — `zstd -dc shard-00000.zst` prints every sequence payload back
// to back — made of a header, one zstd frame per sequence, and an index. All integers are
// little-endian; `w` is the id width in bytes (2 when the vocabulary has at most 65,536 ids, else 4,
// the same in every file of a directory).
//
//   offset 0   header: a zstd skippable frame of 24 bytes
//                u32 0x184D2A50 (skippable-frame magic), u32 16 (content size),
//                8 bytes ASCII "LFSHARDS", u32 format version (1), u32 w (2 or 4)
//   offset 24  sequence frames, back to back in sequence order: standard zstd frames that declare
//              their content size and carry zstd's content checksum. A frame's content, the
//              payload of one sequence of T tokens packing D documents, is
//                u32 T (≥ 1), u32 D (≥ 1),
//                T ids, w bytes each,
//                ceil(T/8) mask bytes: token i's bit is bit (i mod 8) of byte (i div 8), least
//                  significant bit first; 1 = the token is a training target; unused bits are 0,
//                D u32 document starts: the first is 0, strictly increasing, each < T,
//              so the payload is 8 + T·w + ceil(T/8) + 4·D bytes.
//   then       index: a zstd skippable frame of 8 + 24·N + 32 bytes
//                u32 0x184D2A51, u32 (24·N + 32),
//                N entries of 24 bytes, one per sequence in order:
//                  u64 frame offset (from the start of the file), u32 frame size (bytes),
//                  u32 T, u32 D, u32 trained targets (mask bits set)
//                trailer of 32 bytes:
//                  u64 N, u64 total tokens (sum of T), u64 offset of the index frame (its magic),
//                  8 bytes ASCII "LFSINDEX"
//
// The file ends with "LFSINDEX": a reader takes the last 32 bytes, checks the magic, goes to the index
// frame and reads the entries. Frames are contiguous: the first starts at 24, each next one where the
// previous ends, and the last ends where the index frame starts. Reading sequence i: entry i → the
// frame at (offset, size) → decompress to the payload size computed from T and D → ids, mask bits,
// document starts.
//
// Meaning (see PackedSequence): a mask bit of 1 means the loss includes predicting that token from
// the tokens before it in its document; the first token of every document has bit 0. Documents in
// one sequence must not attend to each other, and positions restart at 0 at each document start.

import Foundation

/// Writes a shard directory: sequences in, shard files of bounded size and manifest.json out, all
/// built under a temporary name and moved into place by `finish` (an interrupted or failed run
/// leaves nothing under the final name).
public final class ShardWriter {
    public static let defaultShardSize = 128 << 20

    public let directory: String
    public let vocabularySize: Int
    /// 2 or 4.
    public let idBytes: Int
    public let shardSizeLimit: Int
    private let output: AtomicDirectory
    private let compressor: ZstdCompressor
    private var current: ShardFileWriter?
    private var files: [ShardManifest.File] = []
    private var finished = false

    /// `shard-00000.zst`, `shard-00001.zst`, …
    public static func shardFileName(_ index: Int) -> String {
        let digits = String(index)
        return "shard-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".zst"
    }

    public static func isShardFileName(_ name: String) -> Bool {
        guard name.hasPrefix("shard-"), name.hasSuffix(".zst") else { return false }
        let digits = name.dropFirst(6).dropLast(4)
        return digits.count >= 5 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Refuses (usage error) an output path that exists and holds anything but a previous shard
    /// directory's files. Call before expensive work.
    public static func checkOutputDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return }
        guard isDir.boolValue else {
            throw LFError("the output path exists and is not a directory", at: SourceLocation(file: path),
                          hint: "choose another output directory with -o", status: .usage)
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let foreign = entries.filter { $0 != ShardManifest.fileName && !isShardFileName($0) }.sorted()
        if !foreign.isEmpty {
            let shown = foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", …" : "")
            throw LFError("the output directory exists and holds files that are not shards (\(shown))",
                          at: SourceLocation(file: path),
                          hint: "choose a new directory with -o, or remove this one first", status: .usage)
        }
    }

    /// - Parameters:
    ///   - vocabularySize: one more than the largest id; ids are stored as u16 when it is ≤ 65,536.
    ///   - shardSizeLimit: the most bytes a shard file may have; a file holding a single sequence
    ///     whose frame is larger is the only exception.
    public init(directory: String, vocabularySize: Int, shardSizeLimit: Int = ShardWriter.defaultShardSize,
                compressionLevel: Int32 = 3) throws {
        precondition(vocabularySize > 0 && shardSizeLimit > 0)
        try Self.checkOutputDirectory(directory)
        self.directory = directory
        self.vocabularySize = vocabularySize
        self.idBytes = vocabularySize <= 65536 ? 2 : 4
        self.shardSizeLimit = shardSizeLimit
        compressor = try ZstdCompressor(level: compressionLevel)
        output = try AtomicDirectory(path: directory)
    }

    deinit {
        if !finished { abort() }
    }

    /// Appends one sequence (ids must be < vocabularySize; the sequence must be well formed).
    public func append(_ sequence: PackedSequence) throws {
        precondition(!finished, "ShardWriter used after finish/abort")
        if let problem = sequence.problem {
            throw LFError("cannot write sequence \(files.reduce(0) { $0 + $1.sequences } + (current?.sequenceCount ?? 0)): \(problem)")
        }
        for id in sequence.ids where id < 0 || Int(id) >= vocabularySize {
            throw LFError("token id \(id) is outside the vocabulary (0 ..< \(vocabularySize))")
        }
        let payload = Self.payload(sequence, idBytes: idBytes)
        let frame = try payload.withUnsafeBytes { try compressor.compress($0) }
        if let file = current, file.sequenceCount > 0, file.projectedSize(addingFrameOf: frame.count) > shardSizeLimit {
            try closeCurrent()
        }
        if current == nil {
            let name = Self.shardFileName(files.count)
            current = try ShardFileWriter(path: output.file(name), name: name, idBytes: idBytes)
        }
        try current!.append(frame: frame, tokens: sequence.count, documents: sequence.documentStarts.count,
                            trained: sequence.trainedCount)
    }

    /// Writes the last shard file and manifest.json (the given manifest with its files, counts of
    /// sequences/tokens/trained tokens, id width and vocabulary size filled in), and moves the
    /// directory into place, replacing a previous shard directory there.
    @discardableResult
    public func finish(_ manifest: ShardManifest) throws -> ShardManifest {
        precondition(!finished, "ShardWriter finished twice")
        if current != nil { try closeCurrent() }
        var m = manifest
        m.files = files
        m.idBytes = idBytes
        m.vocabularySize = vocabularySize
        m.counts.sequences = files.reduce(0) { $0 + $1.sequences }
        m.counts.tokens = files.reduce(0) { $0 + $1.tokens }
        m.counts.trainedTokens = files.reduce(0) { $0 + $1.trainedTokens }
        let text = m.json.serialized(pretty: true)
        let file = try AtomicFile(path: output.file(ShardManifest.fileName))
        try file.write(text)
        try file.commit()
        // AtomicDirectory replaces an existing directory only if the new one holds every name the
        // old one does; a previous run with more shard files would be refused, so move it aside first.
        var aside: String?
        if FileManager.default.fileExists(atPath: directory) {
            try Self.checkOutputDirectory(directory)
            let path = AtomicFile.temporarySibling(of: directory, suffix: "old")
            if rename(directory, path) != 0 { throw LFError.io("move the previous shard directory aside", path: directory) }
            aside = path
        }
        do {
            try output.commit()
        } catch {
            if let aside { rename(aside, directory) }
            throw error
        }
        finished = true
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
        return m
    }

    /// Removes everything written so far.
    public func abort() {
        guard !finished else { return }
        finished = true
        current?.abort()
        output.abort()
    }

    private func closeCurrent() throws {
        guard let file = current else { return }
        files.append(try file.finish())
        current = nil
    }

    /// The payload of one sequence frame (see the layout at the top of this file).
    static func payload(_ s: PackedSequence, idBytes: Int) -> [UInt8] {
        let t = s.count, d = s.documentStarts.count
        var out: [UInt8] = []
        out.reserveCapacity(8 + t * idBytes + (t + 7) / 8 + 4 * d)
        out.appendLittleEndian(UInt32(t))
        out.appendLittleEndian(UInt32(d))
        if idBytes == 2 {
            for id in s.ids { out.appendLittleEndian(UInt16(truncatingIfNeeded: id)) }
        } else {
            for id in s.ids { out.appendLittleEndian(UInt32(bitPattern: id)) }
        }
        var byte: UInt8 = 0
        for (i, bit) in s.mask.enumerated() {
            if bit { byte |= 1 << UInt8(i & 7) }
            if i & 7 == 7 { out.append(byte); byte = 0 }
        }
        if t & 7 != 0 { out.append(byte) }
        for start in s.documentStarts { out.appendLittleEndian(UInt32(start)) }
        return out
    }
}

/// One shard file: header at creation, frames, then the index at `finish()`. Out-of-order use is a
/// programming error (precondition).
final class ShardFileWriter {
    static let headerMagic: [UInt8] = Array("LFSHARDS".utf8)
    static let indexMagic: [UInt8] = Array("LFSINDEX".utf8)
    static let headerSize = 24
    static let entrySize = 24
    static let trailerSize = 32

    enum State { case writingFrames, finished }

    let name: String
    private let file: AtomicFile
    private var state = State.writingFrames
    private var offset = 0
    private var entries: [UInt8] = []
    private(set) var sequenceCount = 0
    private var tokens = 0
    private var trained = 0
    private var hasher = SHA256()

    init(path: String, name: String, idBytes: Int) throws {
        self.name = name
        file = try AtomicFile(path: path)
        var header = Zstd.skippableFrameHeader(variant: 0, contentSize: 16)
        header += Self.headerMagic
        header.appendLittleEndian(UInt32(ShardManifest.formatVersion))
        header.appendLittleEndian(UInt32(idBytes))
        try write(header)
        offset = header.count
        assert(offset == Self.headerSize)
    }

    /// The file size if one more frame of `frameSize` bytes were appended and the file finished.
    func projectedSize(addingFrameOf frameSize: Int) -> Int {
        offset + frameSize + 8 + (sequenceCount + 1) * Self.entrySize + Self.trailerSize
    }

    func append(frame: [UInt8], tokens t: Int, documents d: Int, trained tr: Int) throws {
        precondition(state == .writingFrames, "frame appended to a finished shard file")
        guard frame.count <= Int(UInt32.max), t <= Int(UInt32.max) else {
            throw LFError("a sequence is too large for the shard format (more than 4 GiB)")
        }
        entries.appendLittleEndian(UInt64(offset))
        entries.appendLittleEndian(UInt32(frame.count))
        entries.appendLittleEndian(UInt32(t))
        entries.appendLittleEndian(UInt32(d))
        entries.appendLittleEndian(UInt32(tr))
        try write(frame)
        offset += frame.count
        sequenceCount += 1
        tokens += t
        trained += tr
    }

    /// Writes the index and moves the file into place (inside the directory being built).
    func finish() throws -> ShardManifest.File {
        precondition(state == .writingFrames, "shard file finished twice")
        let indexOffset = offset
        var index = Zstd.skippableFrameHeader(variant: 1, contentSize: UInt32(entries.count + Self.trailerSize))
        index += entries
        index.appendLittleEndian(UInt64(sequenceCount))
        index.appendLittleEndian(UInt64(tokens))
        index.appendLittleEndian(UInt64(indexOffset))
        index += Self.indexMagic
        try write(index)
        offset += index.count
        try file.commit()
        state = .finished
        return ShardManifest.File(name: name, bytes: offset, sha256: hasher.hexDigest(), sequences: sequenceCount,
                                  tokens: tokens, trainedTokens: trained)
    }

    func abort() {
        if state == .writingFrames { file.abort() }
        state = .finished
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            hasher.update(raw)
            try file.write(raw)
        }
    }
}
