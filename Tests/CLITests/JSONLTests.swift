import Foundation
import Shared
import Testing
import TestSupport

@Suite struct JSONLTests {
    func file(_ bytes: [UInt8]) throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("data.jsonl").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    func records(_ text: String, chunkSize: Int = 1 << 20) throws -> [(Int, [String: Any])] {
        let (dir, path) = try file(Array(text.utf8))
        defer { try? FileManager.default.removeItem(at: dir) }
        var out: [(Int, [String: Any])] = []
        try JSONLReader(path: path, chunkSize: chunkSize).forEachObject { out.append(($0, $1)) }
        return out
    }

    @Test func crlfBlankLinesAndMissingFinalNewline() throws {
        let r = try records("{\"a\":1}\r\n\r\n   \n{\"a\":\"x\\r\"}\r\n{\"a\":3}")
        #expect(r.map(\.0) == [1, 4, 5])
        #expect(r[1].1["a"] as? String == "x\r")
        #expect(r[2].1["a"] as? Int == 3)
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let (dir, path) = try file([0xEF, 0xBB, 0xBF] + Array("{\"k\":\"v\"}\n".utf8))
        defer { try? FileManager.default.removeItem(at: dir) }
        var seen: [String] = []
        try JSONLReader(path: path).forEachObject { _, o in seen.append(o["k"] as! String) }
        #expect(seen == ["v"])
    }

    @Test func linesLongerThanTheBufferGrowIt() throws {
        let long = String(repeating: "é漢🙂", count: 50_000)
        let text = "{\"t\":\"short\"}\n{\"t\":\"\(long)\"}\n{\"t\":\"after\"}\n"
        let r = try records(text, chunkSize: 64)
        #expect(r.count == 3)
        #expect(r[1].1["t"] as? String == long)
        #expect(r[2].1["t"] as? String == "after")
        #expect(r.map(\.0) == [1, 2, 3])
    }

    @Test func malformedLineIsNamed() throws {
        let (dir, path) = try file(Array("{\"a\":1}\n{\"a\":2}\n{\"a\": 1,, }\n{\"a\":4}\n".utf8))
        defer { try? FileManager.default.removeItem(at: dir) }
        var seen = 0
        let error = #expect(throws: LFError.self) {
            try JSONLReader(path: path).forEachObject { _, _ in seen += 1 }
        }
        #expect(seen == 2)
        #expect(error?.location?.file == path)
        #expect(error?.location?.line == 3)
        #expect(error?.description.hasPrefix("\(path):3: malformed JSON") == true)
        #expect(error?.status == .failure)
    }

    @Test func nonObjectLineIsNamed() throws {
        let error = #expect(throws: LFError.self) { _ = try records("{\"a\":1}\n[1,2]\n") }
        #expect(error?.location?.line == 2)
        #expect(error?.message.contains("an array") == true)
    }

    @Test func truncatedFinalLineIsAnError() throws {
        let error = #expect(throws: LFError.self) { _ = try records("{\"a\":1}\n{\"a\": \"unterminated") }
        #expect(error?.location?.line == 2)
    }

    @Test func decodableRecordsNameTheField() throws {
        struct Message: Decodable { var role: String; var content: String }
        struct Chat: Decodable { var messages: [Message] }
        let (dir, path) = try file(Array("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n{\"messages\":[{\"role\":\"user\"}]}\n".utf8))
        defer { try? FileManager.default.removeItem(at: dir) }
        var ok = 0
        let error = #expect(throws: LFError.self) {
            try JSONLReader(path: path).forEach(Chat.self) { _, _ in ok += 1 }
        }
        #expect(ok == 1)
        #expect(error?.location?.line == 2)
        #expect(error?.location?.field == "messages[0].content")
        #expect(error?.message.contains("missing field \"content\"") == true)
    }

    @Test func writerIsDeterministicAndAtomic() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.jsonl").path
        let writer = try JSONLWriter(path: path)
        try writer.write(["b": 1, "a": "x/y", "c": [1, 2]] as [String: Any])
        try writer.write(["text": "line\nbreak"])
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "{\"a\":\"x/y\",\"b\":1,\"c\":[1,2]}\n{\"text\":\"line\\nbreak\"}\n")
        #expect(writer.count == 2)
    }
}

/// Reading a pipe (as stdin is in `cat data.jsonl | lf-format -`): the writer delivers the data in
/// small pieces, splitting a UTF-8 BOM, a CRLF and a line across reads.
@Suite struct PipeReadingTests {
    @Test func piecesArriveInDribbles() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let text: [UInt8] = [0xEF, 0xBB] + [0xBF] + Array("{\"n\":1}\r".utf8) + Array("\n{\"n\":2}\n\n{\"n\":".utf8) + Array("3}".utf8)
        let writeEnd = fds[1]
        let writer = Thread {
            var i = 0
            while i < text.count {
                let n = min(3, text.count - i)
                text.withUnsafeBytes { _ = write(writeEnd, $0.baseAddress! + i, n) }
                i += n
                usleep(1000)
            }
            close(writeEnd)
        }
        writer.start()
        var seen: [Int] = []
        let reader = JSONLReader(lines: LineReader(fileDescriptor: fds[0], displayName: "<stdin>", chunkSize: 64))
        try reader.forEachObject { line, object in seen.append(object["n"] as! Int * 10 + line) }
        close(fds[0])
        #expect(seen == [11, 22, 34])
        #expect(reader.displayName == "<stdin>")
    }
}
