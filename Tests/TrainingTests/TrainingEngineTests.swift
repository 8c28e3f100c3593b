import Foundation
import Shared
import Testing
import TestSupport

/// Properties of the training engine beyond the fixtures: packing, checkpointing, bf16 base
/// weights, dropout, a fresh adapter's initialisation, and finite differences.
@Suite struct TrainingEngineTests {
    static func gradients(_ adapter: TrainableAdapter) -> [[Float]] {
        adapter.parameters.map { Array(UnsafeBufferPointer(start: $0.gradient, count: $0.count)) }
    }

    static func relativeError(_ a: [[Float]], _ b: [[Float]]) -> Double {
        var diff: Double = 0, norm: Double = 0
        for (x, y) in zip(a.joined(), b.joined()) {
            diff += Double(x - y) * Double(x - y)
            norm += Double(y) * Double(y)
        }
        return (diff / max(norm, 1e-30)).squareRoot()
    }

    static func run(_ folder: String, _ batch: TrainingBatch, weightType: WeightFormat = .f32, checkpointing: Bool = false,
                    adapterFolder: String? = nil) throws -> (loss: Double, grads: [[Float]]) {
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(folder)"), weightType: weightType)
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/\(adapterFolder ?? folder)/adapter"))
        let engine = TrainingEngine(model: model, checkpointing: checkpointing)
        let loss = try engine.accumulate(batch, gradientScale: 1)
        return (loss, gradients(adapter))
    }

    /// Two documents packed into one sequence give the same loss and gradients as the two run
    /// as separate rows: no attention crosses the boundary and positions restart.
    @Test(arguments: ["llama", "gpt2", "phi4-mini", "qwen3"])
    func packedDocumentsEqualSeparateRows(folder: String) throws {
        let golden = try GradientParityTests.golden(folder)
        let separate = try Self.run(folder, golden.batch)
        let rows = golden.batch.tokens
        let T = rows.count / 2
        let mask = (0..<(2 * T)).map { i in i % T >= 8 }  // labels[:, :8] = -100
        let packed = TrainingBatch(sequences: [PackedSequence(ids: rows, mask: mask, documentStarts: [0, T])])
        #expect(packed.segments == golden.batch.segments)
        #expect(packed.targets == golden.batch.targets)
        let together = try Self.run(folder, packed)
        #expect(abs(together.loss - separate.loss) <= 1e-4 * abs(separate.loss))
        #expect(Self.relativeError(together.grads, separate.grads) <= 1e-5)
    }

    @Test(arguments: ["llama", "gpt2", "qwen3", "llama/dora"])
    func checkpointingGivesTheSameGradients(folder: String) throws {
        let base = folder == "llama/dora" ? "llama" : folder
        let golden = try GradientParityTests.golden(folder)
        let plain = try Self.run(base, golden.batch, adapterFolder: folder)
        let checkpointed = try Self.run(base, golden.batch, checkpointing: true, adapterFolder: folder)
        #expect(plain.loss == checkpointed.loss)
        #expect(plain.grads == checkpointed.grads)
    }

    /// llama-bf16's weights are exactly bfloat16: holding them as bf16 must change nothing.
    @Test func bf16BaseWeightsGiveTheFloat32Gradients() throws {
        let golden = try GradientParityTests.golden("llama-bf16")
        let f32 = try Self.run("llama-bf16", golden.batch)
        let bf16 = try Self.run("llama-bf16", golden.batch, weightType: .bf16)
        #expect(abs(f32.loss - bf16.loss) <= 1e-5 * f32.loss)
        #expect(Self.relativeError(bf16.grads, f32.grads) <= 1e-5)
        #expect(abs(f32.loss / Double(golden.targetCount) - golden.number("lora_loss")) <= 1e-5)
    }

    /// Central differences of the loss against the analytic gradient, with dropout on (its mask
    /// is a function of the seed, so the loss is a smooth function of the parameters).
    @Test(arguments: [0.0, 0.3])
    func gradientsMatchFiniteDifferences(dropout: Double) throws {
        let golden = try GradientParityTests.golden("qwen2")
        let model = try TransformerModel.load(directory: Fixtures.path("models/qwen2"))
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/qwen2/adapter"), dropout: dropout)
        let engine = TrainingEngine(model: model)
        var rng = SplitMix64(seed: 3)
        let checked = try Self.checkFiniteDifferences(engine, adapter, golden.batch, seed: 77, samplesPerTensor: 1, rng: &rng)
        #expect(checked > 0)
    }

    /// Compares, at `samplesPerTensor` random elements of each layer-0 tensor, the analytic
    /// gradient with central differences of the loss; returns how many were checked.
    static func checkFiniteDifferences(_ engine: TrainingEngine, _ adapter: TrainableAdapter, _ batch: TrainingBatch, seed: UInt64,
                                       samplesPerTensor: Int, rng: inout SplitMix64) throws -> Int {
        _ = try engine.accumulate(batch, gradientScale: 1, seed: seed)
        var checked = 0
        for p in adapter.parameters where p.name.contains("layers.0") {
            for _ in 0..<samplesPerTensor {
                let i = Int(rng.next() % UInt64(p.count))
                let analytic = Double(p.gradient[i])
                let original = p.value[i]
                let h: Float = 2e-3
                p.value[i] = original + h
                let plus = try engine.accumulate(batch, gradientScale: 0, seed: seed)
                p.value[i] = original - h
                let minus = try engine.accumulate(batch, gradientScale: 0, seed: seed)
                p.value[i] = original
                let numeric = (plus - minus) / Double(2 * h)
                #expect(abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(analytic), "\(p.name)[\(i)]: numeric \(numeric), analytic \(analytic)")
                checked += 1
            }
        }
        return checked
    }

    /// Ranks in whole vectors of 8 take LoRAOutputGradient for dB and dt (the fixtures' rank 4
    /// takes OpenBLAS): a fresh rank-24 adapter (16 + 8 columns) with B made non-zero, so that dt
    /// and so dA are too, against central differences, with and without dropout (the two paths).
    @Test(arguments: [0.0, 0.3])
    func wholeVectorRanksMatchFiniteDifferences(dropout: Double) throws {
        let golden = try GradientParityTests.golden("llama")
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let adapter = try TrainableAdapter.create(on: model, .init(targets: ["all"], rank: 24, alpha: 48, dropout: dropout, seed: 5))
        var rng = SplitMix64(seed: 9)
        for p in adapter.parameters where p.name.contains("lora_B") {
            for i in 0..<p.count { p.value[i] = Float(rng.next() >> 40) / Float(1 << 24) * 0.2 - 0.1 }
        }
        let engine = TrainingEngine(model: model)
        let checked = try Self.checkFiniteDifferences(engine, adapter, golden.batch, seed: 11, samplesPerTensor: 2, rng: &rng)
        #expect(checked >= 8)
    }

    /// Slices on part of a fused projection (q and v of q|k|v; k has none) take the path that
    /// writes the slices' products before the frozen one adds onto them (LowRankProduct), with
    /// zeros written where no slice is: the loss must be the one the inference path's logits give
    /// (slices added after the frozen product), and the gradients central differences.
    @Test func slicesOnPartOfAFusedProjection() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/qwen2"))
        let adapter = try TrainableAdapter.create(on: model, .init(targets: ["q_proj", "v_proj"], rank: 8, alpha: 16, seed: 5))
        var rng = SplitMix64(seed: 4)
        for p in adapter.parameters where p.name.contains("lora_B") {
            for i in 0..<p.count { p.value[i] = Float(rng.next() >> 40) / Float(1 << 24) * 0.2 - 0.1 }
        }
        let V = model.config.vocabSize
        let rows: [[Int32]] = (0..<2).map { r in (0..<11).map { Int32((r * 37 + $0 * 13 + 5) % V) } }
        let batch = TrainingBatch(rows: rows, labels: rows.map { $0.map(Int64.init) })
        let engine = TrainingEngine(model: model)
        let loss = try engine.accumulate(batch, gradientScale: 0, seed: 1) / Double(batch.targetCount)
        let logits = try model.fullLogits(rows)
        var sum = 0.0, count = 0, base = 0
        for row in rows {
            for t in 0..<(row.count - 1) {
                let z = logits[(base + t) * V..<(base + t + 1) * V].map(Double.init)
                let top = z.max()!
                sum += top + log(z.reduce(0) { $0 + exp($1 - top) }) - z[Int(row[t + 1])]
                count += 1
            }
            base += row.count
        }
        #expect(abs(loss - sum / Double(count)) <= 1e-5 * max(1, abs(loss)), "loss \(loss) vs \(sum / Double(count)) from logits")
        let checked = try Self.checkFiniteDifferences(engine, adapter, batch, seed: 1, samplesPerTensor: 2, rng: &rng)
        #expect(checked >= 4)
    }

    @Test func dropoutChangesWithTheSeedOnly() throws {
        let golden = try GradientParityTests.golden("llama")
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        _ = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/llama/adapter"), dropout: 0.5)
        let engine = TrainingEngine(model: model)
        let a = try engine.accumulate(golden.batch, gradientScale: 0, seed: 1)
        let b = try engine.accumulate(golden.batch, gradientScale: 0, seed: 1)
        let c = try engine.accumulate(golden.batch, gradientScale: 0, seed: 2)
        let evaluation = try engine.loss(golden.batch)
        #expect(a == b)
        #expect(a != c)
        #expect(abs(evaluation - golden.number("lora_loss") * Double(golden.targetCount)) <= 1e-3, "evaluation runs without dropout")
    }

    /// A new adapter is PEFT's initialisation: B = 0 (the model is unchanged), A ~ U(±1/√in),
    /// DoRA's m = ‖W‖ per row; the same seed gives the same A.
    @Test func newAdapterStartsAsPEFTDoes() throws {
        let golden = try GradientParityTests.golden("llama")
        func make(_ settings: TrainableAdapter.Settings) throws -> (TransformerModel, TrainableAdapter) {
            let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
            return (model, try TrainableAdapter.create(on: model, settings))
        }
        let (model, adapter) = try make(.init(targets: ["all"], rank: 4, alpha: 8, seed: 9))
        #expect(adapter.parameters.count == 2 * 7 * 2)
        let loss = try TrainingEngine(model: model).loss(golden.batch) / Double(golden.targetCount)
        #expect(abs(loss - golden.number("loss")) <= 1e-6)
        for p in adapter.parameters {
            let values = Array(UnsafeBufferPointer(start: p.value, count: p.count))
            if p.name.hasSuffix("lora_B.weight") {
                #expect(values.allSatisfy { $0 == 0 })
            } else {
                let bound = 1 / Float(p.shape[1]).squareRoot()
                #expect(values.allSatisfy { abs($0) <= bound })
                #expect(values.map(abs).max()! > 0.9 * bound)
            }
        }
        let (_, again) = try make(.init(targets: ["all"], rank: 4, alpha: 8, seed: 9))
        let (_, other) = try make(.init(targets: ["all"], rank: 4, alpha: 8, seed: 10))
        let first = { (a: TrainableAdapter) in Array(UnsafeBufferPointer(start: a.parameters[0].value, count: a.parameters[0].count)) }
        #expect(first(adapter) == first(again))
        #expect(first(adapter) != first(other))

        let (doraModel, dora) = try make(.init(targets: ["q_proj", "v_proj"], rank: 4, alpha: 8, dora: true, seed: 9))
        #expect(dora.parameters.count == 2 * 2 * 3)
        let doraLoss = try TrainingEngine(model: doraModel).loss(golden.batch) / Double(golden.targetCount)
        #expect(abs(doraLoss - golden.number("loss")) <= 1e-5)
    }

    @Test func unknownTargetsAndBadSettingsAreRefused() throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        #expect(throws: LFError.self) { try TrainableAdapter.create(on: model, .init(targets: ["qkv_proj"])) }
        #expect(throws: LFError.self) { try TrainableAdapter.create(on: model, .init(targets: []) ) }
        #expect(throws: LFError.self) { try TrainableAdapter.create(on: model, .init(targets: ["all"], rank: 0)) }
        #expect(throws: LFError.self) { try TrainableAdapter.create(on: model, .init(targets: ["all"], dropout: 1)) }
        do {
            _ = try TrainableAdapter.create(on: model, .init(targets: ["c_attn"]))
            Issue.record("c_attn is a GPT-2 name")
        } catch let error as LFError {
            #expect("\(error)".contains("q_proj"), "the error lists the model's module names: \(error)")
        }
    }

    /// A saved adapter reloads (through the inference path) to the same logits, and its files are
    /// PEFT's: adapter_config.json fields and safetensors keys.
    @Test func savedAdapterRoundTrips() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/llama/dora/adapter"))
        try adapter.save(to: dir.path)
        let saved = try SafetensorsFile(path: dir.path + "/adapter_model.safetensors")
        let reference = try SafetensorsFile(path: Fixtures.path("models/llama/dora/adapter/adapter_model.safetensors"))
        #expect(saved.tensors.map(\.name).sorted() == reference.tensors.map(\.name).sorted())
        for t in reference.tensors { #expect(try saved.floats(t.name) == reference.floats(t.name)) }
        let config = try AdapterConfig.load(directory: dir.path)
        #expect(config.useDora && config.r == 4 && config.loraAlpha == 8)
        #expect(Set(config.targetModules) == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    }
}
