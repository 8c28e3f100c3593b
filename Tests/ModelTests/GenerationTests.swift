import Foundation
import Shared
import Testing
import TestSupport

/// Greedy decoding with the KV cache against transformers' `generate` on every fixture model.
@Suite struct GenerationTests {
    @Test(arguments: ForwardParityTests.models.filter { $0 != "gpt2-hub-keys" })
    func greedyContinuationIsExact(model name: String) throws {
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(name)"))
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/\(name)/golden.json")))) as! [String: Any]
        let generation = golden["generation"] as! [String: Any]
        let prompt = (generation["prompt_ids"] as! [Int]).map { Int32($0) }
        let expected = (generation["new_ids"] as! [Int]).map { Int32($0) }
        let V = model.config.vocabSize
        let cache = model.makeCache(capacity: prompt.count + expected.count)
        var sampler = Sampler(SamplingOptions())
        var logits = [Float](repeating: 0, count: V)
        var stepLogits: [Float] = []
        var produced: [Int32] = []
        var input = prompt
        for _ in 0..<expected.count {
            try logits.withUnsafeMutableBufferPointer { try model.forward(input, cache: cache, logits: .last, into: $0.baseAddress) }
            stepLogits += logits
            let next = logits.withUnsafeMutableBufferPointer { sampler.next($0.baseAddress!, vocabulary: V, history: prompt + produced) }
            produced.append(next)
            input = [next]
        }
        #expect(produced == expected, "\(name): generated \(produced), transformers \(expected)")
        let goldenTensors = try SafetensorsFile(path: Fixtures.path("models/\(name)/golden.safetensors"))
        checkTensor("\(name) generation_logits", actual: stepLogits, expected: try goldenTensors.floats("generation_logits"), atol: 1e-4)
    }

    @Test func samplingIsSeededAndRespectsTopK() {
        var logits: [Float] = [1, 3, 2, 0.5, 2.9]
        func draw(_ options: SamplingOptions, times: Int) -> [Int32] {
            var sampler = Sampler(options)
            return (0..<times).map { _ in
                var l = logits
                return l.withUnsafeMutableBufferPointer { sampler.next($0.baseAddress!, vocabulary: 5, history: []) }
            }
        }
        let a = draw(SamplingOptions(temperature: 1, seed: 7), times: 50)
        let b = draw(SamplingOptions(temperature: 1, seed: 7), times: 50)
        #expect(a == b)
        #expect(Set(a).count > 2)
        #expect(Set(draw(SamplingOptions(temperature: 1, topK: 2, seed: 3), times: 200)) == [1, 4])
        #expect(Set(draw(SamplingOptions(temperature: 0.7, topP: 0.01, seed: 3), times: 50)) == [1])
        #expect(Set(draw(SamplingOptions(temperature: 1, minP: 0.5, seed: 3), times: 200)).isSubset(of: [1, 4, 2]))
        #expect(draw(SamplingOptions(), times: 3) == [1, 1, 1])
        // Repetition penalty divides positive logits of seen tokens: 3 / 2 = 1.5 < 2.9.
        var sampler = Sampler(SamplingOptions(repetitionPenalty: 2))
        #expect(logits.withUnsafeMutableBufferPointer { sampler.next($0.baseAddress!, vocabulary: 5, history: [1]) } == 4)
    }
}
