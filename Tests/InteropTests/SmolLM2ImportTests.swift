import Foundation
import Shared
import Testing
import TestSupport

/// The directory scripts/fetch-model.sh made with `lf-gguf import` from the real SmolLM2 GGUF must
/// equal the reference conversion: config and tokenizer files JSON-equal to ../shared/fixtures/smollm2,
/// every weight as weights-summary.json describes it.
@Suite(.enabled(if: DefaultModel.shouldTest, "the default model is not fetched (scripts/fetch-model.sh)"))
struct SmolLM2ImportTests {
    static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func modelIsPresent() {
        #expect(DefaultModel.isPresent, "run scripts/fetch-model.sh: \(DefaultModel.directory) is missing")
    }

    @Test(arguments: ["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"])
    func fileEqualsTheReference(name: String) throws {
        let got = try Self.json(DefaultModel.directory + "/" + name)
        let want = try Self.json(Fixtures.path("smollm2/" + name))
        #expect(got == want, "\(name) differs from the fixture")
    }

    @Test func weightsMatchTheSummary() throws {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("smollm2/weights-summary.json")))) as! [String: Any]
        let expected = summary["tensors"] as! [String: [String: Any]]
        let file = try SafetensorsFile(path: DefaultModel.directory + "/model.safetensors")
        #expect(file.tensors.count == expected.count)
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            guard let t = file[name] else { Issue.record("\(name) is missing"); continue }
            #expect(t.dtype == .f32, "\(name) dtype")
            #expect(t.shape == (want["shape"] as! [Int]), "\(name) shape")
            let values = try file.floats(name)
            let first8 = (want["first8"] as! [Double]).map { Float($0) }
            #expect(Array(values.prefix(8)) == first8, "\(name) first values")
            var sum = 0.0, sumSq = 0.0
            for v in values { sum += Double(v); sumSq += Double(v) * Double(v) }
            let wantSum = want["sum"] as! Double, wantSq = want["sum_sq"] as! Double
            // The summary was summed pairwise in float64; a sequential float64 sum differs by ~1e-12 relative.
            #expect(abs(sum - wantSum) <= 1e-5 * max(1, abs(wantSum)), "\(name) sum \(sum) vs \(wantSum)")
            #expect(abs(sumSq - wantSq) <= 1e-5 * max(1, wantSq), "\(name) sum of squares \(sumSq) vs \(wantSq)")
        }
    }

    @Test func bf16ImportConfigEqualsTheReferenceToo() throws {
        let root = try Fixtures.temporaryDirectory("lf-smollm2")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.path + "/bf16"
        let summary = try GGUFImporter.run(gguf: DefaultModel.gguf, output: out, dtype: .bf16)
        #expect(summary.tensors == 272)
        #expect(summary.tensorTypes == ["Q4_1": 210, "Q8_0": 1, "F32": 61])
        #expect(try Self.json(out + "/config.json") == Self.json(Fixtures.path("smollm2/config.json")))
        let weights = try SafetensorsFile(path: out + "/model.safetensors")
        let reference = try SafetensorsFile(path: DefaultModel.directory + "/model.safetensors")
        let name = "model.layers.7.self_attn.k_proj.weight"
        #expect(weights[name]?.dtype == .bf16)
        #expect(try weights.floats(name) == reference.floats(name).map { HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16($0)) })
    }
}
