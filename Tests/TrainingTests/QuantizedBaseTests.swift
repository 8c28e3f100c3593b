import Foundation
@testable import Shared
import Testing
import TestSupport

/// Models whose block matrices are held as q8 or q4 (embedding and LM head bf16): logits and LoRA
/// gradients stay close to float32's, decoding (the direct quantised matvec) agrees with the batched
/// forward (widened blocks + sgemm), and the weights take the memory the formats promise.
///
/// Tolerances are from measurements on the fixtures (random weights ~N(0, 0.02), hidden 64), with
/// about 1.5× headroom; the worst measured value is noted beside each.
@Suite struct QuantizedBaseTests {
    static let models = ["llama", "gpt2", "qwen3", "phi3"]

    static func logits(_ model: TransformerModel, _ rows: [[Int32]]) throws -> [Float] { try model.fullLogits(rows) }

    /// ‖a − b‖ / ‖b‖ and max |a − b| / RMS(b).
    static func errors(_ a: [Float], _ b: [Float]) -> (rms: Double, max: Double) {
        var diff: Double = 0, norm: Double = 0, worst: Double = 0
        for (x, y) in zip(a, b) {
            diff += Double(x - y) * Double(x - y)
            norm += Double(y) * Double(y)
            worst = max(worst, Double(abs(x - y)))
        }
        return ((diff / norm).squareRoot(), worst / (norm / Double(b.count)).squareRoot())
    }

    static func rows(_ folder: String) throws -> [[Int32]] {
        let golden = try GradientParityTests.golden(folder)
        let T = golden.tensors["input_ids"]!.shape[1]
        return stride(from: 0, to: golden.batch.tokens.count, by: T).map { Array(golden.batch.tokens[$0..<($0 + T)]) }
    }

    /// Measured (RMS relative, max |diff| / RMS): q8 0.0057–0.0137, ≤ 0.062; q4 0.068–0.168, ≤ 0.82. Random weights carry no structure, so the error is larger than on a trained model.
    @Test(arguments: models, [WeightFormat.q8, .q4])
    func logitsAreCloseToFloat32(model name: String, format: WeightFormat) throws {
        let rows = try Self.rows(name)
        let reference = try Self.logits(TransformerModel.load(directory: Fixtures.path("models/\(name)")), rows)
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"), weightType: format)
        #expect(model.weightType == format)
        let (rms, worst) = Self.errors(try Self.logits(model, rows), reference)
        let bound = format == .q8 ? (rms: 0.02, max: 0.09) : (rms: 0.25, max: 1.2)
        #expect(rms <= bound.rms && worst <= bound.max, "\(name) \(format): RMS relative \(rms), max/RMS \(worst)")
    }

    /// One token at a time through the KV cache (every product a matvec on the blocks) against
    /// the whole row at once (blocks widened for sgemm): the same model, so only rounding differs
    /// (measured ≤ 6.7e-7 RMS relative).
    @Test(arguments: [WeightFormat.q8, .q4])
    func decodingAgreesWithTheBatchedForward(format: WeightFormat) throws {
        for name in Self.models {
            let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"), weightType: format)
            let row = try Self.rows(name)[0]
            let all = try Self.logits(model, [row])
            let V = model.config.vocabSize
            let cache = model.makeCache(capacity: row.count)
            var stepped: [Float] = []
            var last = [Float](repeating: 0, count: V)
            for token in row {
                try last.withUnsafeMutableBufferPointer { try model.forward([token], cache: cache, logits: .last, into: $0.baseAddress) }
                stepped += last
            }
            let (rms, _) = Self.errors(stepped, all)
            #expect(rms <= 2e-6, "\(name) \(format): RMS relative \(rms)")
        }
    }

    /// LoRA gradients (loaded PEFT adapters, golden batches) with a quantised base against the
    /// float32 base: ‖g − g_f32‖ / ‖g_f32‖ over all tensors, and the summed loss. Measured: gradients
    /// q8 0.008–0.018, q4 0.11–0.23; loss q8 ≤ 2.3e-4 relative, q4 ≤ 2.0e-3 (qwen3).
    @Test(arguments: Self.models + ["llama/dora"])
    func loraGradientsAreCloseToFloat32(folder: String) throws {
        let base = folder == "llama/dora" ? "llama" : folder
        let batch = try GradientParityTests.golden(folder).batch
        let f32 = try TrainingEngineTests.run(base, batch, adapterFolder: folder)
        for (format, bound) in [(WeightFormat.q8, 0.027), (.q4, 0.35)] {
            let quantized = try TrainingEngineTests.run(base, batch, weightType: format, adapterFolder: folder)
            let relative = TrainingEngineTests.relativeError(quantized.grads, f32.grads)
            #expect(relative <= bound, "\(folder) \(format): gradient error \(relative)")
            #expect(abs(quantized.loss - f32.loss) <= (format == .q8 ? 5e-4 : 3e-3) * f32.loss,
                    "\(folder) \(format): loss \(quantized.loss) vs \(f32.loss)")
        }
    }

    /// Block matrices take Q8Matrix / Q4Matrix bytes, the embedding (and an untied head) 2 bytes a
    /// value, everything else (norms, biases, GPT-2's positions) stays float32.
    @Test(arguments: models, [WeightFormat.q8, .q4])
    func weightBytesShrinkAsTheFormatsSay(model name: String, format: WeightFormat) throws {
        let f32 = try TransformerModel.load(directory: Fixtures.path("models/\(name)"))
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"), weightType: format)
        let c = f32.config
        var expected = f32.weightBytes
        for block in f32.blocks {
            for l in [block.qkv, block.output, block.up, block.down] {
                let (O, I) = (l.outFeatures, l.inFeatures)
                expected -= 4 * O * I - (format == .q8 ? Q8Matrix.byteCount(rows: O, cols: I) : Q4Matrix.byteCount(rows: O, cols: I))
            }
        }
        expected -= 2 * c.vocabSize * c.hiddenSize * (c.tiedEmbeddings ? 1 : 2)
        #expect(model.weightBytes == expected)
        if case .bf16 = model.lmHead.weight {} else { Issue.record("the LM head should stay bf16") }
        if case .bf16 = model.tokenEmbedding {} else { Issue.record("the embedding should stay bf16") }
    }

    @Test func lfTrainAcceptsQuantisedBases() {
        #expect(TrainingEngineSupport.current.baseDtypes == Set(TrainingConfiguration.BaseDType.allCases))
        #expect(TrainingConfiguration.BaseDType.allCases.map { WeightFormat($0).rawValue } == ["f32", "bf16", "q8", "q4"])
    }
}
