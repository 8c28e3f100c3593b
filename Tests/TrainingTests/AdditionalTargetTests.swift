import Foundation
import Shared
import Testing
import TestSupport

/// Modules trained in full beside the LoRA tensors (`--additional-target`, PEFT's
/// modules_to_save): their gradients against finite differences, PEFT's matching and key names,
/// the save → load round trip, inference with the replaced weights, and bad input.
@Suite struct AdditionalTargetTests {
    /// A fresh adapter on `folder` with LoRA on the last layer's attention only (so a gradient that
    /// reaches the embeddings has crossed every layer without LoRA below) and `save` in full.
    static func make(_ folder: String, _ save: String, weightType: WeightFormat = .f32, seed: UInt64 = 5) throws
        -> (TransformerModel, TrainableAdapter) {
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(folder)"), weightType: weightType)
        let last = model.config.layerCount - 1
        let lora = model.config.architecture == .gpt2 ? "transformer.h.\(last).attn.c_attn" : "model.layers.\(last).self_attn.o_proj"
        let adapter = try TrainableAdapter.create(on: model, .init(targets: [lora], rank: 4, alpha: 8, seed: seed, modulesToSave: [save]))
        return (model, adapter)
    }

    /// Moves every trainable value a little (B away from 0, so that LoRA takes part).
    static func perturb(_ adapter: TrainableAdapter, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for p in adapter.parameters {
            for i in 0..<p.count { p.value[i] += (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * 0.05 }
        }
    }

    // MARK: Gradients

    /// Central differences of the summed loss against the analytic gradient of every tensor trained
    /// in full, at a few entries each: embedding rows of tokens in the batch (and one row of a token
    /// not in it, whose gradient is exactly 0, as is the padding token's: torch's padding_idx),
    /// LM head rows, norm weights and LayerNorm biases, GPT-2's learned positions. (Against PEFT
    /// 0.21.2's own gradients on these fixtures the relative L2 error was ≤ 1.2e-6 per tensor.)
    @Test(arguments: [("llama", "embed_tokens,lm_head,norm"), ("llama-untied", "embed_tokens,lm_head,norm"),
                      ("gemma", "embed_tokens,norm"), ("gpt2", "wte,wpe,ln_1,ln_2,ln_f,lm_head"), ("qwen3", "norm"),
                      ("phi3", "embed_tokens,input_layernorm")])
    func gradientsMatchFiniteDifferences(folder: String, save: String) throws {
        let golden = try GradientParityTests.golden(folder)
        let (model, adapter) = try Self.make(folder, save)
        Self.perturb(adapter, seed: 8)
        let engine = TrainingEngine(model: model)
        _ = try engine.accumulate(golden.batch, gradientScale: 1)
        let C = model.config.hiddenSize
        // transformers' embeddings (but GPT-2's) have padding_idx = pad_token_id: no gradient there.
        let padding = folder == "gpt2" ? nil : model.config.padTokenID
        let seenTokens = Array(Set(golden.batch.tokens.map(Int.init))).sorted().filter { $0 != padding }
        let unseenToken = (0..<model.config.vocabSize).first { !seenTokens.contains($0) }!
        let positions = Int(golden.batch.positions.max()!) + 1
        var rng = SplitMix64(seed: 3)
        var checked = 0
        for p in adapter.parameters where !p.name.contains(".lora_") {
            var entries = (0..<3).map { _ in Int(rng.next() % UInt64(p.count)) }
            if p.name.hasSuffix("embed_tokens.weight") || p.name.hasSuffix("wte.weight") {
                entries = (0..<3).map { _ in seenTokens[Int(rng.next() % UInt64(seenTokens.count))] * C + Int(rng.next() % UInt64(C)) }
                let unseen = unseenToken * C + 5
                #expect(p.gradient[unseen] == 0, "\(p.name): a token not in the batch has a gradient")
                if let padding {
                    #expect(golden.batch.tokens.contains(Int32(padding)), "the batch should hold the padding token")
                    #expect((0..<C).allSatisfy { p.gradient[padding * C + $0] == 0 }, "\(p.name): the padding row has a gradient")
                }
            } else if p.name.hasSuffix("wpe.weight") {
                entries = (0..<3).map { _ in Int(rng.next() % UInt64(positions * C)) }
                #expect(p.gradient[positions * C + 7] == 0, "\(p.name): a position not in the batch has a gradient")
            }
            for i in entries {
                let analytic = Double(p.gradient[i])
                let original = p.value[i]
                let h: Float = 4e-3
                p.value[i] = original + h
                let plus = try engine.loss(golden.batch)
                p.value[i] = original - h
                let minus = try engine.loss(golden.batch)
                p.value[i] = original
                let numeric = (plus - minus) / Double(2 * h)
                #expect(abs(numeric - analytic) <= 3e-3 + 2e-2 * abs(analytic),
                        "\(folder) \(p.name)[\(i)]: numeric \(numeric), analytic \(analytic)")
                checked += 1
            }
        }
        #expect(checked >= 3 * adapter.fullModules.count)
    }

    /// Activation checkpointing recomputes the layers and must give the same full-module gradients.
    @Test func checkpointingGivesTheSameGradients() throws {
        let golden = try GradientParityTests.golden("qwen3")
        var results: [[[Float]]] = []
        for checkpointing in [false, true] {
            let (model, adapter) = try Self.make("qwen3", "embed_tokens,norm,lm_head")
            Self.perturb(adapter, seed: 2)
            _ = try TrainingEngine(model: model, checkpointing: checkpointing).accumulate(golden.batch, gradientScale: 1)
            results.append(TrainingEngineTests.gradients(adapter))
        }
        #expect(results[0] == results[1])
    }

    /// From 64 rows the q/k norms' backward splits the rows over the cores, each summing its own
    /// weight gradient: the batch twice over gives twice the gradients of the batch once.
    @Test func parallelQKNormGradientsAddUp() throws {
        let golden = try GradientParityTests.golden("qwen3").batch
        let rows = golden.segments.map { Array(golden.tokens[$0.start..<($0.start + $0.count)]) }
        let labels = golden.segments.map { segment in
            (0..<segment.count).map { t in t == 0 ? Int64(-100) : golden.targets[segment.start + t - 1] < 0 ? -100 : Int64(golden.targets[segment.start + t - 1]) }
        }
        let once = TrainingBatch(rows: rows, labels: labels), twice = TrainingBatch(rows: rows + rows, labels: labels + labels)
        #expect(once.targets == golden.targets && twice.rowCount >= 64)
        var gradients: [[[Float]]] = []
        for batch in [once, twice] {
            let (model, adapter) = try Self.make("qwen3", "q_norm,k_norm")
            _ = try TrainingEngine(model: model).accumulate(batch, gradientScale: 1)
            gradients.append(TrainingEngineTests.gradients(adapter).enumerated().filter { adapter.parameters[$0.offset].name.hasSuffix("_norm.weight") }.map(\.element))
        }
        #expect(gradients[0].count == 4)
        #expect(TrainingEngineTests.relativeError(gradients[1], gradients[0].map { $0.map { 2 * $0 } }) <= 1e-5)
    }

    /// HF's Trainer decays no norm and no bias; the embeddings and the LM head decay.
    @Test func weightDecayFollowsTheHFRule() throws {
        let (_, adapter) = try Self.make("gpt2", "wte,wpe,ln_f,lm_head")
        for p in adapter.parameters {
            let expected = !p.name.contains("ln_f")
            #expect(p.decays == expected, "\(p.name)")
        }
    }

    // MARK: PEFT's matching and format

    /// PEFT selects a module when its path ends with the name (a plain suffix), so `norm` takes the
    /// final norm and every layer's norms (Qwen3's q/k norms too); with tied embeddings the module
    /// named gets a float32 copy of its own and the other keeps the original.
    @Test func namesMatchAsPEFTMatchesThem() throws {
        let (llama, adapter) = try Self.make("llama", "norm")
        #expect(adapter.fullModules.map(\.path) == ["model.layers.0.input_layernorm", "model.layers.0.post_attention_layernorm",
                                                     "model.layers.1.input_layernorm", "model.layers.1.post_attention_layernorm",
                                                     "model.norm"])
        #expect(llama.adapter?.modulesToSave == ["norm"])
        let (_, qwen3) = try Self.make("qwen3", "norm")
        #expect(qwen3.fullModules.count == 2 * 4 + 1)
        let (_, layer1) = try Self.make("llama", "1.input_layernorm,lm_head")
        #expect(layer1.fullModules.map(\.path) == ["model.layers.1.input_layernorm", "lm_head"])
        let (tied, embedding) = try Self.make("llama", "embed_tokens", weightType: .bf16)
        #expect(embedding.fullModules.map(\.path) == ["model.embed_tokens"])
        guard case .bf16 = tied.lmHead.weight else { Issue.record("the tied LM head must keep the original bf16 weights"); return }
    }

    /// The files are PEFT's: the keys `get_peft_model_state_dict` gives (checked against PEFT 0.21.2
    /// saving the same modules_to_save on these fixtures) and `modules_to_save` in
    /// adapter_config.json as given; they load back, for training and for inference, to the same
    /// values.
    @Test(arguments: [
        ("llama", "embed_tokens,norm", ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                                        "model.layers.0.post_attention_layernorm.weight", "model.layers.1.input_layernorm.weight",
                                        "model.layers.1.post_attention_layernorm.weight", "model.norm.weight"]),
        ("gpt2", "ln_f,wte,wpe,ln_1", ["transformer.h.0.ln_1.bias", "transformer.h.0.ln_1.weight", "transformer.h.1.ln_1.bias",
                                       "transformer.h.1.ln_1.weight", "transformer.ln_f.bias", "transformer.ln_f.weight",
                                       "transformer.wpe.weight", "transformer.wte.weight"]),
        ("llama", "lm_head,embed_tokens", ["lm_head.weight", "model.embed_tokens.weight"]),
    ])
    func savedAdapterIsPEFTsAndRoundTrips(folder: String, save: String, keys: [String]) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, adapter) = try Self.make(folder, save)
        Self.perturb(adapter, seed: 4)
        try adapter.save(to: dir.path)
        let file = try SafetensorsFile(path: dir.path + "/adapter_model.safetensors")
        #expect(file.names.filter { !$0.contains(".lora_") }.sorted() == keys.map { "base_model.model." + $0 })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(json["modules_to_save"] as? [String] == save.split(separator: ",").map(String.init))

        let model = try TransformerModel.load(directory: Fixtures.path("models/\(folder)"))
        let loaded = try TrainableAdapter.load(on: model, directory: dir.path)
        #expect(loaded.parameters.map(\.name).sorted() == adapter.parameters.map(\.name).sorted())
        let values = { (a: TrainableAdapter) in
            Dictionary(uniqueKeysWithValues: a.parameters.map { ($0.name, Array(UnsafeBufferPointer(start: $0.value, count: $0.count))) })
        }
        #expect(values(loaded) == values(adapter))
        // A checkpoint's values load into an adapter made with the same settings.
        let (_, fresh) = try Self.make(folder, save)
        try fresh.loadValues(from: dir.path + "/adapter_model.safetensors")
        #expect(values(fresh) == values(adapter))
    }

    /// An adapter with modules_to_save, applied for inference, gives the logits of the base model
    /// whose weights it replaces (written out as a model directory, untied: the tied module the
    /// adapter does not name keeps the original) with the adapter's LoRA tensors alone.
    @Test(arguments: [("llama", "embed_tokens", WeightFormat.f32), ("llama", "lm_head,norm", .f32),
                      ("llama-untied", "embed_tokens,lm_head,norm", .f32), ("gemma", "embed_tokens,norm", .f32),
                      ("gpt2", "wte,wpe,ln_1,ln_f,lm_head", .f32), ("qwen3", "norm", .f32),
                      ("llama-bf16", "embed_tokens,lm_head", .bf16)])
    func inferenceUsesTheReplacedWeights(folder: String, save: String, weightType: WeightFormat) throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let full = root.appendingPathComponent("adapter"), loraOnly = root.appendingPathComponent("lora")
        let replaced = root.appendingPathComponent("model")
        for dir in [full, loraOnly, replaced] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let (_, adapter) = try Self.make(folder, save, weightType: weightType)
        Self.perturb(adapter, seed: 6)
        try adapter.save(to: full.path)
        try Self.split(adapter: full, folder: folder, intoModel: replaced, lora: loraOnly)

        let batch = try GradientParityTests.golden(folder).batch
        let rows = batch.segments.map { Array(batch.tokens[$0.start..<($0.start + $0.count)]) }
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(folder)"), weightType: weightType)
        try model.attachAdapter(directory: full.path)
        // In float32: the replaced weights are not bf16 numbers (the adapter keeps them in float32).
        let reference = try TransformerModel.load(directory: replaced.path)
        try reference.attachAdapter(directory: loraOnly.path)
        let actual = try Self.logits(model, rows), expected = try Self.logits(reference, rows)
        checkTensor("\(folder) + modules_to_save \(save)", actual: actual, expected: expected, atol: 2e-5)
        let base = try Self.logits(TransformerModel.load(directory: Fixtures.path("models/\(folder)")), rows)
        #expect(maxAbsDiff(actual, base) > 1e-3, "the adapter changed nothing: the test would prove nothing")
    }

    /// Logits (T, V) of each row, one forward pass per row.
    static func logits(_ model: TransformerModel, _ rows: [[Int32]]) throws -> [Float] {
        var out: [Float] = []
        for row in rows {
            var logits = [Float](repeating: 0, count: row.count * model.config.vocabSize)
            try logits.withUnsafeMutableBufferPointer { try model.forward(row, cache: model.makeCache(capacity: row.count), logits: .all, into: $0.baseAddress) }
            out += logits
        }
        return out
    }

    /// Writes the base model of `folder` with the adapter's modules_to_save tensors in place of its
    /// own (untied, lm_head.weight explicit) into `intoModel`, and the adapter's LoRA part into `lora`.
    static func split(adapter: URL, folder: String, intoModel: URL, lora: URL) throws {
        let base = Fixtures.path("models/\(folder)")
        let adapterFile = try SafetensorsFile(path: adapter.path + "/adapter_model.safetensors")
        var replacements: [String: [Float]] = [:]
        var loraWriter = SafetensorsWriter(metadata: ["format": "pt"])
        for t in adapterFile.tensors {
            if t.name.contains(".lora_") {
                try loraWriter.addFloats(t.name, shape: t.shape, values: adapterFile.floats(t.name), as: .f32)
            } else {
                replacements[String(t.name.dropFirst("base_model.model.".count))] = try adapterFile.floats(t.name)
            }
        }
        try loraWriter.write(to: lora.path + "/adapter_model.safetensors")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: adapter.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        config["modules_to_save"] = NSNull()
        try JSONSerialization.data(withJSONObject: config).write(to: lora.appendingPathComponent("adapter_config.json"))

        let weights = try SafetensorsFile(path: base + "/model.safetensors")
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for t in weights.tensors {
            try writer.addFloats(t.name, shape: t.shape, values: replacements[t.name] ?? weights.floats(t.name), as: .f32)
        }
        if weights["lm_head.weight"] == nil {
            let embedding = try #require(weights.names.first { $0.hasSuffix("embed_tokens.weight") || $0.hasSuffix("wte.weight") })
            try writer.addFloats("lm_head.weight", shape: weights[embedding]!.shape,
                                 values: replacements["lm_head.weight"] ?? weights.floats(embedding), as: .f32)
        }
        try writer.write(to: intoModel.path + "/model.safetensors")
        var modelConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/config.json"))) as! [String: Any]
        modelConfig["tie_word_embeddings"] = false
        modelConfig["dtype"] = "float32"
        try JSONSerialization.data(withJSONObject: modelConfig).write(to: intoModel.appendingPathComponent("config.json"))
    }

    // MARK: Bad input

    /// A name that selects nothing is an error naming it and the nearest names that would; a name
    /// that selects a module lf cannot train in full (a linear layer) is an error too.
    @Test func unknownAndUnsupportedNamesAreRefused() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let typo = #expect(throws: LFError.self) {
            try TrainableAdapter.create(on: model, .init(targets: ["q_proj"], modulesToSave: ["embed_token"]))
        }
        #expect(typo?.message.contains("\"embed_token\"") == true && typo?.message.contains("nearest: embed_tokens") == true, "\(String(describing: typo))")
        #expect(typo?.status == .usage)
        #expect(typo?.hint?.contains("input_layernorm") == true)
        let linear = #expect(throws: LFError.self) {
            try TrainableAdapter.create(on: model, .init(targets: ["q_proj"], modulesToSave: ["v_proj"]))
        }
        #expect(linear?.message.contains("model.layers.0.self_attn.v_proj, a linear layer") == true, "\(String(describing: linear))")
        let gpt2 = try TransformerModel.load(directory: Fixtures.path("models/gpt2"))
        let norm = #expect(throws: LFError.self) { try TrainableAdapter.create(on: gpt2, .init(targets: ["c_attn"], modulesToSave: ["norm"])) }
        #expect(norm?.hint?.contains("ln_f") == true, "\(String(describing: norm))")
        // Nothing was attached: the model still trains a new adapter.
        #expect(model.adapter == nil && model.replacedModules.isEmpty)
    }

    /// A modules_to_save tensor missing, mis-shaped or extra, or a name selecting a linear layer:
    /// errors that name the adapter's file and the tensor.
    @Test func badAdapterFilesAreRefusedNamingTheFile() throws {
        let root = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let good = root.appendingPathComponent("good")
        try FileManager.default.createDirectory(at: good, withIntermediateDirectories: true)
        let (_, adapter) = try Self.make("llama", "embed_tokens,norm")
        try adapter.save(to: good.path)
        let source = try SafetensorsFile(path: good.path + "/adapter_model.safetensors")

        /// A copy of the good adapter with its tensors edited (nil drops one) and its config edited.
        func variant(_ name: String, tensors edit: (String, [Int], [Float]) -> (shape: [Int], values: [Float])?,
                     config: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
            let dir = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var writer = SafetensorsWriter(metadata: ["format": "pt"])
            for t in source.tensors {
                if let (shape, values) = edit(t.name, t.shape, try source.floats(t.name)) {
                    try writer.addFloats(t.name, shape: shape, values: values, as: .f32)
                }
            }
            if name == "extra" { try writer.addFloats("base_model.model.model.norm.bias", shape: [64], values: Array(repeating: 0, count: 64), as: .f32) }
            try writer.write(to: dir.path + "/adapter_model.safetensors")
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: good.appendingPathComponent("adapter_config.json"))) as! [String: Any]
            config(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("adapter_config.json"))
            return dir
        }
        func refusal(_ dir: URL) -> LFError? {
            let model = try? TransformerModel.load(directory: Fixtures.path("models/llama"))
            return #expect(throws: LFError.self) { try model?.attachAdapter(directory: dir.path) }
        }

        let missing = try variant("missing") { name, shape, values in name == "base_model.model.model.norm.weight" ? nil : (shape, values) }
        let e1 = refusal(missing)
        #expect(e1?.location?.file == missing.path + "/adapter_model.safetensors")
        #expect(e1?.message.contains("no tensor base_model.model.model.norm.weight") == true, "\(String(describing: e1))")

        let misshaped = try variant("misshaped") { name, shape, values in
            name.hasSuffix("embed_tokens.weight") ? ([128, 64], Array(values.prefix(128 * 64))) : (shape, values)
        }
        let e2 = refusal(misshaped)
        #expect(e2?.location?.file == misshaped.path + "/adapter_model.safetensors")
        #expect(e2?.message.contains("has shape [128, 64]; this model's model.embed_tokens needs [256, 64]") == true, "\(String(describing: e2))")

        let extra = try variant("extra") { _, shape, values in (shape, values) }
        #expect(refusal(extra)?.message.contains("model.norm.bias is not a tensor of model.norm") == true)

        let unlisted = try variant("unlisted", tensors: { _, shape, values in (shape, values) }) { $0["modules_to_save"] = ["embed_tokens"] }
        let e4 = refusal(unlisted)
        #expect(e4?.message.contains("nor a weight of a module that modules_to_save selects") == true, "\(String(describing: e4))")

        let linear = try variant("linear", tensors: { _, shape, values in (shape, values) }) { $0["modules_to_save"] = ["o_proj"] }
        let e5 = refusal(linear)
        #expect(e5?.location?.file == linear.path + "/adapter_config.json" && e5?.location?.field == "modules_to_save", "\(String(describing: e5))")
    }
}
