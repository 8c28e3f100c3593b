import Foundation
import Shared
import Testing
import TestSupport

/// One output of fixtures/gguf/quant/manifest.json: a case (input matrix) quantized to one type.
struct QuantCase: Sendable, CustomTestStringConvertible {
    var name: String
    var type: GGMLType
    var rows: Int
    var cols: Int
    var binFile: String
    var dequantFile: String

    var testDescription: String { "\(name).\(type.name)" }

    static let all: [QuantCase] = (try? load()) ?? []

    static func load() throws -> [QuantCase] {
        let url = URL(fileURLWithPath: GGUFFixtures.quantDirectory).appendingPathComponent("manifest.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cases = root?["cases"] as? [String: Any] ?? [:]
        var out: [QuantCase] = []
        for (name, value) in cases {
            guard let c = value as? [String: Any], let shape = c["shape"] as? [Int], shape.count == 2,
                  let outputs = c["outputs"] as? [String: Any] else { continue }
            for (typeName, o) in outputs {
                guard let o = o as? [String: Any], let type = GGMLType(name: typeName),
                      let file = o["file"] as? String, let dequant = o["dequant_file"] as? String else { continue }
                out.append(QuantCase(name: name, type: type, rows: shape[0], cols: shape[1],
                                     binFile: GGUFFixtures.quantDirectory + "/" + file,
                                     dequantFile: GGUFFixtures.quantDirectory + "/" + dequant))
            }
        }
        return out.sorted { ($0.name, $0.type.rawValue) < ($1.name, $1.type.rawValue) }
    }
}

@Suite struct QuantFixtureTests {
    @Test func manifestListsSixCasesTimesTenTypes() throws {
        let cases = try QuantCase.load()
        #expect(cases.count == 60)
        #expect(Set(cases.map(\.type)) == [.f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4K, .q5K, .q6K])
        #expect(cases.allSatisfy { $0.type.canDequantize })
    }

    /// The raw kernel on the `.bin` bytes gives ggml's `.dequant.f32` bit for bit.
    @Test(arguments: QuantCase.all)
    func dequantizesBitForBit(_ c: QuantCase) throws {
        let bin = try readBytes(c.binFile)
        let expected = try readFloats(c.dequantFile)
        let count = c.rows * c.cols
        #expect(bin.count == c.type.byteCount(elements: count), "\(c.binFile): size does not match \(c.rows)×\(c.cols) \(c.type.name)")
        #expect(expected.count == count)
        var actual = [Float](repeating: .nan, count: count)
        try bin.withUnsafeBytes { src in
            try actual.withUnsafeMutableBufferPointer { dst in
                try GGMLDequantize.dequantize(c.type, from: src.baseAddress!, into: dst.baseAddress!, count: count)
            }
        }
        if let d = firstBitDifference(actual, expected) {
            let where_ = "index \(d.index) (row \(d.index / c.cols), col \(d.index % c.cols))"
            let got = "\(d.actual) (0x\(String(d.actual.bitPattern, radix: 16)))"
            let want = "\(d.expected) (0x\(String(d.expected.bitPattern, radix: 16)))"
            Issue.record("\(c.name) \(c.type.name): first difference at \(where_): got \(got), ggml \(want)")
        }
    }

    /// The same data stored in a GGUF file (ne = [cols, rows]) and read back through `GGUFFile`.
    @Test func dequantizesThroughAGGUFFile() throws {
        let cases = try QuantCase.load()
        let writer = try GGUFWriter()
        try writer.add(key: "general.architecture", value: .string("test"))
        var payloads: [Data] = []
        for c in cases {
            let bin = try readBytes(c.binFile)
            try writer.addTensorInfo(name: c.testDescription, dimensions: [c.cols, c.rows], type: c.type, byteCount: bin.count)
            payloads.append(bin)
        }
        for p in payloads { try writer.writeTensorData(p) }
        try writer.finish()
        let file = try GGUFFile(bytes: writer.data, name: "quant.gguf")
        #expect(file.tensors.count == cases.count)
        for c in cases {
            let t = try #require(file.tensor(named: c.testDescription))
            #expect(t.dimensions == [c.cols, c.rows])
            #expect(t.rowLength == c.cols && t.rowCount == c.rows)
            #expect(Data(file.data(of: t)) == (try readBytes(c.binFile)))
            let actual = try file.floats(t)
            if let d = firstBitDifference(actual, try readFloats(c.dequantFile)) {
                Issue.record("\(c.testDescription) via GGUFFile: index \(d.index): got \(d.actual), ggml \(d.expected)")
            }
        }
    }

    /// A tensor big enough to be split over threads (1024 rows) gives the same floats as the
    /// single-threaded kernel: the row split must not shift or drop any row.
    @Test(arguments: [GGMLType.f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4K, .q5K, .q6K])
    func parallelSplitMatchesFixture(_ type: GGMLType) throws {
        let c = try #require(try QuantCase.load().first { $0.name == "normal_8x512" && $0.type == type })
        let bin = try readBytes(c.binFile)
        let expected = try readFloats(c.dequantFile)
        let copies = 128
        var tiled = Data()
        for _ in 0 ..< copies { tiled.append(bin) }
        let writer = try GGUFWriter()
        try writer.addTensorInfo(name: "big", dimensions: [c.cols, c.rows * copies], type: type, byteCount: tiled.count)
        try writer.writeTensorData(tiled)
        try writer.finish()
        let file = try GGUFFile(bytes: writer.data, name: "big.gguf")
        let actual = try file.floats(file.tensors[0])
        #expect(actual.count == expected.count * copies)
        let want = Array((0 ..< copies).map { _ in expected }.joined())
        if let d = firstBitDifference(actual, want) {
            Issue.record("\(type.name) tiled ×\(copies): index \(d.index) (row \(d.index / c.cols)): got \(d.actual), expected \(d.expected)")
        }
    }

    @Test func unsupportedTypeIsAClearError() throws {
        let writer = try GGUFWriter()
        try writer.addTensorInfo(name: "blk.0.ffn_up.weight", dimensions: [256, 2], type: .q2K, byteCount: 2 * 84)
        try writer.writeTensorData([UInt8](repeating: 0, count: 2 * 84))
        try writer.finish()
        let file = try GGUFFile(bytes: writer.data, name: "q2k.gguf")
        let t = file.tensors[0]
        #expect(!t.type.canDequantize)
        let error = expectLFError { _ = try file.floats(t) }
        #expect(error?.message == "dequantising Q2_K is not supported (tensor blk.0.ffn_up.weight)")
        #expect(error?.location?.file == "q2k.gguf")
        #expect(error?.location?.field == "blk.0.ffn_up.weight")
        let raw = expectLFError {
            var out = [Float](repeating: 0, count: 256)
            try GGMLDequantize.dequantize(.iq2XXS, from: [UInt8](repeating: 0, count: 66), into: &out, count: 256)
        }
        #expect(raw?.message.contains("IQ2_XXS") == true)
    }

    /// Hand-made blocks with values worked out on paper, so a layout mistake that the fixtures'
    /// random data might hide shows up with a readable number.
    @Test func handMadeBlocks() throws {
        func run(_ type: GGMLType, _ block: [UInt8]) throws -> [Float] {
            var out = [Float](repeating: .nan, count: type.blockSize)
            try GGMLDequantize.dequantize(type, from: block, into: &out, count: type.blockSize)
            return out
        }
        // Q8_0: d = 0.5 (f16 0x3800), q = -3, 7, then zeros.
        var q8 = [UInt8](repeating: 0, count: 34)
        q8[0] = 0x00; q8[1] = 0x38; q8[2] = UInt8(bitPattern: -3); q8[3] = 7
        let q8v = try run(.q8_0, q8)
        #expect(q8v[0] == -1.5 && q8v[1] == 3.5 && q8v[2] == 0)
        // Q4_1: d = 2 (0x4000), m = -1 (0xBC00); byte 0 = 0x5A → element 0 = 10·2−1 = 19, element 16 = 5·2−1 = 9.
        var q41 = [UInt8](repeating: 0, count: 20)
        q41[0] = 0x00; q41[1] = 0x40; q41[2] = 0x00; q41[3] = 0xBC; q41[4] = 0x5A
        let q41v = try run(.q4_1, q41)
        #expect(q41v[0] == 19 && q41v[16] == 9 && q41v[1] == -1)
        // Q5_0: d = 1; qh bit 0 set and bit 16 set; byte 0 = 0x21 → element 0 = (1|16)−16 = 1, element 16 = (2|16)−16 = 2.
        var q50 = [UInt8](repeating: 0, count: 22)
        q50[1] = 0x3C; q50[2] = 0x01; q50[4] = 0x01; q50[6] = 0x21
        let q50v = try run(.q5_0, q50)
        #expect(q50v[0] == 1 && q50v[16] == 2 && q50v[1] == -16)
        // Q6_K: d = 1 (at byte 208), scale[0] = 2; ql[0] = 0x0F, qh[0] = 0x03 → q = 63 − 32 = 31 → 62.
        var q6 = [UInt8](repeating: 0, count: 210)
        q6[209] = 0x3C; q6[192] = 2; q6[0] = 0x0F; q6[128] = 0x03
        let q6v = try run(.q6K, q6)
        #expect(q6v[0] == 62 && q6v[1] == -64)
    }
}
