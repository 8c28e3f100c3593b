import Foundation
import Shared
import Testing
import TestSupport

/// Reading files written by Python: the committed tiny file with exactly known values, and every
/// safetensors file of the shared fixtures.
@Suite struct ReaderTests {
    @Test func pythonWrittenFileValues() throws {
        let file = try SafetensorsFile(path: ST.resource("python-written.safetensors"))
        #expect(file.metadata == ["format": "pt"])
        #expect(file.dataStart == 8 + 536)
        // File order: the crate's dtype order, then name.
        #expect(file.names == ["c", "s", "a", "z", "b", "d", "g", "e", "f"])
        #expect(file["a"]?.shape == [2, 2])
        #expect(file["a"]?.dtype == .f32)
        #expect(try file.floats("a") == [1.0, -2.5, 3.25, 1e-3])
        #expect(try file.floats("b") == [1.0, -2.5, .infinity])
        #expect(file["b"]?.dtype == .bf16)
        #expect(try file.integers("c") == [-100, 7])
        #expect(try file.floats("d") == [0.5, -65504])
        #expect(try file.integers("e") == [0, 128, 255])
        #expect(try file.integers("f") == [1, 0, 1])
        #expect(file["f"]?.dtype == .bool)
        #expect(try file.integers("g") == [-3, 30000])
        #expect(file["s"]?.shape == [])
        #expect(try file.floats("s") == [Float(3.141592653589793)])
        #expect(Data(file.data(of: try file.tensor(named: "s"))) == withUnsafeBytes(of: 3.141592653589793) { Data($0) })
        #expect(file["z"]?.shape == [0, 4])
        #expect(try file.floats("z") == [])
        #expect(file["missing"] == nil)
    }

    @Test func pythonWrittenFileIsWhatTheWriterWrites() throws {
        let path = ST.resource("python-written.safetensors")
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        try writer.addFloats("a", shape: [2, 2], values: [1.0, -2.5, 3.25, 1e-3], as: .f32)
        try writer.add("b", dtype: .bf16, shape: [3], data: [UInt16(0x3F80), 0xC020, 0x7F80].withUnsafeBytes { Data($0) })
        try writer.add("c", dtype: .i64, shape: [2], data: [Int64(-100), 7].withUnsafeBytes { Data($0) })
        try writer.addFloats("d", shape: [2], values: [0.5, -65504], as: .f16)
        try writer.add("e", dtype: .u8, shape: [3], data: Data([0, 128, 255]))
        try writer.add("f", dtype: .bool, shape: [3], data: Data([1, 0, 1]))
        try writer.add("g", dtype: .i16, shape: [2], data: [Int16(-3), 30000].withUnsafeBytes { Data($0) })
        try writer.add("s", dtype: .f64, shape: [], data: withUnsafeBytes(of: 3.141592653589793) { Data($0) })
        try writer.add("z", dtype: .f32, shape: [0, 4], data: Data())
        #expect([UInt8](try writer.serialized()) == (try ST.bytes(of: path)))
    }

    @Test func typeErrorsNameTheTensor() throws {
        let file = try SafetensorsFile(path: ST.resource("python-written.safetensors"))
        do {
            _ = try file.floats("c")
            Issue.record("floats of an I64 tensor")
        } catch let error as LFError {
            #expect(error.location?.field == "c")
            #expect(error.message.contains("I64"))
        }
        do {
            _ = try file.floats("nope")
            Issue.record("floats of a missing tensor")
        } catch let error as LFError {
            #expect(error.location?.field == "nope")
            #expect(error.location?.file == file.path)
        }
        #expect(throws: LFError.self) { try file.integers("a") }
    }

    /// A header whose length is not a multiple of 8 (allowed by readers, never written by the
    /// crate) leaves 16-bit data unaligned: values must still read correctly.
    @Test func unalignedDataSection() throws {
        let dir = try Fixtures.temporaryDirectory("lf-st-unaligned")
        let header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},\"b\":{\"dtype\":\"BF16\",\"shape\":[9],\"data_offsets\":[6,24]}}"
        #expect(header.utf8.count % 2 == 1)
        let f16: [UInt16] = [0x3C00, 0xC000, 0x3800]  // 1, -2, 0.5
        let bf16: [UInt16] = (0..<9).map { HalfPrecision.floatToBF16(Float($0) - 4.5) }
        let data = (f16 + bf16).withUnsafeBytes { Array($0) }
        let path = try ST.write(ST.image(header: "  " + header, data: data, padTo8: false), in: dir)
        let file = try SafetensorsFile(path: path)
        #expect(file.dataStart % 2 == 1)
        #expect(try file.floats("h") == [1, -2, 0.5])
        #expect(try file.floats("b") == (0..<9).map { Float($0) - 4.5 })
    }

    /// Every safetensors file in the model fixtures opens, with PEFT/transformers metadata.
    @Test func everyFixtureFileOpens() throws {
        let root = Fixtures.path("models")
        let all = try #require(FileManager.default.subpaths(atPath: root)).filter { $0.hasSuffix(".safetensors") }.sorted()
        #expect(all.count >= 80)
        for relative in all {
            let file = try SafetensorsFile(path: (root as NSString).appendingPathComponent(relative))
            #expect(file.metadata == ["format": "pt"], "\(relative)")
            #expect(!file.tensors.isEmpty)
            for t in file.tensors where t.dtype.isFloatingPoint {
                let values = try file.floats(t.name)
                #expect(values.count == t.elementCount)
            }
        }
    }

    @Test func llamaModelTable() throws {
        let file = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
        #expect(file.tensors.count == 20)
        #expect(file["model.embed_tokens.weight"]?.shape == [256, 64])
        #expect(file["model.layers.1.self_attn.k_proj.weight"]?.shape == [32, 64])
        #expect(file["model.layers.0.mlp.down_proj.weight"]?.shape == [64, 128])
        #expect(file["lm_head.weight"] == nil)
        #expect(file.tensors.allSatisfy { $0.dtype == .f32 })
        // Tensors tile the data section in order.
        var end = 0
        for t in file.tensors {
            #expect(t.dataOffsets.lowerBound == end)
            end = t.dataOffsets.upperBound
        }
        #expect(file.dataStart + end == 363_792)
    }

    @Test func goldenWithInt64Tensors() throws {
        let file = try SafetensorsFile(path: Fixtures.path("models/llama/golden.safetensors"))
        let ids = try #require(file["input_ids"])
        #expect(ids.dtype == .i64)
        #expect(ids.shape == [2, 24])
        let input = try file.integers("input_ids")
        let labels = try file.integers("labels")
        #expect(input.count == 48)
        #expect(input.allSatisfy { (0..<256).contains($0) })
        for row in 0..<2 {
            for t in 0..<24 {
                let i = row * 24 + t
                #expect(labels[i] == (t < 8 ? -100 : input[i]))
            }
        }
        #expect(file["logits"]?.shape == [2, 24, 256])
        #expect(file.tensors.filter { $0.name.hasSuffix(".grad") }.count == 28)
        let adapter = try SafetensorsFile(path: Fixtures.path("models/llama/adapter/adapter_model.safetensors"))
        #expect(adapter.tensors.count == 28)
        #expect(adapter["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"]?.shape == [4, 128])
        let optimizer = try SafetensorsFile(path: Fixtures.path("models/llama/optimizer_step1.safetensors"))
        #expect(optimizer.tensors.count == 56)
        for t in optimizer.tensors where t.name.hasSuffix(".exp_avg_sq") {
            #expect(try optimizer.floats(t.name).allSatisfy { $0 >= 0 })
        }
        // Gradients in golden have the shapes of their adapter parameters.
        for t in adapter.tensors {
            #expect(file["\(t.name).grad"]?.shape == t.shape)
        }
    }

    /// llama-bf16 holds llama's weights rounded to bf16: check bit for bit, and the widening.
    @Test func bf16WideningMatchesRoundedF32() throws {
        let f32 = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
        let bf16 = try SafetensorsFile(path: Fixtures.path("models/llama-bf16/model.safetensors"))
        #expect(f32.names.sorted() == bf16.names.sorted())
        for t in bf16.tensors {
            #expect(t.dtype == .bf16)
            let bits = bf16.data(of: t).withMemoryRebound(to: UInt16.self) { Array($0) }
            let rounded = try f32.floats(t.name).map(HalfPrecision.floatToBF16)
            #expect(bits == rounded, "\(t.name): bf16 bits differ from round-to-nearest-even of llama's f32")
            let widened = try bf16.floats(t.name)
            #expect(widened.map(\.bitPattern) == bits.map { UInt32($0) << 16 }, "\(t.name)")
        }
        // copyFloats into caller memory agrees with floats.
        let t = try bf16.tensor(named: "model.layers.1.mlp.up_proj.weight")
        let out = UnsafeMutablePointer<Float>.allocate(capacity: t.elementCount)
        defer { out.deallocate() }
        try bf16.copyFloats(t, into: out)
        #expect(Array(UnsafeBufferPointer(start: out, count: t.elementCount)) == (try bf16.floats(t.name)))
    }
}
