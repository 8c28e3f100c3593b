import Foundation
import Shared
import Testing
import TestSupport

/// The training forward and backward against transformers + PEFT on every fixture: the loss with
/// and without the adapter (≤ 1e-5 abs), every LoRA gradient (per tensor ‖g − g_ref‖/‖g_ref‖ ≤ 1e-3)
/// and the global gradient norm (≤ 1e-4 relative).
@Suite struct GradientParityTests {
    /// (golden folder, base model folder, adapter folder)
    static let cases: [(String, String)] = [
        ("llama", "llama"), ("llama-untied", "llama-untied"), ("llama3-rope", "llama3-rope"), ("mistral", "mistral"),
        ("qwen2", "qwen2"), ("qwen3", "qwen3"), ("phi3", "phi3"), ("phi4-mini", "phi4-mini"), ("gemma", "gemma"),
        ("gpt2", "gpt2"), ("llama/rslora", "llama"), ("llama/dora", "llama"), ("llama-bf16", "llama-bf16"),
    ]
    static var names: [String] { cases.map(\.0) }

    struct Golden {
        let tensors: SafetensorsFile
        let json: [String: Any]
        let batch: TrainingBatch
        var targetCount: Int { json["n_loss_tokens"] as? Int ?? batch.targetCount }
        /// A golden number (the variants' files call the base loss `loss_base`).
        func number(_ key: String) -> Double {
            guard let n = (json[key] ?? json[key + "_base"]) as? NSNumber else { fatalError("golden.json has no \(key)") }
            return n.doubleValue
        }
    }

    static func golden(_ folder: String) throws -> Golden {
        let tensors = try SafetensorsFile(path: Fixtures.path("models/\(folder)/golden.safetensors"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/\(folder)/golden.json")))) as! [String: Any]
        let ids = try tensors.integers("input_ids"), labels = try tensors.integers("labels")
        let T = tensors["input_ids"]!.shape[1]
        let rows = stride(from: 0, to: ids.count, by: T).map { ids[$0..<($0 + T)].map { Int32($0) } }
        let labelRows = stride(from: 0, to: labels.count, by: T).map { Array(labels[$0..<($0 + T)]) }
        return Golden(tensors: tensors, json: json, batch: TrainingBatch(rows: rows, labels: labelRows))
    }

    static func model(for folder: String) -> String { cases.first { $0.0 == folder }!.1 }

    @Test(arguments: names)
    func baseLossMatches(folder: String) throws {
        let golden = try Self.golden(folder)
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(Self.model(for: folder))"))
        let engine = TrainingEngine(model: model)
        #expect(golden.batch.targetCount == golden.targetCount)
        let loss = try engine.loss(golden.batch) / Double(golden.targetCount)
        #expect(abs(loss - golden.number("loss")) <= 1e-5, "\(folder): loss \(loss) vs \(golden.number("loss"))")
    }

    @Test(arguments: names)
    func loraLossAndGradientsMatch(folder: String) throws {
        let golden = try Self.golden(folder)
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(Self.model(for: folder))"))
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/\(folder)/adapter"))
        let engine = TrainingEngine(model: model)
        let n = golden.targetCount
        let loss = try engine.accumulate(golden.batch, gradientScale: 1 / Float(n)) / Double(n)
        #expect(abs(loss - golden.number("lora_loss")) <= 1e-5, "\(folder): lora loss \(loss) vs \(golden.number("lora_loss"))")
        guard golden.json["grad_norm"] != nil else { return }  // llama-bf16: losses only
        var squares: Double = 0
        var worst = (name: "", error: 0.0)
        for p in adapter.parameters {
            let expected = try golden.tensors.floats(p.name + ".grad")
            let actual = Array(UnsafeBufferPointer(start: p.gradient, count: p.count))
            var diff: Double = 0, norm: Double = 0
            for i in 0..<p.count {
                diff += Double(actual[i] - expected[i]) * Double(actual[i] - expected[i])
                norm += Double(expected[i]) * Double(expected[i])
                squares += Double(actual[i]) * Double(actual[i])
            }
            let relative = (diff / norm).squareRoot()
            if relative > worst.error { worst = (p.name, relative) }
            #expect(relative <= 1e-3, "\(folder) \(p.name): gradient relative L2 error \(relative)")
        }
        let gradNorm = squares.squareRoot(), expectedNorm = golden.number("grad_norm")
        #expect(abs(gradNorm - expectedNorm) / expectedNorm <= 1e-4, "\(folder): grad norm \(gradNorm) vs \(expectedNorm)")
        #expect(adapter.parameters.count == golden.tensors.tensors.filter { $0.name.hasSuffix(".grad") }.count)
    }
}
