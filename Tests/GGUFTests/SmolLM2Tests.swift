import Foundation
import Shared
import Testing
import TestSupport

/// Real Q4_1/Q8_0 data: the SmolLM2-135M-Instruct GGUF (not committed, ~98 MB) dequantised here
/// must reproduce ../shared/fixtures/smollm2/weights-summary.json (sum, sum of squares and first 8
/// values per tensor, made with transformers' GGUF loader). Runs where scripts/fetch-model.sh has
/// fetched the file (and fails without it when LF_REQUIRE_MODEL=1, as in CI).
@Suite struct SmolLM2Tests {
    static let path = ProcessInfo.processInfo.environment["LF_SMOLLM2_GGUF"] ?? DefaultModel.gguf
    static let available = FileManager.default.fileExists(atPath: path) || DefaultModel.isRequired

    /// GGUF tensor name → HF name, and whether llama.cpp permuted its rows (attn_q/attn_k: then only
    /// the permutation-invariant sum and sum of squares are compared).
    static func hfName(_ gguf: String) -> (name: String, permuted: Bool)? {
        if gguf == "token_embd.weight" { return ("model.embed_tokens.weight", false) }
        if gguf == "output_norm.weight" { return ("model.norm.weight", false) }
        let parts = gguf.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]) else { return nil }
        let table: [String: (String, Bool)] = [
            "attn_norm": ("input_layernorm", false), "ffn_norm": ("post_attention_layernorm", false),
            "attn_q": ("self_attn.q_proj", true), "attn_k": ("self_attn.k_proj", true),
            "attn_v": ("self_attn.v_proj", false), "attn_output": ("self_attn.o_proj", false),
            "ffn_gate": ("mlp.gate_proj", false), "ffn_up": ("mlp.up_proj", false), "ffn_down": ("mlp.down_proj", false),
        ]
        guard let (module, permuted) = table[String(parts[2])] else { return nil }
        return ("model.layers.\(layer).\(module).weight", permuted)
    }

    @Test(.enabled(if: available, "SmolLM2-135M-Instruct.Q4_1.gguf is not fetched (scripts/fetch-model.sh); skipped"))
    func dequantisedWeightsMatchTheSummary() throws {
        let summaryData = try readBytes(Fixtures.path("smollm2/weights-summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: summaryData) as? [String: Any])
        let expected = try #require(summary["tensors"] as? [String: [String: Any]])
        let source = try #require(summary["source_gguf"] as? [String: Any])

        let file = try GGUFFile(path: Self.path)
        #expect(file.fileSize == source["bytes"] as? Int)
        #expect(file.tensors.count == expected.count)
        #expect(Set(file.tensors.map(\.type)) == [.f32, .q4_1, .q8_0])
        var matched = Set<String>()
        for t in file.tensors {
            let (hf, permuted) = try #require(Self.hfName(t.name), "no HF name for \(t.name)")
            let want = try #require(expected[hf], "\(hf) missing from the summary")
            matched.insert(hf)
            #expect(want["shape"] as? [Int] == t.dimensions.reversed(), "\(t.name)")
            let values = try file.floats(t)
            var sum = 0.0, sumSq = 0.0, sumAbs = 0.0
            for v in values {
                let x = Double(v)
                sum += x
                sumSq += x * x
                sumAbs += abs(x)
            }
            let wantSum = try #require(want["sum"] as? Double), wantSq = try #require(want["sum_sq"] as? Double)
            // Pairwise (numpy) and sequential float64 sums differ by rounding only.
            #expect(abs(sum - wantSum) <= 1e-9 * sumAbs, "\(t.name) \(t.type.name): sum \(sum), expected \(wantSum)")
            #expect(abs(sumSq - wantSq) <= 1e-9 * wantSq, "\(t.name) \(t.type.name): sum of squares \(sumSq), expected \(wantSq)")
            if !permuted {
                let first8 = try #require(want["first8"] as? [Double]).map { Float($0) }
                #expect(Array(values.prefix(8)).map(\.bitPattern) == first8.map(\.bitPattern), "\(t.name): \(values.prefix(8)) vs \(first8)")
            }
        }
        #expect(matched.count == expected.count)
    }
}
