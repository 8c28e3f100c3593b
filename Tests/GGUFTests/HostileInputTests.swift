import Foundation
import Shared
import Testing
import TestSupport

/// Truncated, corrupt and hostile GGUF files: every one gives an `LFError` located in the file (with
/// the byte offset, and the key or tensor when known) and a message saying what is wrong — never a
/// crash, a trap or a huge allocation.
@Suite struct HostileInputTests {
    static let fixture = GGUFFixtures.modelsDirectory + "/tiny-chat/tiny-chat.q4_k_m.gguf"

    /// Opens `raw` and expects an error whose message contains `message`, at `offset` (if given),
    /// about `field` (if given).
    @discardableResult
    func expectRejected(_ raw: RawGGUF, _ message: String, offset: Int? = nil, field: String? = nil,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LFError? {
        expectRejected(raw.data, message, offset: offset, field: field, sourceLocation: sourceLocation)
    }

    @discardableResult
    func expectRejected(_ data: Data, _ message: String, offset: Int? = nil, field: String? = nil,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LFError? {
        let error = expectLFError(sourceLocation: sourceLocation) { _ = try GGUFFile(bytes: data, name: "hostile.gguf") }
        guard let error else { return nil }
        #expect(error.message.contains(message), "message: \(error.message)", sourceLocation: sourceLocation)
        #expect(error.location?.file == "hostile.gguf", sourceLocation: sourceLocation)
        #expect(error.location?.byteOffset != nil, sourceLocation: sourceLocation)
        if let offset { #expect(error.location?.byteOffset == offset, "\(error)", sourceLocation: sourceLocation) }
        if let field { #expect(error.location?.field == field, "\(error)", sourceLocation: sourceLocation) }
        #expect(error.status == .failure, sourceLocation: sourceLocation)
        return error
    }

    // MARK: Header

    @Test func badMagicAndTinyFiles() {
        expectRejected(Data(), "only 0 bytes long", offset: 0)
        expectRejected(Data("GGU".utf8), "only 3 bytes long", offset: 0)
        var raw = RawGGUF(tensors: 0, kvs: 0)
        raw.bytes[3] = UInt8(ascii: "L")
        expectRejected(raw, "it starts with 'GGUL' (47 47 55 4c), expected 'GGUF'", offset: 0)
        expectRejected(Data([0x80, 0, 0, 0, 0, 0, 0, 0, 0x7B]), "not a GGUF file", offset: 0)
        expectRejected(Data("GGUF".utf8), "the GGUF version", offset: 4)
        expectRejected(Data("GGUF".utf8) + Data([3, 0, 0, 0, 0]), "the tensor count", offset: 8)
    }

    @Test(arguments: [(0 as UInt32, "unsupported GGUF version 0"), (1, "GGUF version 1 is not supported"),
                      (4, "unsupported GGUF version 4"), (99, "unsupported GGUF version 99")])
    func unsupportedVersions(_ version: UInt32, _ message: String) {
        expectRejected(RawGGUF(version: version, tensors: 0, kvs: 0), message, offset: 4)
    }

    @Test func bigEndianFileIsRecognised() throws {
        var data = try readBytes(Self.fixture)
        #expect(Array(data[4 ..< 8]) == [3, 0, 0, 0])
        data.replaceSubrange(4 ..< 8, with: [0, 0, 0, 3])
        let error = expectRejected(data, "big-endian", offset: 4)
        #expect(error?.hint?.contains("gguf_convert_endian") == true)
        expectRejected(RawGGUF(version: UInt32(2).byteSwapped, tensors: 0, kvs: 0), "version 2 byte-swapped", offset: 4)
    }

    @Test func countsLargerThanTheFileCouldHold() {
        expectRejected(RawGGUF(tensors: 0, kvs: .max), "declares 18446744073709551615 metadata entries", offset: 16)
        expectRejected(RawGGUF(tensors: 1 << 40, kvs: 0), "declares 1099511627776 tensors", offset: 8)
        expectRejected(RawGGUF(tensors: .max, kvs: 0), "tensors", offset: 8)
        // Plausible but too many for the bytes that follow: 2 entries need at least 28 bytes.
        var raw = RawGGUF(tensors: 0, kvs: 2)
        raw.kvU32("k", 1)
        expectRejected(raw, "can hold at most 1", offset: 16)
        // Counts that fit the minimum size but then run out of bytes.
        var short = RawGGUF(tensors: 0, kvs: 2)
        short.kvString("a", "xxxxxxxxxxxxxxxxxxxxxx")
        short.kvU32("b", 1)
        short.bytes.removeLast(2)
        expectRejected(short, "the file ends while reading the value of 'b'", field: "b")
    }

    // MARK: Metadata

    @Test func stringLengthsPastTheEnd() {
        var key = RawGGUF(tensors: 0, kvs: 1)
        key.u64(.max)
        key.bytes += Array("key and more bytes".utf8)
        expectRejected(key, "the key of metadata entry 0 (of 1) is 18446744073709551615 bytes long", offset: 24)

        var value = RawGGUF(tensors: 0, kvs: 1)
        value.string("k")
        value.u32(GGUFValueType.string.rawValue)
        let at = value.offset
        value.u64(1 << 62)
        value.bytes += [0x41, 0x42]
        expectRejected(value, "the value of 'k' is 4611686018427387904 bytes long", offset: at, field: "k")

        var element = RawGGUF(tensors: 0, kvs: 1)
        element.string("tokens")
        element.u32(GGUFValueType.array.rawValue)
        element.u32(GGUFValueType.string.rawValue)
        element.u64(2)
        element.string("ok")
        let second = element.offset
        element.u64(100)
        element.bytes += [0x41]
        expectRejected(element, "element 1 of 'tokens' is 100 bytes long", offset: second, field: "tokens")
    }

    @Test func arrayCountsLargerThanTheFile() {
        for (type, count) in [(GGUFValueType.uint32, UInt64(1) << 60), (.string, 3), (.array, 2), (.float64, 2), (.uint8, 9)] {
            var raw = RawGGUF(tensors: 0, kvs: 1)
            raw.string("arr")
            raw.u32(GGUFValueType.array.rawValue)
            raw.u32(type.rawValue)
            let at = raw.offset
            raw.u64(count)
            raw.bytes += [UInt8](repeating: 0, count: 8)  // room for 8 uint8 or one string length, not more
            expectRejected(raw, "declares an array of \(count) \(type.name) values", offset: at, field: "arr")
        }
    }

    @Test func unknownValueTypes() {
        var raw = RawGGUF(tensors: 0, kvs: 1)
        raw.string("k")
        let at = raw.offset
        raw.u32(13)
        raw.u32(0)
        expectRejected(raw, "metadata key 'k' has unknown value type 13", offset: at, field: "k")

        var arr = RawGGUF(tensors: 0, kvs: 1)
        arr.string("a")
        arr.u32(GGUFValueType.array.rawValue)
        let elementAt = arr.offset
        arr.u32(0xFFFF_FFFF)
        arr.u64(0)
        expectRejected(arr, "unknown array element type 4294967295", offset: elementAt, field: "a")
    }

    @Test func arraysNestedTooDeep() {
        var raw = RawGGUF(tensors: 0, kvs: 1)
        raw.string("deep")
        raw.u32(GGUFValueType.array.rawValue)
        for _ in 0 ..< 40 {
            raw.u32(GGUFValueType.array.rawValue)
            raw.u64(1)
        }
        raw.u32(GGUFValueType.uint8.rawValue)
        raw.u64(0)
        expectRejected(raw, "nests arrays more than 16 deep", field: "deep")
    }

    @Test func emptyAndDuplicateKeys() {
        var empty = RawGGUF(tensors: 0, kvs: 1)
        empty.kvU32("", 1)
        expectRejected(empty, "metadata entry 0 has an empty key", offset: 24)

        var dup = RawGGUF(tensors: 0, kvs: 3)
        dup.kvU32("general.x", 1)
        dup.kvU32("general.y", 1)
        let at = dup.offset
        dup.kvString("general.x", "again")
        expectRejected(dup, "duplicate metadata key 'general.x' (entries 0 and 2)", offset: at, field: "general.x")
    }

    @Test func invalidUTF8() {
        var key = RawGGUF(tensors: 0, kvs: 1)
        key.rawString([0x6B, 0xC0, 0x80])  // overlong NUL
        key.u32(GGUFValueType.uint8.rawValue)
        key.u8(1)
        expectRejected(key, "the key of metadata entry 0 (of 1) is not valid UTF-8", offset: 24)

        var value = RawGGUF(tensors: 0, kvs: 1)
        value.string("k")
        value.u32(GGUFValueType.string.rawValue)
        let at = value.offset
        value.rawString([0xED, 0xA0, 0x80])  // a UTF-16 surrogate
        expectRejected(value, "the value of 'k' is not valid UTF-8", offset: at, field: "k")

        var element = RawGGUF(tensors: 0, kvs: 1)
        element.string("tokens")
        element.u32(GGUFValueType.array.rawValue)
        element.u32(GGUFValueType.string.rawValue)
        element.u64(2)
        element.string("fine")
        element.rawString([0x61, 0xFF])
        expectRejected(element, "element 1 of 'tokens' is not valid UTF-8", field: "tokens")

        var tensor = RawGGUF(tensors: 1, kvs: 0)
        tensor.rawString([0x80])
        tensor.u32(1); tensor.i64(1); tensor.u32(0); tensor.u64(0)
        tensor.padAndData(4)
        expectRejected(tensor, "the name of tensor 0 (of 1) is not valid UTF-8", offset: 24)
    }

    @Test(arguments: [(0 as UInt32, "is 0"), (3, "is 3"), (48, "is 48")])
    func badAlignment(_ alignment: UInt32, _ message: String) {
        var raw = RawGGUF(tensors: 0, kvs: 1)
        raw.string("general.alignment")
        let at = raw.offset
        raw.u32(GGUFValueType.uint32.rawValue)
        raw.u32(alignment)
        let error = expectRejected(raw, message, offset: at, field: "general.alignment")
        #expect(error?.message.contains("non-zero power of two") == true)
    }

    @Test func alignmentOfTheWrongType() {
        var raw = RawGGUF(tensors: 0, kvs: 1)
        raw.kvString("general.alignment", "32")
        expectRejected(raw, "'general.alignment' must be a uint32, but it is string", field: "general.alignment")
    }

    // MARK: Tensor infos

    /// A file with one tensor info built by `info` and enough data for it.
    func oneTensor(dataBytes: Int = 64, _ info: (inout RawGGUF) -> Void) -> RawGGUF {
        var raw = RawGGUF(tensors: 1, kvs: 0)
        info(&raw)
        raw.padAndData(dataBytes)
        return raw
    }

    @Test func tooManyDimensions() {
        let raw = oneTensor { $0.tensorInfo("t5", dims: [1, 1, 1, 1, 1], offset: 0) }
        expectRejected(raw, "tensor 't5' has 5 dimensions; GGUF tensors have at most 4", offset: 24 + 8 + 2, field: "t5")
    }

    @Test func zeroDimensionsIsAScalar() throws {
        // llama.cpp accepts n_dims = 0 and treats the tensor as one element.
        let file = try oneTensor { $0.tensorInfo("s", dims: [], offset: 0) }.open()
        let t = try #require(file.tensor(named: "s"))
        #expect(t.dimensions == [] && t.elementCount == 1 && t.byteCount == 4 && t.rowLength == 1)
        #expect(try file.floats(t).count == 1)
    }

    @Test(arguments: [0 as Int64, -1, .min])
    func nonPositiveDimensions(_ ne: Int64) {
        let raw = oneTensor { $0.tensorInfo("w", dims: [4, ne], offset: 0) }
        // name (8 + 1), n_dims (4), dimension 0 (8) → dimension 1 at 24 + 21.
        expectRejected(raw, "tensor 'w' dimension 1 is \(ne); dimensions must be positive", offset: 24 + 21, field: "w")
    }

    @Test func elementCountOverflow() {
        let raw = oneTensor { $0.tensorInfo("big", dims: [1 << 40, 1 << 40], offset: 0) }
        expectRejected(raw, "the product of its dimensions overflows", field: "big")
        let bytes = oneTensor { $0.tensorInfo("big", dims: [1 << 62], type: GGMLType.f32.rawValue, offset: 0) }
        expectRejected(bytes, "its byte size overflows", field: "big")
    }

    @Test(arguments: [(99 as UInt32, "unknown ggml type 99"), (4, "unknown ggml type 4 (Q4_2, which ggml no longer supports)"),
                      (31, "Q4_0_4_4"), (40, "unknown ggml type 40")])
    func unknownGGMLTypes(_ type: UInt32, _ message: String) {
        let raw = oneTensor { $0.tensorInfo("w", dims: [32], type: type, offset: 0) }
        expectRejected(raw, message, offset: 24 + 8 + 1 + 4 + 8, field: "w")
    }

    @Test func rowsNotAWholeNumberOfBlocks() {
        let q4 = oneTensor { $0.tensorInfo("w", dims: [33, 2], type: GGMLType.q4_0.rawValue, offset: 0) }
        expectRejected(q4, "tensor 'w' of type Q4_0 has rows of 33 elements, not a multiple of the Q4_0 block size 32", field: "w")
        let q6 = oneTensor(dataBytes: 1000) { $0.tensorInfo("w", dims: [576], type: GGMLType.q6K.rawValue, offset: 0) }
        expectRejected(q6, "block size 256", field: "w")
    }

    @Test func duplicateTensorNames() {
        var raw = RawGGUF(tensors: 2, kvs: 0)
        raw.tensorInfo("w", dims: [8], offset: 0)
        let at = raw.offset
        raw.tensorInfo("w", dims: [8], offset: 32)
        raw.padAndData(64)
        expectRejected(raw, "duplicate tensor name 'w' (tensors 0 and 1)", offset: at, field: "w")
    }

    @Test func misalignedOffset() {
        var raw = RawGGUF(tensors: 2, kvs: 0)
        raw.tensorInfo("a", dims: [4], offset: 0)
        raw.tensorInfo("b", dims: [4], offset: 16)
        let offsetField = raw.offset - 8
        raw.padAndData(64)
        expectRejected(raw, "tensor 'b' has data offset 16, not a multiple of the alignment 32", offset: offsetField, field: "b")
    }

    @Test func customAlignmentAllowsSmallerSteps() throws {
        var raw = RawGGUF(tensors: 2, kvs: 1)
        raw.kvU32("general.alignment", 16)
        raw.tensorInfo("a", dims: [4], offset: 0)
        raw.tensorInfo("b", dims: [4], offset: 16)
        raw.padAndData(32, alignment: 16)
        let file = try raw.open()
        #expect(file.alignment == 16 && file.dataOffset % 16 == 0)
        #expect(file.tensor(named: "b")?.offset == 16)
    }

    /// Aligned, non-overlapping but out-of-order data is readable; llama.cpp's C reader would refuse
    /// it, and `layoutProblem` says so.
    @Test func nonCanonicalLayoutIsReadAndFlagged() throws {
        var raw = RawGGUF(tensors: 2, kvs: 0)
        raw.tensorInfo("a", dims: [8], offset: 32)
        raw.tensorInfo("b", dims: [8], offset: 0)
        raw.padAndData(64)
        let file = try raw.open()
        #expect(file.layoutProblem == "tensor 'a' has data offset 32, where llama.cpp expects 0")
        #expect(try file.floats(file.tensors[0]).count == 8)
    }

    @Test func overlappingTensors() {
        var raw = RawGGUF(tensors: 2, kvs: 0)
        raw.tensorInfo("a", dims: [16], offset: 0)   // 64 bytes
        raw.tensorInfo("b", dims: [8], offset: 32)
        raw.padAndData(128)
        expectRejected(raw, "the data of tensor 'b' (offset 32) overlaps the data of tensor 'a' (offset 0, 64 bytes)", field: "b")

        var same = RawGGUF(tensors: 2, kvs: 0)
        same.tensorInfo("a", dims: [8], offset: 0)
        same.tensorInfo("b", dims: [8], offset: 0)
        same.padAndData(64)
        expectRejected(same, "overlaps", field: "b")
    }

    @Test func tensorDataOutsideTheFile() {
        let past = oneTensor(dataBytes: 64) { $0.tensorInfo("w", dims: [16], offset: 32) }
        expectRejected(past, "the data of tensor 'w' (64 bytes at file offset 96) runs past the end of the file (128 bytes)", field: "w")
        let far = oneTensor { $0.tensorInfo("w", dims: [4], offset: 1 << 40) }
        expectRejected(far, "runs past the end of the file", field: "w")
        let absurd = oneTensor { $0.tensorInfo("w", dims: [4], offset: .max) }
        expectRejected(absurd, "past any possible file size", field: "w")
    }

    // MARK: Truncation and mutation of a real file

    /// Every prefix of the header region (header, metadata, tensor infos, padding) and prefixes
    /// around every tensor boundary in the data are refused with a located LFError.
    @Test func truncationAnywhereIsRefused() throws {
        let data = try readBytes(Self.fixture)
        let file = try GGUFFile(path: Self.fixture)
        let dataEnd = file.tensors.map { file.dataOffset + $0.offset + $0.byteCount }.max() ?? file.dataOffset
        #expect(dataEnd == data.count)
        var cuts = Array(0 ..< file.dataOffset)
        for t in file.tensors {
            let start = file.dataOffset + t.offset
            cuts += [start, start + 1, start + t.byteCount / 2, start + t.byteCount - 1]
        }
        cuts += stride(from: file.dataOffset, to: dataEnd, by: 97)
        var failures = 0
        for n in Set(cuts) where n < dataEnd {
            do {
                _ = try GGUFFile(bytes: data.prefix(n), name: "cut.gguf")
                Issue.record("a file cut to \(n) of \(data.count) bytes was accepted")
                failures += 1
            } catch let error as LFError {
                if error.location?.file != "cut.gguf" || error.location?.byteOffset == nil {
                    Issue.record("cut at \(n): error without file and byte offset: \(error)")
                    failures += 1
                }
            }
            if failures > 5 { break }
        }
    }

    /// Random byte changes in the header region (deterministic): the reader either accepts the file —
    /// and then every tensor's data lies in the file and dequantises — or throws an LFError.
    @Test func randomMutationsNeverCrash() throws {
        let original = try readBytes(Self.fixture)
        let headerEnd = try GGUFFile(path: Self.fixture).dataOffset
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        var accepted = 0, refused = 0
        for _ in 0 ..< 1500 {
            var data = original
            let flips = 1 + Int(next() % 4)
            for _ in 0 ..< flips {
                let at = Int(next() % UInt64(headerEnd))
                if next() % 3 == 0, at + 8 <= headerEnd {
                    // Overwrite a whole 8-byte field with a random or extreme value.
                    let v: UInt64 = [next(), .max, 1 << 63, 0, UInt64(next() % 1000)][Int(next() % 5)]
                    withUnsafeBytes(of: v.littleEndian) { data.replaceSubrange(at ..< at + 8, with: $0) }
                } else {
                    data[at] ^= UInt8(truncatingIfNeeded: next() | 1)
                }
            }
            do {
                let file = try GGUFFile(bytes: data, name: "mutated.gguf")
                accepted += 1
                for t in file.tensors {
                    #expect(file.dataOffset + t.offset + t.byteCount <= file.fileSize)
                    if t.type.canDequantize, t.elementCount <= 1 << 20 { _ = try file.floats(t) }
                }
            } catch let error as LFError {
                refused += 1
                #expect(error.location?.file == "mutated.gguf")
            }
        }
        #expect(refused > 0 && accepted > 0, "accepted \(accepted), refused \(refused)")
    }

    // MARK: Messages

    @Test func errorDescriptionNamesFileOffsetAndField() throws {
        let dir = try Fixtures.temporaryDirectory("gguf-hostile")
        defer { try? FileManager.default.removeItem(at: dir) }
        var raw = RawGGUF(tensors: 0, kvs: 2)
        raw.kvU32("general.alignment", 32)
        raw.string("tokenizer.ggml.tokens")
        raw.u32(GGUFValueType.array.rawValue)
        raw.u32(GGUFValueType.string.rawValue)
        let countAt = raw.offset
        raw.u64(1_000_000)
        raw.string("a")
        let path = dir.appendingPathComponent("broken model.gguf").path
        try raw.data.write(to: URL(fileURLWithPath: path))
        let error = try #require(expectLFError { _ = try GGUFFile(path: path) })
        #expect(error.description.hasPrefix("\(path) @ byte \(countAt) [tokenizer.ggml.tokens]: metadata key 'tokenizer.ggml.tokens' declares an array of 1000000 string values"))
        #expect(error.description.contains("hint:"))
    }

    @Test func missingFileAndDirectory() throws {
        let missing = expectLFError { _ = try GGUFFile(path: "/nonexistent/dir/model.gguf") }
        #expect(missing?.location?.file == "/nonexistent/dir/model.gguf")
        #expect(missing?.description.contains("No such file") == true)
        let dir = expectLFError { _ = try GGUFFile(path: GGUFFixtures.modelsDirectory) }
        #expect(dir?.message.contains("directory") == true)
    }
}
