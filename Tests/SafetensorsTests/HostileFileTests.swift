import Foundation
import Shared
import Testing
import TestSupport

/// Damaged and hostile files: each must be refused with an LFError that names the file (and the
/// tensor, where there is one), never a crash.
@Suite struct HostileFileTests {
    let dir: URL

    init() throws { dir = try Fixtures.temporaryDirectory("lf-st-hostile") }

    private func expectError(_ header: String, data: [UInt8] = [], field: String?, _ fragments: String...,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let error = try ST.openError(ST.image(header: header, data: data), in: dir, sourceLocation: sourceLocation)
        #expect(error?.location?.field == field, "field: \(String(describing: error))", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error?.message.contains(fragment) == true, "\"\(fragment)\" not in: \(String(describing: error))",
                    sourceLocation: sourceLocation)
        }
        #expect(error?.hint != nil, sourceLocation: sourceLocation)
    }

    @Test func tooShortFiles() throws {
        for n in 0..<8 {
            let error = try ST.openError([UInt8](repeating: 0, count: n), in: dir)
            #expect(error?.message.contains("too short") == true)
        }
    }

    @Test func headerLengthLargerThanCap() throws {
        let error = try ST.openError(ST.image(header: "{}", declaredLength: 100_000_001), in: dir)
        #expect(error?.message.contains("larger than the 100000000-byte limit") == true)
        #expect(error?.location?.byteOffset == 0)
        let huge = try ST.openError(ST.image(header: "{}", declaredLength: .max), in: dir)
        #expect(huge?.message.contains("limit") == true)
    }

    @Test func headerLengthPastEndOfFile() throws {
        let error = try ST.openError(ST.image(header: "{}", declaredLength: 200), in: dir)
        #expect(error?.message.contains("runs past the end of the file") == true)
    }

    @Test func headerNotJSON() throws {
        try expectError("{\"a\": nope}", field: nil, "not valid JSON")
        try expectError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", data: [0, 0, 0, 0],
                        field: nil, "not valid JSON")
        try expectError("{} trailing", field: nil, "not valid JSON", "after the end")
        try expectError("", field: nil, "not valid JSON")
        // Deep nesting is refused, not a stack overflow.
        try expectError(String(repeating: "[", count: 100_000), field: nil, "nested")
        // Invalid UTF-8 inside a key.
        var bytes = Array("{\"a\u{1}\":{}}".utf8)
        bytes[3] = 0xFF
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        let error = try ST.openError(ST.image(headerBytes: bytes), in: dir)
        #expect(error?.message.contains("UTF-8") == true)
    }

    @Test func headerNotAnObject() throws {
        try expectError("[1, 2]", field: nil, "is an array")
        try expectError("\"x\"", field: nil, "is a string")
    }

    @Test func tensorEntryWrongTypes() throws {
        try expectError("{\"w\": \"x\"}", field: "w", "tensor entry is a string")
        try expectError("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w", "no \"dtype\"")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w", "no \"shape\"")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: [0, 0, 0, 0], field: "w", "no \"data_offsets\"")
        try expectError("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "\"dtype\" is a number")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "\"shape\" is a string")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "shape[0] is 1.5")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "shape[0] is a boolean")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", data: [0, 0, 0, 0], field: "w",
                        "two integers")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", data: [0, 0, 0, 0], field: "w",
                        "two integers")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0],
                        field: "w", "appears twice")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0],
                        field: "w", "too large")
        try expectError("{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0],
                        field: "w", "larger than")
    }

    @Test func negativeDimensionsAndOffsets() throws {
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "shape[0] is negative")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", data: [0, 0, 0, 0], field: "w",
                        "data_offsets[0] is negative")
    }

    @Test func unknownDType() throws {
        try expectError("{\"scales\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0],
                        field: "scales", "unsupported dtype \"F8_E4M3\"")
        let error = try ST.openError(ST.image(header: "{\"q\":{\"dtype\":\"I4\",\"shape\":[2],\"data_offsets\":[0,1]}}", data: [0]),
                                     in: dir)
        #expect(error?.hint?.contains("BF16") == true)
    }

    @Test func sizeMismatch() throws {
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "is 8 bytes", "span 4")
        try expectError("{\"w\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0], field: "w",
                        "is 2 bytes")
    }

    @Test func offsetsEndBeforeTheyBegin() throws {
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", data: [UInt8](repeating: 0, count: 8),
                        field: "w", "end before they begin")
    }

    @Test func offsetsOutOfRange() throws {
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [0, 0, 0, 0], field: "w",
                        "outside the data section (4 bytes)")
        try expectError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000000,1000004]}}", data: [0, 0, 0, 0],
                        field: "w", "outside")
    }

    @Test func overlappingTensors() throws {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        try expectError(header, data: [UInt8](repeating: 0, count: 12), field: "b", "overlap tensor \"a\"")
        // The same range twice.
        let twice = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        try expectError(twice, data: [0, 0, 0, 0], field: "b", "overlap")
    }

    @Test func holesAndUncoveredBytes() throws {
        let hole = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}"
        try expectError(hole, data: [UInt8](repeating: 0, count: 12), field: "b", "4 bytes after tensor \"a\" belong to no tensor")
        try expectError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: [UInt8](repeating: 0, count: 8),
                        field: "a", "at the start of the data section")
        try expectError("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [UInt8](repeating: 0, count: 12),
                        field: "a", "last 8 bytes of the file belong to no tensor")
        // No tensors but data.
        try expectError("{}", data: [1, 2, 3], field: nil, "last 3 bytes")
    }

    @Test func duplicateNames() throws {
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        try expectError(header, data: [UInt8](repeating: 0, count: 8), field: "w", "appears twice")
        try expectError("{\"__metadata__\":{},\"__metadata__\":{}}", field: "__metadata__", "appears twice")
    }

    @Test func badMetadata() throws {
        try expectError("{\"__metadata__\":{\"format\":1}}", field: "__metadata__.format", "expected a string")
        try expectError("{\"__metadata__\":[\"pt\"]}", field: "__metadata__", "is an array")
        try expectError("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", field: "__metadata__.k", "twice")
    }

    /// Every prefix of a valid file must be refused cleanly; only the whole file opens.
    @Test func truncatedAtEveryOffset() throws {
        let whole = try ST.bytes(of: ST.resource("python-written.safetensors"))
        for n in 0..<whole.count {
            let path = try ST.write(Array(whole[0..<n]), in: dir, name: "t\(n).safetensors")
            #expect(throws: LFError.self) { try SafetensorsFile(path: path) }
        }
        let path = try ST.write(whole, in: dir, name: "whole.safetensors")
        #expect(try SafetensorsFile(path: path).tensors.count == 9)
    }

    @Test func truncatedModelAtManyOffsets() throws {
        let whole = try ST.bytes(of: Fixtures.path("models/llama/model.safetensors"))
        var offsets = Array(stride(from: 0, to: 2200, by: 7))
        offsets += stride(from: 2200, to: whole.count, by: 9_973)
        offsets.append(whole.count - 1)
        for n in offsets {
            let path = try ST.write(Array(whole[0..<n]), in: dir, name: "m.safetensors")
            #expect(throws: LFError.self) { try SafetensorsFile(path: path) }
        }
    }

    /// Random byte changes in the header: the file either opens (and every tensor reads) or is
    /// refused with an LFError. A fixed seed keeps the test deterministic.
    @Test func corruptedHeadersNeverCrash() throws {
        let whole = try ST.bytes(of: ST.resource("python-written.safetensors"))
        let headerEnd = 8 + Int(whole[0]) + Int(whole[1]) << 8
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet = Array("{}[]\",:0123456789-.eE ntfaFIBU".utf8)
        var opened = 0, refused = 0
        for trial in 0..<1500 {
            var bytes = whole
            for _ in 0..<(1 + next() % 3) {
                let i = next() % headerEnd
                bytes[i] = trial % 2 == 0 ? alphabet[next() % alphabet.count] : UInt8(truncatingIfNeeded: next())
            }
            let path = try ST.write(bytes, in: dir, name: "f.safetensors")
            do {
                let file = try SafetensorsFile(path: path)
                for t in file.tensors {
                    _ = file.data(of: t)
                    if t.dtype.isFloatingPoint { _ = try file.floats(t.name) } else { _ = try file.integers(t.name) }
                }
                opened += 1
            } catch is LFError {
                refused += 1
            }
        }
        #expect(refused > 1000)
        #expect(opened + refused == 1500)
    }
}
