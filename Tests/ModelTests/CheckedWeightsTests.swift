import Foundation
import Shared
import Testing
import TestSupport

/// Tensor specs per architecture, key normalisation, and the checked loader on every fixture model
/// and on edited checkpoints.
@Suite struct CheckedWeightsTests {
    let dir: URL

    init() throws { dir = try Fixtures.temporaryDirectory("lf-checked") }

    @Test(arguments: ConfigFixtureTests.models)
    func everyFixtureModelLoadsChecked(_ model: String) throws {
        let checked = try CheckedWeights.load(directory: Fixtures.path("models/\(model)"))
        let file = try #require(checked.weights.files.first)
        // Nothing missing, nothing left over: the specs are exactly the file's parameters.
        #expect(Set(checked.specs.map(\.name)).count == checked.specs.count, "duplicate spec names")
        #expect(checked.specs.count + checked.ignored.count == file.tensors.count)
        for spec in checked.specs {
            let (f, t) = try #require(checked.tensor(spec.name))
            #expect(t.shape == spec.shape, "\(spec.name)")
            #expect(try checked.floats(spec.name).count == t.elementCount)
            #expect(f === file)
        }
        #expect(checked.ignored.isEmpty == (model != "gpt2-hub-keys"))
    }

    @Test func llamaSpecsInOrder() throws {
        let config = try ModelConfig.load(directory: Fixtures.path("models/llama"))
        let specs = config.tensorSpecs()
        #expect(specs.count == 20)
        #expect(specs.first == TensorSpec("model.embed_tokens.weight", [256, 64]))
        #expect(specs.last == TensorSpec("model.norm.weight", [64]))
        let l = LlamaTensorNames.layer(1)
        #expect(specs.contains(TensorSpec(l.qProj, [64, 64])))
        #expect(specs.contains(TensorSpec(l.kProj, [32, 64])))
        #expect(specs.contains(TensorSpec(l.vProj, [32, 64])))
        #expect(specs.contains(TensorSpec(l.oProj, [64, 64])))
        #expect(specs.contains(TensorSpec(l.gateProj, [128, 64])))
        #expect(specs.contains(TensorSpec(l.downProj, [64, 128])))
        #expect(l.qProj == "model.layers.1.self_attn.q_proj.weight")
        #expect(!specs.contains { $0.name == LlamaTensorNames.lmHead })
        let untied = try ModelConfig.load(directory: Fixtures.path("models/llama-untied")).tensorSpecs()
        #expect(untied.last == TensorSpec("lm_head.weight", [256, 64]))
    }

    @Test func architectureSpecificTensors() throws {
        let qwen2 = try ModelConfig.load(directory: Fixtures.path("models/qwen2")).tensorSpecs()
        #expect(qwen2.contains(TensorSpec("model.layers.0.self_attn.q_proj.bias", [64])))
        #expect(qwen2.contains(TensorSpec("model.layers.0.self_attn.k_proj.bias", [32])))
        #expect(!qwen2.contains { $0.name.hasSuffix("o_proj.bias") })
        let qwen3 = try ModelConfig.load(directory: Fixtures.path("models/qwen3")).tensorSpecs()
        #expect(qwen3.contains(TensorSpec("model.layers.1.self_attn.q_norm.weight", [16])))
        #expect(qwen3.contains(TensorSpec("model.layers.1.self_attn.k_norm.weight", [16])))
        let phi3 = try ModelConfig.load(directory: Fixtures.path("models/phi3")).tensorSpecs()
        #expect(phi3.count == 15)
        #expect(phi3.contains(TensorSpec(Phi3TensorNames.layer(0).qkvProj, [128, 64])))
        #expect(phi3.contains(TensorSpec(Phi3TensorNames.layer(0).gateUpProj, [256, 64])))
        #expect(phi3.contains(TensorSpec("lm_head.weight", [256, 64])))
        let phi4 = try ModelConfig.load(directory: Fixtures.path("models/phi4-mini")).tensorSpecs()
        #expect(phi4.count == 14)
        let gpt2 = try ModelConfig.load(directory: Fixtures.path("models/gpt2")).tensorSpecs()
        #expect(gpt2.count == 28)
        #expect(gpt2.contains(TensorSpec("transformer.wpe.weight", [128, 64])))
        #expect(gpt2.contains(TensorSpec("transformer.h.0.attn.c_attn.weight", [64, 192])))
        #expect(gpt2.contains(TensorSpec("transformer.h.1.mlp.c_proj.weight", [128, 64])))
        #expect(gpt2.contains(TensorSpec(GPT2TensorNames.layer(1).fc, [64, 128])))
        let gemma = try ModelConfig.load(directory: Fixtures.path("models/gemma")).tensorSpecs()
        #expect(gemma.map(\.name) == (try ModelConfig.load(directory: Fixtures.path("models/llama")).tensorSpecs().map(\.name)))
    }

    @Test func gpt2HubKeysNormalise() throws {
        let hub = try CheckedWeights.load(directory: Fixtures.path("models/gpt2-hub-keys"))
        let saved = try CheckedWeights.load(directory: Fixtures.path("models/gpt2"))
        #expect(hub.ignored.map(\.name) == ["h.0.attn.bias", "h.1.attn.bias"])
        #expect(hub.storedNames["transformer.wte.weight"] == "wte.weight")
        #expect(hub.storedNames["transformer.h.1.attn.c_attn.bias"] == "h.1.attn.c_attn.bias")
        #expect(hub.specs == saved.specs)
        for spec in saved.specs {
            #expect(try hub.floats(spec.name) == saved.floats(spec.name), "\(spec.name)")
        }
    }

    @Test func normalizeKeysVariants() throws {
        let gpt2 = try ModelConfig.load(directory: Fixtures.path("models/gpt2"))
        // DialoGPT: the prefix, plus attn.bias and the masked_bias scalar.
        let keys = gpt2.normalizeKeys(["transformer.h.0.attn.bias", "transformer.h.0.attn.masked_bias",
                                       "transformer.h.0.attn.c_attn.bias", "lm_head.weight", "wpe.weight"])
        #expect(keys.ignored.map(\.name) == ["lm_head.weight", "transformer.h.0.attn.bias", "transformer.h.0.attn.masked_bias"])
        #expect(keys.storedName == ["transformer.h.0.attn.c_attn.bias": "transformer.h.0.attn.c_attn.bias",
                                    "transformer.wpe.weight": "wpe.weight"])
        let both = gpt2.normalizeKeys(["wte.weight", "transformer.wte.weight"])
        #expect(both.collisions == [KeyCollision(canonical: "transformer.wte.weight", stored: ["transformer.wte.weight", "wte.weight"])])
        let llama = try ModelConfig.load(directory: Fixtures.path("models/llama"))
        let old = llama.normalizeKeys(["model.layers.0.self_attn.rotary_emb.inv_freq", "lm_head.weight", "model.norm.weight"])
        #expect(old.ignored.count == 2)
        #expect(old.storedName == ["model.norm.weight": "model.norm.weight"])
    }

    /// Copies `model`'s config.json and rewrites its weights through `edit`.
    private func editedModel(_ model: String, name: String, config edit: ((inout [String: Any]) -> Void)? = nil,
                             weights: (SafetensorsFile, inout SafetensorsWriter) throws -> Void) throws -> String {
        let source = Fixtures.path("models/\(model)")
        let target = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        var json = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))) as? [String: Any])
        edit?(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: target.appendingPathComponent("config.json"))
        let file = try SafetensorsFile(path: source + "/model.safetensors")
        var writer = SafetensorsWriter(metadata: file.metadata)
        try weights(file, &writer)
        try writer.write(to: target.appendingPathComponent("model.safetensors").path)
        return target.path
    }

    private func copyAll(_ file: SafetensorsFile, into writer: inout SafetensorsWriter, except: Set<String> = []) throws {
        for t in file.tensors where !except.contains(t.name) {
            try writer.add(t.name, dtype: t.dtype, shape: t.shape, data: Data(file.data(of: t)))
        }
    }

    private func expectError(_ directory: String, field: String, _ fragments: String...,
                             sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try CheckedWeights.load(directory: directory)
            Issue.record("loaded", sourceLocation: sourceLocation)
        } catch let error as LFError {
            #expect(error.location?.field == field, "\(error)", sourceLocation: sourceLocation)
            #expect(error.location?.file.hasPrefix(directory) == true, "\(error)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.description.contains(fragment), "\"\(fragment)\" not in \(error)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("not an LFError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func tiedHeadStoredAnywayIsIgnored() throws {
        let path = try editedModel("llama", name: "tied-with-head") { file, writer in
            try copyAll(file, into: &writer)
            let embed = try file.tensor(named: "model.embed_tokens.weight")
            try writer.add("lm_head.weight", dtype: .f32, shape: embed.shape, data: Data(file.data(of: embed)))
        }
        let checked = try CheckedWeights.load(directory: path)
        #expect(checked.ignored.map(\.name) == ["lm_head.weight"])
        #expect(checked.tensor("lm_head.weight") == nil)
    }

    @Test func missingTensor() throws {
        let path = try editedModel("llama", name: "missing") { file, writer in
            try copyAll(file, into: &writer, except: ["model.layers.1.mlp.up_proj.weight"])
        }
        expectError(path, field: "model.layers.1.mlp.up_proj.weight", "1 tensor(s)", "missing", "model.layers.1.mlp.up_proj.weight")
    }

    @Test func untiedConfigWithoutHead() throws {
        let path = try editedModel("llama", name: "untied-no-head", config: { $0["tie_word_embeddings"] = false }) { file, writer in
            try copyAll(file, into: &writer)
        }
        expectError(path, field: "lm_head.weight", "missing", "tie_word_embeddings is false")
    }

    @Test func leftoverTensor() throws {
        // qwen2 weights (with q/k/v biases) under a llama config: the biases are left over.
        let path = try editedModel("qwen2", name: "leftover", config: { $0["model_type"] = "llama" }) { file, writer in
            try copyAll(file, into: &writer)
        }
        expectError(path, field: "model.layers.0.self_attn.k_proj.bias", "6 tensor(s)", "not part of a llama model")
    }

    @Test func shapeMismatch() throws {
        let path = try editedModel("llama", name: "shape", config: { $0["intermediate_size"] = 96 }) { file, writer in
            try copyAll(file, into: &writer)
        }
        expectError(path, field: "model.layers.0.mlp.gate_proj.weight", "has shape [128, 64], but the config implies [96, 64]",
                    "and 5 more")
    }

    @Test func integerWeightsAreRefused() throws {
        let path = try editedModel("llama", name: "int", config: nil) { file, writer in
            try copyAll(file, into: &writer, except: ["model.norm.weight"])
            try writer.add("model.norm.weight", dtype: .i32, shape: [64], data: Data(count: 256))
        }
        expectError(path, field: "model.norm.weight", "dtype I32")
    }

    @Test func collidingKeyLayouts() throws {
        let path = try editedModel("gpt2", name: "collide") { file, writer in
            try copyAll(file, into: &writer)
            let wte = try file.tensor(named: "transformer.wte.weight")
            try writer.add("wte.weight", dtype: .f32, shape: wte.shape, data: Data(file.data(of: wte)))
        }
        expectError(path, field: "transformer.wte.weight", "same parameter \"transformer.wte.weight\"")
    }

    @Test func shardedAndBF16ModelsLoadChecked() throws {
        // A two-shard llama with its config.
        let llama = try SafetensorsFile(path: Fixtures.path("models/llama/model.safetensors"))
        let target = dir.appendingPathComponent("sharded")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("models/llama/config.json"),
                                         toPath: target.appendingPathComponent("config.json").path)
        var shards = [SafetensorsWriter(), SafetensorsWriter()]
        var map: [String: String] = [:]
        for (i, t) in llama.tensors.enumerated() {
            try shards[i % 2].add(t.name, dtype: t.dtype, shape: t.shape, data: Data(llama.data(of: t)))
            map[t.name] = "model-0000\(i % 2 + 1)-of-00002.safetensors"
        }
        for i in 0..<2 { try shards[i].write(to: target.appendingPathComponent("model-0000\(i + 1)-of-00002.safetensors").path) }
        try JSONSerialization.data(withJSONObject: ["weight_map": map])
            .write(to: target.appendingPathComponent("model.safetensors.index.json"))
        let checked = try CheckedWeights.load(directory: target.path)
        #expect(checked.weights.files.count == 2)
        #expect(try checked.floats("model.layers.1.self_attn.o_proj.weight") == llama.floats("model.layers.1.self_attn.o_proj.weight"))

        // llama-bf16 widens to llama's weights rounded to bf16, bit for bit.
        let bf16 = try CheckedWeights.load(directory: Fixtures.path("models/llama-bf16"))
        #expect(bf16.config.dtype == .bf16)
        for name in ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight"] {
            let widened = try bf16.floats(name)
            let rounded = try llama.floats(name).map { HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16($0)) }
            #expect(widened.map(\.bitPattern) == rounded.map(\.bitPattern), "\(name)")
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: widened.count)
            defer { buffer.deallocate() }
            try bf16.copyFloats(name, into: buffer)
            #expect(Array(UnsafeBufferPointer(start: buffer, count: widened.count)) == widened)
        }
        #expect(throws: LFError.self) { try bf16.floats("lm_head.weight") }
    }
}
