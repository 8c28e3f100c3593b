import Foundation
import Testing
import TestSupport

/// `lf-gguf inspect` end to end: the built binary on the shared fixtures.
@Suite struct GGUFInspectTests {
    static let fixture = Fixtures.path("gguf/models/tiny-chat/tiny-chat.q4_k_m.gguf")
    static let adapter = Fixtures.path("gguf/models/tiny-chat-adapter/tiny-chat-adapter.f32.gguf")

    @Test func textReport() throws {
        let r = try Tools.run("lf-gguf", ["inspect", Self.fixture])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == Self.fixture)
        #expect(lines.contains("  GGUF version   3"))
        #expect(lines.contains("  alignment      32"))
        #expect(lines.contains("  data offset    13408"))
        #expect(lines.contains("  file size      104,032 bytes (101.6 KiB)"))
        #expect(lines.contains("  metadata       30 keys"))
        #expect(lines.contains("  tensors        20 (106,816 elements)"))
        #expect(lines.contains("  layout         canonical"))
        func row(_ prefix: String) -> [String]? {
            lines.first { $0.hasPrefix("  " + prefix + " ") }?.split(separator: " ").map(String.init)
        }
        #expect(row("general.architecture") == ["general.architecture", "string", "\"llama\""])
        #expect(row("general.file_type") == ["general.file_type", "uint32", "15"])
        #expect(row("llama.rope.freq_base") == ["llama.rope.freq_base", "float32", "10000.0"])
        #expect(row("tokenizer.ggml.add_bos_token") == ["tokenizer.ggml.add_bos_token", "bool", "false"])
        let tokens = try #require(lines.first { $0.hasPrefix("  tokenizer.ggml.tokens ") })
        #expect(tokens.contains("array[string]  512 items: \"<|endoftext|>\", \"<|im_start|>\", \"<|im_end|>\", \"!\", \"\\\"\", \"#\", \"$\", \"%\", …"))
        let template = try #require(lines.first { $0.hasPrefix("  tokenizer.chat_template ") })
        #expect(template.hasSuffix("… (328 bytes; --full shows all)"))
        // Tensor table: header and two rows, columns as documented.
        #expect(lines.contains { $0.split(separator: " ") == ["#", "NAME", "TYPE", "SHAPE", "ELEMENTS", "BYTES", "OFFSET"] })
        #expect(lines.contains { $0.split(separator: " ") == ["1", "token_embd.weight", "Q8_0", "64×512", "32,768", "34,816", "256"] })
        #expect(lines.contains { $0.split(separator: " ") == ["7", "blk.0.ffn_down.weight", "Q5_0", "128×64", "8,192", "5,632", "43,776"] })
        #expect(lines.contains { $0.split(separator: " ") == ["F32", "5", "tensors", "320", "elements", "1,280", "bytes"] })
        #expect(lines.contains { $0.split(separator: " ") == ["Q5_0", "12", "tensors", "63,488", "elements", "43,648", "bytes"] })
    }

    @Test func fullShowsWholeStringsAndArrays() throws {
        let r = try Tools.run("lf-gguf", ["inspect", "--full", Self.fixture])
        #expect(r.status == 0)
        let template = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  tokenizer.chat_template ") })
        #expect(!template.contains("--full shows all"))
        #expect(template.hasSuffix("{% endif %}\""))
        let merges = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  tokenizer.ggml.merges ") })
        #expect(!merges.hasSuffix("…"))
        #expect(merges.components(separatedBy: "\", \"").count == 253)
    }

    @Test func jsonReport() throws {
        let r = try Tools.run("lf-gguf", ["inspect", "--json", Self.fixture])
        #expect(r.status == 0, "\(r.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        #expect(root["version"] as? Int == 3)
        #expect(root["alignment"] as? Int == 32)
        #expect(root["data_offset"] as? Int == 13408)
        #expect(root["file_bytes"] as? Int == 104_032)
        #expect(root["tensor_count"] as? Int == 20)
        #expect(root["canonical_layout"] as? Bool == true)
        let metadata = try #require(root["metadata"] as? [String: [String: Any]])
        #expect(metadata.count == 30)
        #expect(metadata["general.architecture"]?["type"] as? String == "string")
        #expect(metadata["general.architecture"]?["value"] as? String == "llama")
        #expect(metadata["general.file_type"]?["value"] as? Int == 15)
        #expect(metadata["llama.attention.layer_norm_rms_epsilon"]?["type"] as? String == "float32")
        #expect((metadata["llama.attention.layer_norm_rms_epsilon"]?["value"] as? Double).map { Float($0) } == Float(1e-5))
        #expect(metadata["tokenizer.ggml.add_bos_token"]?["value"] as? Bool == false)
        let template = try #require(metadata["tokenizer.chat_template"]?["value"] as? String)
        #expect(template.utf8.count == 328)
        let tokens = try #require(metadata["tokenizer.ggml.tokens"])
        #expect(tokens["type"] as? String == "array")
        #expect(tokens["element_type"] as? String == "string")
        #expect(tokens["count"] as? Int == 512)
        #expect((tokens["values"] as? [String])?.count == 16)
        #expect((tokens["values"] as? [String])?.prefix(3) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        let tensors = try #require(root["tensors"] as? [[String: Any]])
        #expect(tensors.count == 20)
        #expect(tensors[1]["name"] as? String == "token_embd.weight")
        #expect(tensors[1]["type"] as? String == "Q8_0")
        #expect(tensors[1]["ne"] as? [Int] == [64, 512])
        #expect(tensors[1]["offset"] as? Int == 256)
        #expect(tensors[1]["bytes"] as? Int == 34_816)
    }

    @Test func jsonFullHasEveryArrayElement() throws {
        let r = try Tools.run("lf-gguf", ["inspect", "--json", "--full", Self.fixture])
        #expect(r.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
        let metadata = try #require(root["metadata"] as? [String: [String: Any]])
        #expect((metadata["tokenizer.ggml.tokens"]?["values"] as? [String])?.count == 512)
        #expect((metadata["tokenizer.ggml.token_type"]?["values"] as? [Int])?.count == 512)
    }

    @Test func adapterFile() throws {
        let r = try Tools.run("lf-gguf", ["inspect", Self.adapter])
        #expect(r.status == 0)
        #expect(r.stdout.contains("adapter.lora.alpha            float32  8.0"))
        #expect(r.stdout.contains("  tensors        28 ("))
    }

    @Test func corruptFileExitsOneAndNamesIt() throws {
        let dir = try Fixtures.temporaryDirectory("gguf-inspect")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        let path = dir.appendingPathComponent("cut.gguf").path
        try data.prefix(5000).write(to: URL(fileURLWithPath: path))
        let r = try Tools.run("lf-gguf", ["inspect", path])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("lf-gguf: error: \(path) @ byte "), "\(r.stderr)")
        // 5000 bytes cut the token list: the error names the key and says the string runs past the end.
        #expect(r.stderr.contains("[tokenizer.ggml.tokens]: element 398 of 'tokenizer.ggml.tokens'"), "\(r.stderr)")
        #expect(r.stderr.contains("runs past the end of the file"))

        let json = try Tools.run("lf-gguf", ["inspect", "--json", path])
        #expect(json.status == 1 && json.stdout.isEmpty)
    }

    @Test func missingFileExitsOne() throws {
        let r = try Tools.run("lf-gguf", ["inspect", "/nonexistent/model.gguf"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/model.gguf"))
        #expect(r.stderr.contains("No such file"))
    }

    @Test func usageErrors() throws {
        #expect(try Tools.run("lf-gguf", ["inspect"]).status == 2)
        #expect(try Tools.run("lf-gguf", ["inspect", "--quiet", "--verbose", Self.fixture]).status == 2)
    }

    @Test func helpTeaches() throws {
        let r = try Tools.run("lf-gguf", ["inspect", "--help"])
        #expect(r.status == 0)
        for phrase in ["Examples:", "lf-gguf inspect --json", "SHAPE", "ne0", "OFFSET", "--full", "Exit status:"] {
            #expect(r.stdout.contains(phrase), "help lacks \(phrase)")
        }
    }
}
