import Foundation
import Shared
import Testing
import TestSupport

@Suite struct AtomicOutputTests {
    @Test func fileAppearsOnlyOnCommit() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.txt").path
        let file = try AtomicFile(path: path)
        try file.write("hello\n")
        #expect(!FileManager.default.fileExists(atPath: path))
        try file.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "hello\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.txt"])
    }

    @Test func abandonedFileLeavesNothingAndKeepsTheOldOne() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.txt").path
        try AtomicFile.write(Data("old".utf8), to: path)
        do {
            let file = try AtomicFile(path: path)
            try file.write("new, but never committed")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.txt"])
    }

    @Test func largeWritesBypassTheBuffer() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.bin").path
        let file = try AtomicFile(path: path)
        let chunk = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try file.write(Data([1, 2, 3]))
        try file.write(chunk)
        try file.write(Data([4]))
        try file.commit()
        let back = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(back.count == chunk.count + 4)
        #expect(back.prefix(3) == Data([1, 2, 3]))
        #expect(back.suffix(1) == Data([4]))
        #expect(back.dropFirst(3).prefix(chunk.count) == chunk)
    }

    @Test func missingDirectoryIsAClearError() throws {
        #expect(throws: LFError.self) {
            _ = try AtomicFile(path: "/nonexistent-dir-lf/out.txt")
        }
    }

    @Test func directoryReplacesAPreviousOutputOfTheSameShape() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("model").path
        for round in 0..<2 {
            let dir = try AtomicDirectory(path: out)
            try AtomicFile.write(Data("round \(round)".utf8), to: dir.file("config.json"))
            try dir.commit()
        }
        #expect(try String(contentsOfFile: out + "/config.json", encoding: .utf8) == "round 1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["model"])
    }

    @Test func directoryRefusesToReplaceForeignFiles() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("precious").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: out + "/thesis.tex"))
        let dir = try AtomicDirectory(path: out)
        try AtomicFile.write(Data("{}".utf8), to: dir.file("config.json"))
        let error = #expect(throws: LFError.self) { try dir.commit() }
        #expect(error?.message.contains("thesis.tex") == true)
        #expect(error?.status == .usage)
        #expect(try String(contentsOfFile: out + "/thesis.tex", encoding: .utf8) == "keep me")
        dir.abort()
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["precious"])
    }
}
