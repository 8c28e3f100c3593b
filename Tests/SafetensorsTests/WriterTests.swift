import Foundation
import Shared
import Testing
import TestSupport

@Suite struct WriterTests {
    let dir: URL

    init() throws { dir = try Fixtures.temporaryDirectory("lf-st-writer") }

    /// Distinct bytes for a tensor of `count` bytes.
    private func pattern(_ count: Int, seed: UInt8) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    @Test func roundTripsEveryDType() throws {
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        var expected: [String: (DType, [Int], Data)] = [:]
        for (i, dtype) in DType.allCases.enumerated() {
            let shape = [2, i % 3 + 1]
            let data = pattern(shape.reduce(1, *) * dtype.byteSize, seed: UInt8(i))
            try writer.add("t.\(dtype.rawValue)", dtype: dtype, shape: shape, data: data)
            expected["t.\(dtype.rawValue)"] = (dtype, shape, data)
        }
        let path = dir.appendingPathComponent("all.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.count == DType.allCases.count)
        for t in file.tensors {
            let (dtype, shape, data) = try #require(expected[t.name])
            #expect(t.dtype == dtype)
            #expect(t.shape == shape)
            #expect(t.elementCount == shape.reduce(1, *))
            #expect(t.byteCount == data.count)
            #expect(Data(file.data(of: t)) == data)
            #expect(file[t.name] == t)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == writer.serialized())
    }

    @Test func metadataAbsentEmptyAndEscaped() throws {
        let none = try SafetensorsWriter().serialized()
        // The empty file the Rust crate writes for `serialize({}, None)`.
        #expect([UInt8](none) == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))

        var empty = SafetensorsWriter(metadata: [:])
        try empty.addFloats("a", shape: [1], values: [0], as: .f32)
        let emptyBytes = try empty.serialized()
        // What Python's safetensors writes for metadata={} (checked with safetensors 0.8.0).
        let expectedHeader = "{\"__metadata__\":{},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        #expect(String(decoding: emptyBytes[8..<(8 + expectedHeader.utf8.count)], as: UTF8.self) == expectedHeader)
        let emptyPath = dir.appendingPathComponent("empty-meta.safetensors").path
        try empty.write(to: emptyPath)
        #expect(try SafetensorsFile(path: emptyPath).metadata.isEmpty)

        let tricky = ["quote\"back\\slash": "line\nbreak\ttab\u{1}ctl", "unicode é 🦙": "/slash", "": "empty key"]
        var writer = SafetensorsWriter(metadata: tricky)
        try writer.addFloats("w", shape: [], values: [1.5], as: .f32)
        let path = dir.appendingPathComponent("meta.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == tricky)
        #expect(try file.floats("w") == [1.5])
        // serde_json's escapes: \u0001 in lowercase hex, '/' and non-ASCII unescaped.
        let header = String(decoding: try ST.bytes(of: path), as: UTF8.self)
        #expect(header.contains("\\u0001"))
        #expect(header.contains("🦙"))
        #expect(header.contains("\"/slash\""))
    }

    @Test func zeroSizeAndScalarTensors() throws {
        var writer = SafetensorsWriter()
        try writer.add("empty", dtype: .f32, shape: [0, 3], data: Data())
        try writer.add("empty2", dtype: .bf16, shape: [3, 0], fill: { #expect($0.count == 0) })
        try writer.addFloats("scalar", shape: [], values: [3.5], as: .f64)
        try writer.add("none", dtype: .i64, shape: [0], data: Data())
        let path = dir.appendingPathComponent("zero.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        let empty = try #require(file["empty"])
        #expect(empty.shape == [0, 3])
        #expect(empty.elementCount == 0)
        #expect(empty.byteCount == 0)
        #expect(try file.floats("empty") == [])
        #expect(try file.floats("empty2") == [])
        #expect(try file.integers("none") == [])
        let scalar = try #require(file["scalar"])
        #expect(scalar.shape == [])
        #expect(scalar.elementCount == 1)
        #expect(try file.floats("scalar") == [3.5])
    }

    @Test func deterministicWhateverTheInsertionOrder() throws {
        let names = ["b", "a", "layers.10.w", "layers.2.w", "é", "Z", "a.b"]
        func build(_ order: [String]) throws -> Data {
            var w = SafetensorsWriter(metadata: ["z": "1", "a": "2", "m": "3"])
            let dtypes: [DType] = [.f32, .bf16, .i64, .u8, .f16, .bool, .f64]
            for name in order {
                let dtype = dtypes[names.firstIndex(of: name) ?? 0]
                try w.add(name, dtype: dtype, shape: [3], data: pattern(3 * dtype.byteSize, seed: UInt8(name.utf8.count)))
            }
            return try w.serialized()
        }
        let first = try build(names)
        #expect(try build(names.reversed()) == first)
        #expect(try build(names.sorted()) == first)
        let pathA = dir.appendingPathComponent("a.safetensors").path
        var w = SafetensorsWriter()
        try w.addFloats("x", shape: [2], values: [1, 2], as: .bf16)
        try w.write(to: pathA)
        let once = try ST.bytes(of: pathA)
        try w.write(to: pathA)  // overwriting is atomic and gives the same bytes
        #expect(try ST.bytes(of: pathA) == once)
    }

    /// The order rule: descending dtype alignment in the Rust crate's order, then name.
    @Test func layoutOrderAndAlignment() throws {
        var writer = SafetensorsWriter()
        let dtypes: [DType] = [.bool, .u8, .i8, .i16, .u16, .f16, .bf16, .i32, .u32, .f32, .f64, .i64, .u64]
        for dtype in dtypes.shuffled() {
            try writer.add("y.\(dtype.rawValue)", dtype: dtype, shape: [3], data: pattern(3 * dtype.byteSize, seed: 1))
            try writer.add("x.\(dtype.rawValue)", dtype: dtype, shape: [1], data: pattern(dtype.byteSize, seed: 2))
        }
        let path = dir.appendingPathComponent("order.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        let expected = dtypes.reversed().flatMap { ["x.\($0.rawValue)", "y.\($0.rawValue)"] }
        #expect(file.names == expected)
        #expect(file.dataStart % 8 == 0)
        for t in file.tensors {
            #expect((file.dataStart + t.dataOffsets.lowerBound) % t.dtype.byteSize == 0, "\(t.name) misaligned")
        }
    }

    @Test func dataSectionStartsOnMultipleOfEight() throws {
        for length in 1...24 {
            var writer = SafetensorsWriter(metadata: length % 2 == 0 ? ["k": String(repeating: "v", count: length)] : nil)
            try writer.addFloats(String(repeating: "n", count: length), shape: [1], values: [1], as: .f32)
            let bytes = [UInt8](try writer.serialized())
            let n = Int(bytes[0]) | Int(bytes[1]) << 8
            #expect(n % 8 == 0)
            #expect(bytes.count == 8 + n + 4)
            #expect(bytes[8 + n - 1] == UInt8(ascii: " ") || bytes[8 + n - 1] == UInt8(ascii: "}"))
        }
    }

    @Test func addFloatsRoundsToNearestEven() throws {
        var writer = SafetensorsWriter()
        let values: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -2.5, 65520, .infinity]
        try writer.addFloats("bf", shape: [5], values: values, as: .bf16)
        try writer.addFloats("h", shape: [5], values: values, as: .f16)
        try writer.addFloats("f", shape: [5], values: values, as: .f32)
        let path = dir.appendingPathComponent("round.safetensors").path
        try writer.write(to: path)
        let file = try SafetensorsFile(path: path)
        let bf = try #require(file["bf"])
        #expect(bf.dtype == .bf16)
        let bfBits = file.data(of: bf).withMemoryRebound(to: UInt16.self) { Array($0) }
        // Ties go to even: 1 + 2^-8 → 1, 1 + 3·2^-8 → 1 + 2^-6; 65520 rounds up to 65536.
        #expect(bfBits == [0x3F80, 0x3F82, 0xC020, 0x4780, 0x7F80])
        #expect(try file.floats("bf") == [1, 1 + 0x1p-6, -2.5, 65536, .infinity])
        // f16 holds 1 + 2^-8 exactly; 65520 is past its largest finite value (65504) and rounds to inf.
        #expect(try file.floats("h") == [1 + 0x1p-8, 1 + 3 * 0x1p-8, -2.5, .infinity, .infinity])
        #expect(try file.floats("f") == values)
    }

    @Test func fillIsCalledAtWriteTimeInFileOrder() throws {
        final class Log: @unchecked Sendable { var calls: [String] = [] }
        let log = Log()
        var writer = SafetensorsWriter()
        try writer.add("b", dtype: .f32, shape: [2]) { buffer in
            log.calls.append("b")
            #expect(buffer.count == 8)
            buffer.storeBytes(of: Float(7), toByteOffset: 4, as: Float.self)
        }
        try writer.add("a", dtype: .f32, shape: [1]) { buffer in
            log.calls.append("a")
            buffer.storeBytes(of: Float(-1), as: Float.self)
        }
        #expect(log.calls.isEmpty)
        let path = dir.appendingPathComponent("fill.safetensors").path
        try writer.write(to: path)
        #expect(log.calls == ["a", "b"])
        let file = try SafetensorsFile(path: path)
        #expect(try file.floats("a") == [-1])
        #expect(try file.floats("b") == [0, 7])  // the buffer starts zeroed
    }

    @Test func failedFillLeavesNoFile() throws {
        struct Boom: Error {}
        var writer = SafetensorsWriter()
        try writer.addFloats("ok", shape: [1], values: [1], as: .f32)
        try writer.add("bad", dtype: .f32, shape: [1]) { _ in throw Boom() }
        let sub = dir.appendingPathComponent("fail")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let path = sub.appendingPathComponent("out.safetensors").path
        #expect(throws: LFError.self) { try writer.write(to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub.path).isEmpty)
    }

    @Test func addRejectsBadInput() throws {
        var writer = SafetensorsWriter()
        try writer.addFloats("w", shape: [2], values: [1, 2], as: .f32)
        #expect(throws: LFError.self) { try writer.addFloats("w", shape: [2], values: [1, 2], as: .f32) }
        #expect(throws: LFError.self) { try writer.addFloats("__metadata__", shape: [1], values: [1], as: .f32) }
        #expect(throws: LFError.self) { try writer.add("d", dtype: .f32, shape: [2], data: Data(count: 4)) }
        #expect(throws: LFError.self) { try writer.add("n", dtype: .f32, shape: [-1], data: Data()) }
        #expect(throws: LFError.self) { try writer.add("o", dtype: .f64, shape: [Int.max / 2, 4], data: Data()) }
        #expect(throws: LFError.self) { try writer.addFloats("c", shape: [3], values: [1, 2], as: .f32) }
        #expect(throws: LFError.self) { try writer.addFloats("i", shape: [1], values: [1], as: .i32) }
        #expect(writer.count == 1)
    }

    /// Rewriting each fixture file (written by Python's safetensors 0.8.0 through torch) from its own
    /// tensors and metadata gives back the identical bytes.
    @Test func rewritingFixturesReproducesPythonBytes() throws {
        let files = ["llama/model.safetensors", "llama-bf16/model.safetensors", "llama/golden.safetensors",
                     "gpt2-hub-keys/model.safetensors", "phi4-mini/optimizer_step1.safetensors",
                     "llama/dora/adapter/adapter_model.safetensors", "tiny-chat/model.safetensors"]
        for relative in files {
            let path = Fixtures.path("models/\(relative)")
            let file = try SafetensorsFile(path: path)
            var writer = SafetensorsWriter(metadata: file.metadata)
            for t in file.tensors.reversed() {
                try writer.add(t.name, dtype: t.dtype, shape: t.shape, data: Data(file.data(of: t)))
            }
            #expect([UInt8](try writer.serialized()) == (try ST.bytes(of: path)), "\(relative) differs")
        }
    }
}
