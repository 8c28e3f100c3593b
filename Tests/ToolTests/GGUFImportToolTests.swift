import Foundation
import Testing
import TestSupport

/// `lf-gguf import` as users and scripts run it: exit codes, stdout/stderr, atomic output.
@Suite struct GGUFImportToolTests {
    @Test func jsonSummaryOnStdoutAndOneLineOnStderr() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Tools.run("lf-gguf", ["import", Fixtures.path("gguf/models/tiny-chat/tiny-chat.q8_0.gguf"), "-o", root.path + "/m", "--json"])
        #expect(r.status == 0)
        let summary = try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any]
        #expect(summary?["tensors"] as? Int == 20)
        #expect(summary?["dtype"] as? String == "float32")
        #expect(summary?["pre_tokenizer"] as? String == "smollm")
        #expect((summary?["source_tensor_types"] as? [String: Int])?["Q8_0"] == 15)  // 7 per layer + token_embd
        #expect(r.stderr.hasPrefix("imported 20 tensors"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: root.path + "/m/model.safetensors"))
    }

    @Test func quietPrintsNothing() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Tools.run("lf-gguf", ["import", "-q", Fixtures.path("gguf/models/llama/llama.q4_0.gguf"), "-o", root.path + "/m"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty && r.stderr.isEmpty)
    }

    @Test func missingInputFailsWithItsName() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        let r = try Tools.run("lf-gguf", ["import", root.path + "/nope.gguf", "-o", root.path + "/m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains(root.path + "/nope.gguf"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func badDTypeIsAUsageError() throws {
        let r = try Tools.run("lf-gguf", ["import", Fixtures.path("gguf/models/llama/llama.f32.gguf"), "-o", "/tmp/x", "--dtype", "q4"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--dtype"))
    }

    @Test func missingOutputOptionIsAUsageError() throws {
        let r = try Tools.run("lf-gguf", ["import", Fixtures.path("gguf/models/llama/llama.f32.gguf")])
        #expect(r.status == 2)
    }

    @Test func foreignOutputDirectoryIsAUsageError() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        try Data().write(to: URL(fileURLWithPath: root.path + "/keep.txt"))
        let r = try Tools.run("lf-gguf", ["import", Fixtures.path("gguf/models/llama/llama.f32.gguf"), "-o", root.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("keep.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["keep.txt"])
    }

    @Test func notAGGUFFileFailsWithTheByteOffset() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("this is not a gguf file at all".utf8).write(to: URL(fileURLWithPath: root.path + "/fake.gguf"))
        let r = try Tools.run("lf-gguf", ["import", root.path + "/fake.gguf", "-o", root.path + "/m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("fake.gguf @ byte 0"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["fake.gguf"])
    }

    /// Ctrl-C during a long import exits 130 and leaves neither the output nor a temporary.
    @Test(.enabled(if: DefaultModel.shouldTest, "the default model is not fetched"))
    func interruptLeavesNothingBehind() throws {
        let root = try Fixtures.temporaryDirectory("lf-import-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.path("lf-gguf"))
        process.arguments = ["import", DefaultModel.gguf, "-o", root.path + "/m", "-q"]
        try process.run()
        // Wait until the temporary directory exists, so the signal lands mid-import.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? FileManager.default.contentsOfDirectory(atPath: root.path))?.isEmpty ?? true {
            usleep(20_000)
        }
        usleep(200_000)
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }
}
