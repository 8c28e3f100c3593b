import Foundation
import Shared
import Testing
import TestSupport

/// Logits of every fixture model against transformers (golden.safetensors `logits`), 1e-4 max-abs.
@Suite struct ForwardParityTests {
    static let models = ["llama", "llama-untied", "llama-bf16", "llama3-rope", "mistral", "qwen2", "qwen3", "phi3",
                         "phi4-mini", "gemma", "gpt2", "gpt2-hub-keys"]

    static func golden(_ model: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: Fixtures.path("models/\(model)/golden.safetensors"))
    }

    static func rows(_ golden: SafetensorsFile) throws -> [[Int32]] {
        let ids = try golden.integers("input_ids")
        let t = golden["input_ids"]!
        let T = t.shape.last!
        return (0..<(ids.count / T)).map { r in ids[(r * T)..<((r + 1) * T)].map { Int32($0) } }
    }

    static func logits(_ model: TransformerModel, _ rows: [[Int32]]) throws -> [Float] { try model.fullLogits(rows) }

    @Test(arguments: models)
    func logitsMatchTransformers(model name: String) throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"))
        let golden = try Self.golden(name)
        let actual = try Self.logits(model, Self.rows(golden))
        checkTensor("\(name) logits", actual: actual, expected: try golden.floats("logits"), atol: 1e-4)
    }

    @Test func legacyConfigSpellingGivesTheSameLogits() throws {
        // config.legacy.json is the same model in the hub spelling; copy the folder with it as config.json.
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["phi4-mini", "llama3-rope"] {
            let target = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.path("models/\(name)/config.legacy.json"), toPath: target.path + "/config.json")
            try FileManager.default.createSymbolicLink(atPath: target.path + "/model.safetensors", withDestinationPath: Fixtures.path("models/\(name)/model.safetensors"))
            let model = try TransformerModel.load(directory: target.path)
            let golden = try Self.golden(name)
            checkTensor("\(name) (legacy config) logits", actual: try Self.logits(model, Self.rows(golden)), expected: try golden.floats("logits"), atol: 1e-4)
        }
    }

    /// Long contexts take the decoding path that splits the cached positions over the cores and
    /// merges the partial softmaxes; it must agree with the full forward pass.
    @Test(arguments: ["llama", "qwen2", "gpt2"])
    func longContextDecodingEqualsTheFullForward(model name: String) throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"))
        let V = model.config.vocabSize
        let T = min(model.config.maxPositions, 128) + (name == "gpt2" ? 0 : 120)
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<T).map { _ in Int32(rng.next() % UInt64(V)) }
        let full = try Self.logits(model, [tokens])
        let cache = model.makeCache(capacity: T)
        let prefix = T - 4
        try model.forward(Array(tokens[0..<prefix]), cache: cache, logits: .none, into: nil)
        var stepwise: [Float] = []
        var one = [Float](repeating: 0, count: V)
        for t in prefix..<T {
            try one.withUnsafeMutableBufferPointer { try model.forward([tokens[t]], cache: cache, logits: .last, into: $0.baseAddress) }
            stepwise += one
        }
        checkTensor("\(name) long-context decoding", actual: stepwise, expected: Array(full[(prefix * V)...]), atol: 1e-4)
    }

    @Test func incrementalDecodingEqualsTheFullForward() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/qwen3"))
        let row = try Self.rows(Self.golden("qwen3"))[1]
        let full = try Self.logits(model, [row])
        let V = model.config.vocabSize
        let cache = model.makeCache(capacity: row.count)
        var stepwise: [Float] = []
        var chunk = [Float](repeating: 0, count: 5 * V)
        try chunk.withUnsafeMutableBufferPointer { try model.forward(Array(row[0..<5]), cache: cache, logits: .all, into: $0.baseAddress) }
        stepwise += chunk
        var one = [Float](repeating: 0, count: V)
        for t in 5..<row.count {
            try one.withUnsafeMutableBufferPointer { try model.forward([row[t]], cache: cache, logits: .last, into: $0.baseAddress) }
            stepwise += one
        }
        checkTensor("qwen3 incremental", actual: stepwise, expected: full, atol: 1e-5)
    }
}

/// The fixtures' PEFT adapters applied on the fly: `lora_logits` within 1e-4.
@Suite struct AdapterParityTests {
    @Test(arguments: [("llama", "models/llama"), ("llama/rslora", "models/llama"), ("llama/dora", "models/llama"),
                      ("llama-untied", "models/llama-untied"), ("llama-bf16", "models/llama-bf16"), ("mistral", "models/mistral"),
                      ("qwen2", "models/qwen2"), ("qwen3", "models/qwen3"), ("phi3", "models/phi3"), ("phi4-mini", "models/phi4-mini"),
                      ("gemma", "models/gemma"), ("gpt2", "models/gpt2"), ("llama3-rope", "models/llama3-rope")])
    func loraLogitsMatchPEFT(fixture: String, base: String) throws {
        let model = try TransformerModel.load(directory: Fixtures.path(base))
        try model.attachAdapter(directory: Fixtures.path("models/\(fixture)/adapter"))
        let golden = try SafetensorsFile(path: Fixtures.path("models/\(fixture)/golden.safetensors"))
        let actual = try ForwardParityTests.logits(model, ForwardParityTests.rows(golden))
        checkTensor("\(fixture) lora_logits", actual: actual, expected: try golden.floats("lora_logits"), atol: 1e-4)
    }

    @Test func adapterForAnotherBaseIsRefused() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/phi3"))
        let error = #expect(throws: LFError.self) { try model.attachAdapter(directory: Fixtures.path("models/llama/adapter")) }
        #expect(error?.message.contains("does not have") == true)
        #expect(error?.hint?.contains("another base model") == true)
    }

    @Test func adapterWhoseRankDisagreesIsRefused() throws {
        // The llama adapter with adapter_config.json claiming r = 8: lora_A's shape gives it away.
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/llama/adapter/adapter_config.json")))) as! [String: Any]
        config["r"] = 8
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("adapter_config.json"))
        try FileManager.default.copyItem(atPath: Fixtures.path("models/llama/adapter/adapter_model.safetensors"), toPath: dir.path + "/adapter_model.safetensors")
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let error = #expect(throws: LFError.self) { try model.attachAdapter(directory: dir.path) }
        #expect(error?.message.contains("lora_A has shape [4, 128]") == true || error?.message.contains("lora_A has shape [4, 64]") == true)
        // Nothing was attached: the model still gives the base logits.
        let golden = try SafetensorsFile(path: Fixtures.path("models/llama/golden.safetensors"))
        checkTensor("llama after a refused adapter", actual: try ForwardParityTests.logits(model, ForwardParityTests.rows(golden)),
                    expected: try golden.floats("logits"), atol: 1e-4)
    }

    @Test func missingAdapterFilesAreClear() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: LFError.self) { try model.attachAdapter(directory: dir.path) }
        try FileManager.default.copyItem(atPath: Fixtures.path("models/llama/adapter/adapter_config.json"), toPath: dir.path + "/adapter_config.json")
        let error = #expect(throws: LFError.self) { try model.attachAdapter(directory: dir.path) }
        #expect(error?.message.contains("adapter_model.safetensors") == true)
    }
}
