import Foundation
import Shared
import Testing
import TestSupport

/// Test helpers: build raw safetensors images and check that opening them fails cleanly.
enum ST {
    /// An 8-byte little-endian length, the header text, optional space padding to a multiple of 8,
    /// then `data`.
    static func image(header: String, data: [UInt8] = [], padTo8: Bool = true, declaredLength: UInt64? = nil) -> [UInt8] {
        var json = Array(header.utf8)
        if padTo8 { while json.count % 8 != 0 { json.append(0x20) } }
        return image(headerBytes: json, data: data, declaredLength: declaredLength)
    }

    static func image(headerBytes json: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    /// Writes `bytes` to a fresh file in `dir` and returns its path.
    static func write(_ bytes: [UInt8], in dir: URL, name: String = "x.safetensors") throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Opens `bytes` as a file and returns the LFError it must raise (recording an issue otherwise),
    /// after checking that the error names the file.
    @discardableResult
    static func openError(_ bytes: [UInt8], in dir: URL, name: String = "x.safetensors",
                          sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> LFError? {
        let path = try write(bytes, in: dir, name: name)
        do {
            let file = try SafetensorsFile(path: path)
            Issue.record("opened a hostile file with \(file.tensors.count) tensors", sourceLocation: sourceLocation)
            return nil
        } catch let error as LFError {
            #expect(error.location?.file == path, "error does not name the file: \(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(path), sourceLocation: sourceLocation)
            return error
        }
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func bytes(of file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// `Tests/Resources/safetensors/<name>`, located from this source file (no Package.swift resources).
    static func resource(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/safetensors").appendingPathComponent(name).path
    }
}
