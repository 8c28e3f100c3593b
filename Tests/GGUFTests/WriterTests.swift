import Foundation
import Shared
import Testing
import TestSupport

/// Equality that treats two NaNs with the same bits as equal (GGUFValue's == follows IEEE).
func bitwiseEqual(_ a: GGUFValue, _ b: GGUFValue) -> Bool {
    switch (a, b) {
    case (.float32(let x), .float32(let y)): return x.bitPattern == y.bitPattern
    case (.float64(let x), .float64(let y)): return x.bitPattern == y.bitPattern
    case (.array(let s, let xs), .array(let t, let ys)):
        return s == t && xs.count == ys.count && zip(xs, ys).allSatisfy { bitwiseEqual($0, $1) }
    default: return a == b
    }
}

@Suite struct WriterTests {
    /// One key per value type, edge values included, and arrays of every element type, empty and nested.
    static let everyValue: [(String, GGUFValue)] = [
        ("t.uint8", .uint8(255)),
        ("t.int8", .int8(-128)),
        ("t.uint16", .uint16(65535)),
        ("t.int16", .int16(-32768)),
        ("t.uint32", .uint32(.max)),
        ("t.int32", .int32(.min)),
        ("t.float32", .float32(.pi)),
        ("t.float32.negzero", .float32(-0.0)),
        ("t.float32.inf", .float32(-.infinity)),
        ("t.float32.subnormal", .float32(.leastNonzeroMagnitude)),
        ("t.float32.nan", .float32(Float(bitPattern: 0x7FC0_1234))),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ 🦙\n\t\"quoted\"")),
        ("t.string.empty", .string("")),
        ("t.string.nul", .string("a\u{0}b")),
        ("t.uint64", .uint64(.max)),
        ("t.int64", .int64(.min)),
        ("t.float64", .float64(-1.0e-300)),
        ("t.float64.nan", .float64(Double(bitPattern: 0x7FF8_0000_0000_0042))),
        ("a.uint8", .array(.uint8, [.uint8(0), .uint8(1), .uint8(255)])),
        ("a.int8", .array(.int8, [.int8(-1), .int8(127)])),
        ("a.uint16", .array(.uint16, [.uint16(7)])),
        ("a.int16", .array(.int16, [.int16(-7), .int16(300)])),
        ("a.uint32", .array(.uint32, [.uint32(1), .uint32(.max)])),
        ("a.int32", .array(.int32, [.int32(3), .int32(-3)])),
        ("a.float32", .array(.float32, [.float32(0.5), .float32(-2.25)])),
        ("a.bool", .array(.bool, [.bool(true), .bool(false), .bool(true)])),
        ("a.string", .array(.string, [.string("Ġ t"), .string(""), .string("<|im_end|>")])),
        ("a.uint64", .array(.uint64, [.uint64(1 << 63)])),
        ("a.int64", .array(.int64, [.int64(-1), .int64(.max)])),
        ("a.float64", .array(.float64, [.float64(1e300), .float64(-0.0)])),
        ("a.empty.uint8", .array(.uint8, [])),
        ("a.empty.string", .array(.string, [])),
        ("a.nested", .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)]), .array(.int32, [])])),
        ("a.nested.mixed", .array(.array, [.array(.string, [.string("x")]), .array(.float32, [.float32(1)])])),
        ("a.nested.deep", .array(.array, [.array(.array, [.array(.array, [.array(.bool, [.bool(true)])])])])),
        ("a.nested.empty", .array(.array, [])),
    ]

    static func write(version: Int = 3, alignment: UInt32? = nil, values: [(String, GGUFValue)] = everyValue,
                      tensors: [(String, [Int], GGMLType, [UInt8])]) throws -> Data {
        let writer = try GGUFWriter(version: version)
        if let alignment { try writer.add(key: "general.alignment", value: .uint32(alignment)) }
        for (k, v) in values { try writer.add(key: k, value: v) }
        for (name, dims, type, bytes) in tensors {
            try writer.addTensorInfo(name: name, dimensions: dims, type: type, byteCount: bytes.count)
        }
        for (_, _, _, bytes) in tensors { try writer.writeTensorData(bytes) }
        try writer.finish()
        #expect(writer.state == .finished)
        return writer.data
    }

    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static let sampleTensors: [(String, [Int], GGMLType, [UInt8])] = [
        ("scalar", [], .f32, pattern(4, seed: 1)),
        ("vector", [3], .f32, pattern(12, seed: 2)),
        ("q4_0.matrix", [64, 2], .q4_0, pattern(4 * 18, seed: 3)),
        ("four.dims", [2, 3, 4, 5], .f16, pattern(240, seed: 4)),
        ("q6_k", [256], .q6K, pattern(210, seed: 5)),
        ("i8", [5], .i8, pattern(5, seed: 6)),
    ]

    @Test(arguments: [2, 3])
    func roundTripsEveryValueTypeAndTensor(version: Int) throws {
        let data = try Self.write(version: version, tensors: Self.sampleTensors)
        let file = try GGUFFile(bytes: data, name: "roundtrip.gguf")
        #expect(file.version == version)
        #expect(file.alignment == 32)
        #expect(file.metadata.count == Self.everyValue.count)
        for (i, (key, value)) in Self.everyValue.enumerated() {
            #expect(file.metadata[i].key == key)
            #expect(bitwiseEqual(file.metadata[i].value, value), "\(key): read \(file.metadata[i].value), wrote \(value)")
            #expect(file[key] != nil)
        }
        #expect(file.tensors.count == Self.sampleTensors.count)
        for (i, (name, dims, type, bytes)) in Self.sampleTensors.enumerated() {
            let t = file.tensors[i]
            #expect(t.name == name && t.dimensions == dims && t.type == type && t.byteCount == bytes.count)
            #expect(t.offset % 32 == 0)
            #expect(Array(file.data(of: t)) == bytes)
        }
        #expect(file.tensor(named: "scalar")?.elementCount == 1)
        #expect(file.tensor(named: "scalar")?.rowLength == 1)
        #expect(file.tensor(named: "four.dims")?.elementCount == 120)
        #expect(file.tensor(named: "four.dims")?.shapeDescription == "2×3×4×5")
        // Typed accessors on what was written.
        #expect(file.int("t.uint64") == nil)          // does not fit in Int
        #expect(file.int("t.int64") == Int(Int64.min))
        #expect(file.double("t.uint64") == Double(UInt64.max))
        #expect(file.double("t.float32") == Double(Float.pi))
        #expect(file.bool("t.bool.true") == true)
        #expect(file.string("t.string.nul") == "a\u{0}b")
        #expect(file.strings("a.string") == ["Ġ t", "", "<|im_end|>"])
        #expect(file.strings("a.int32") == nil)
        #expect(file.ints("a.int16") == [-7, 300])
        #expect(file.ints("a.uint64") == nil)  // 2^63 does not fit in Int
        #expect(file.doubles("a.float32") == [0.5, -2.25])
        #expect(file.ints("a.nested") == nil)
        #expect(file["a.nested"]?.arrayValues?[0].arrayValues == [.int32(1), .int32(2)])
    }

    @Test func versionTwoAndThreeDifferOnlyInTheVersionField() throws {
        let v2 = try Self.write(version: 2, tensors: Self.sampleTensors)
        let v3 = try Self.write(version: 3, tensors: Self.sampleTensors)
        #expect(v2.count == v3.count)
        #expect(v2[4] == 2 && v3[4] == 3)
        var patched = v2
        patched[4] = 3
        #expect(patched == v3)
    }

    @Test(arguments: [1, 8, 64, 4096] as [UInt32])
    func customAlignment(_ alignment: UInt32) throws {
        let data = try Self.write(alignment: alignment, values: [("general.name", .string("x"))], tensors: Self.sampleTensors)
        let file = try GGUFFile(bytes: data, name: "aligned.gguf")
        let a = Int(alignment)
        #expect(file.alignment == a)
        #expect(file.dataOffset % a == 0)
        #expect(file.dataOffset - file.headerByteCount < a)
        var expectedOffset = 0
        for t in file.tensors {
            #expect(t.offset == expectedOffset)
            expectedOffset += GGUFWriter.padded(t.byteCount, to: a)
        }
        // Every byte that is not header or tensor data is zero padding, and the file ends padded.
        #expect(data.count == file.dataOffset + expectedOffset)
        var covered = [Bool](repeating: false, count: data.count)
        for i in 0 ..< file.headerByteCount { covered[i] = true }
        for t in file.tensors { for i in 0 ..< t.byteCount { covered[file.dataOffset + t.offset + i] = true } }
        for i in 0 ..< data.count where !covered[i] {
            #expect(data[i] == 0, "padding byte \(i) is \(data[i])")
            if data[i] != 0 { break }
        }
    }

    /// Reading a llama.cpp-written fixture and writing it back with the same keys and tensors in the
    /// same order gives the identical file: the writer's layout is llama.cpp's, byte for byte.
    @Test(arguments: GGUFFixtures.modelFiles)
    func rewritesLlamaCppFilesByteForByte(_ relative: String) throws {
        let path = GGUFFixtures.modelsDirectory + "/" + relative
        let original = try readBytes(path)
        let file = try GGUFFile(path: path)
        let writer = try GGUFWriter(version: file.version)
        for (k, v) in file.metadata { try writer.add(key: k, value: v) }
        for t in file.tensors { try writer.addTensorInfo(name: t.name, dimensions: t.dimensions, type: t.type, byteCount: t.byteCount) }
        for t in file.tensors { try writer.writeTensorData(file.data(of: t)) }
        try writer.finish()
        #expect(writer.data.count == original.count)
        if writer.data != original {
            let i = zip(writer.data, original).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(writer.data.count, original.count)
            Issue.record("\(relative): first different byte at \(i)")
        }
    }

    @Test func writesAtomicallyToAPath() throws {
        let dir = try Fixtures.temporaryDirectory("gguf-writer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.gguf").path
        let writer = try GGUFWriter(path: path)
        try writer.add(key: "general.architecture", value: .string("llama"))
        try writer.addTensorInfo(name: "w", dimensions: [4], type: .f32, byteCount: 16)
        try writer.writeTensorData(floats: [1, 2, 3, 4])
        #expect(!FileManager.default.fileExists(atPath: path), "nothing under the final name before finish()")
        try writer.finish()
        let file = try GGUFFile(path: path)
        #expect(try file.floats(file.tensors[0]) == [1, 2, 3, 4])
        #expect(file.string("general.architecture") == "llama")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.gguf"])

        let abandoned = dir.appendingPathComponent("abandoned.gguf").path
        do {
            let w = try GGUFWriter(path: abandoned)
            try w.add(key: "k", value: .bool(true))
            try w.addTensorInfo(name: "w", dimensions: [1], type: .f32, byteCount: 4)
            try w.writeTensorData(floats: [1])
            w.abort()
            #expect(expectLFError { try w.finish() } != nil)
        }
        do {
            let w = try GGUFWriter(path: abandoned)
            try w.add(key: "k", value: .bool(true))
            // dropped without finish()
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.gguf"])
    }

    /// Data written in parts gives the same file as data written whole; parts that overrun a tensor,
    /// a whole write in the middle of a partial one, and finishing with a tensor half written are refused.
    @Test func tensorDataInParts() throws {
        let whole = try Self.write(values: [], tensors: Self.sampleTensors)
        let w = try GGUFWriter()
        for (name, dims, type, bytes) in Self.sampleTensors {
            try w.addTensorInfo(name: name, dimensions: dims, type: type, byteCount: bytes.count)
        }
        for (name, _, _, bytes) in Self.sampleTensors {
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 7)
                try bytes[start ..< end].withUnsafeBytes { try w.appendTensorData($0) }
                start = end
                if start < bytes.count {
                    #expect(expectLFError { try w.writeTensorData(bytes) }?.location?.field == name)
                    #expect(expectLFError { try w.finish() }?.message.contains("\(start) of its \(bytes.count) bytes written") == true)
                    let tooMany = [UInt8](repeating: 0, count: bytes.count - start + 1)
                    #expect(expectLFError { try tooMany.withUnsafeBytes { try w.appendTensorData($0) } }?.message.contains("too many") == true)
                }
            }
        }
        try w.finish()
        #expect(w.data == whole)
    }

    @Test func fileWithoutTensors() throws {
        let writer = try GGUFWriter()
        try writer.add(key: "general.type", value: .string("vocab"))
        try writer.finish()
        let file = try GGUFFile(bytes: writer.data, name: "vocab.gguf")
        #expect(file.tensors.isEmpty && file.metadata.count == 1)
        #expect(writer.data.count == file.dataOffset)
    }

    // MARK: Refusals

    @Test func refusesOutOfOrderCalls() throws {
        let w = try GGUFWriter()
        try w.add(key: "a", value: .uint8(1))
        #expect(expectLFError { try w.writeTensorData([UInt8]()) }?.message.contains("cannot write tensor data in state 'keyValues'") == true)
        try w.addTensorInfo(name: "t0", dimensions: [2], type: .f32, byteCount: 8)
        #expect(w.state == .tensorInfos)
        let late = expectLFError { try w.add(key: "b", value: .uint8(2)) }
        #expect(late?.message == "GGUF writer: cannot add metadata key 'b' in state 'tensorInfos'")
        #expect(late?.location?.field == "b")
        try w.addTensorInfo(name: "t1", dimensions: [1], type: .f32, byteCount: 4)
        #expect(expectLFError { try w.finish() }?.message.contains("2 of 2 tensors have no data yet (next: 't0')") == true)
        #expect(expectLFError { try w.writeTensorData([UInt8](repeating: 0, count: 4)) }?.message
                == "tensor 't0' needs 8 bytes of data, got 4")
        try w.writeTensorData(floats: [1, 2])
        #expect(w.state == .tensorData)
        #expect(expectLFError { try w.addTensorInfo(name: "t2", dimensions: [1], type: .f32, byteCount: 4) } != nil)
        #expect(expectLFError { try w.add(key: "c", value: .uint8(3)) } != nil)
        #expect(expectLFError { try w.finish() }?.message.contains("next: 't1'") == true)
        try w.writeTensorData(floats: [3])
        #expect(expectLFError { try w.writeTensorData(floats: [4]) }?.message.contains("already written") == true)
        try w.finish()
        #expect(expectLFError { try w.finish() } != nil)
        #expect(expectLFError { try w.add(key: "d", value: .uint8(4)) } != nil)
        // The refused calls changed nothing: the file is still valid and holds exactly what was accepted.
        let file = try GGUFFile(bytes: w.data, name: "w.gguf")
        #expect(file.metadata.map(\.key) == ["a"])
        #expect(try file.floats(file.tensors[0]) == [1, 2])
        #expect(try file.floats(file.tensors[1]) == [3])
    }

    @Test func refusesInvalidMetadataAndTensorInfos() throws {
        let w = try GGUFWriter()
        try w.add(key: "k", value: .int8(1))
        #expect(expectLFError { try w.add(key: "k", value: .int8(2)) }?.message == "duplicate metadata key 'k'")
        #expect(expectLFError { try w.add(key: "", value: .int8(2)) } != nil)
        #expect(expectLFError { try w.add(key: "mixed", value: .array(.int32, [.int32(1), .uint32(2)])) }?.message
                == "element 1 of the array is uint32, but the array holds int32")
        #expect(expectLFError { try w.add(key: "nested.mixed", value: .array(.array, [.array(.int8, [.bool(true)])])) } != nil)
        #expect(expectLFError { try w.add(key: "general.alignment", value: .uint32(0)) } != nil)
        #expect(expectLFError { try w.add(key: "general.alignment", value: .uint32(48)) } != nil)
        #expect(expectLFError { try w.add(key: "general.alignment", value: .uint64(64)) } != nil)
        #expect(w.alignment == 32)
        try w.add(key: "general.alignment", value: .uint32(16))
        #expect(w.alignment == 16)

        #expect(expectLFError { try w.addTensorInfo(name: "", dimensions: [1], type: .f32, byteCount: 4) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: String(repeating: "x", count: 64), dimensions: [1], type: .f32, byteCount: 4) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: "5d", dimensions: [1, 1, 1, 1, 1], type: .f32, byteCount: 4) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: "zero", dimensions: [4, 0], type: .f32, byteCount: 0) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: "neg", dimensions: [-4], type: .f32, byteCount: 0) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: "huge", dimensions: [1 << 40, 1 << 40], type: .f32, byteCount: 0) } != nil)
        #expect(expectLFError { try w.addTensorInfo(name: "q", dimensions: [48, 2], type: .q4_0, byteCount: 54) }?.message.contains("block size 32") == true)
        #expect(expectLFError { try w.addTensorInfo(name: "size", dimensions: [64], type: .q4_0, byteCount: 40) }?.message
                == "tensor 'size': 40 bytes given, but Q4_0 [64] takes 36 bytes")
        try w.addTensorInfo(name: "ok", dimensions: [64], type: .q4_0, byteCount: 36)
        #expect(expectLFError { try w.addTensorInfo(name: "ok", dimensions: [1], type: .f32, byteCount: 4) }?.message == "duplicate tensor name 'ok'")
        #expect(throws: LFError.self) { try GGUFWriter(version: 1) }
        #expect(throws: LFError.self) { try GGUFWriter(version: 4) }
    }
}
