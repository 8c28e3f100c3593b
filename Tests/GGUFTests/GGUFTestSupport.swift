import Foundation
import Shared
import Testing
import TestSupport

/// Raw little-endian float32s from a fixture file.
func readFloats(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(data.count % 4 == 0, "\(path) is not a whole number of float32s")
    return data.withUnsafeBytes { raw in
        (0 ..< data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

func readBytes(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// The first index where the bit patterns differ, with both values, or nil when identical.
func firstBitDifference(_ actual: [Float], _ expected: [Float]) -> (index: Int, actual: Float, expected: Float)? {
    for i in 0 ..< min(actual.count, expected.count) where actual[i].bitPattern != expected[i].bitPattern {
        return (i, actual[i], expected[i])
    }
    if actual.count != expected.count {
        let i = min(actual.count, expected.count)
        return (i, i < actual.count ? actual[i] : .nan, i < expected.count ? expected[i] : .nan)
    }
    return nil
}

/// Expects `body` to throw an `LFError` and returns it (nil, with a recorded failure, otherwise).
@discardableResult
func expectLFError(_ comment: Comment? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) -> LFError? {
    do {
        try body()
        Issue.record("expected an LFError, nothing was thrown. \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch let error as LFError {
        return error
    } catch {
        Issue.record("expected an LFError, got \(type(of: error)): \(error). \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    }
    return nil
}

/// Builds GGUF bytes field by field, valid or not, for hostile-input tests. `offset` tells where the
/// next field will start, so tests can assert the byte offsets in error messages.
struct RawGGUF {
    var bytes = [UInt8]()
    var offset: Int { bytes.count }

    init() {}

    /// Magic, version, tensor count, kv count.
    init(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes += Array("GGUF".utf8)
        u32(version)
        u64(tensors)
        u64(kvs)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { rawString(Array(s.utf8)) }
    mutating func rawString(_ b: [UInt8]) { u64(UInt64(b.count)); bytes += b }

    /// A key followed by a uint32 value.
    mutating func kvU32(_ key: String, _ v: UInt32) { string(key); u32(GGUFValueType.uint32.rawValue); u32(v) }
    mutating func kvString(_ key: String, _ v: String) { string(key); u32(GGUFValueType.string.rawValue); string(v) }

    mutating func tensorInfo(_ name: String, dims: [Int64], type: UInt32 = GGMLType.f32.rawValue, offset: UInt64) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { i64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero padding to `alignment`, then `count` data bytes.
    mutating func padAndData(_ count: Int, alignment: Int = 32) {
        while bytes.count % alignment != 0 { bytes.append(0) }
        bytes += [UInt8](repeating: 0x3C, count: count)
    }

    var data: Data { Data(bytes) }

    func open(_ name: String = "hostile.gguf") throws -> GGUFFile {
        try GGUFFile(bytes: data, name: name)
    }
}

enum GGUFFixtures {
    static let quantDirectory = Fixtures.path("gguf/quant")
    static let modelsDirectory = Fixtures.path("gguf/models")

    /// Every `.gguf` under fixtures/gguf/models, relative to that folder, sorted.
    static let modelFiles: [String] = {
        let root = URL(fileURLWithPath: modelsDirectory)
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".gguf") }.sorted()
    }()
}
