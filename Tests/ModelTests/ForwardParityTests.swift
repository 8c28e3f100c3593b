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

    /// Logits (T, V) of each row, one forward pass per row.
    static func logits(_ model: TransformerModel, _ rows: [[Int32]]) throws -> [Float] {
        var out: [Float] = []
        for row in rows {
            var logits = [Float](repeating: 0, count: row.count * model.config.vocabSize)
            let cache = model.makeCache(capacity: row.count)
            try logits.withUnsafeMutableBufferPointer { try model.forward(row, cache: cache, logits: .all, into: $0.baseAddress) }
            out += logits
        }
        return out
    }

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
