import Foundation
import Testing
import TestSupport
@testable import Shared

/// DoRA with LoRA dropout, PEFT's training path: y = Wx + (d − 1) ⊙ W·x̃ + d ⊙ s·BA·x̃, with x̃ the
/// dropped input and d = m / ‖W + sBA‖ (the norm detached).
@Suite struct DoRADropoutTests {
    static func doraModel(dropout: Double) throws -> (TransformerModel, TrainableAdapter) {
        let model = try TransformerModel.load(directory: Fixtures.path("models/llama"))
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/llama/dora/adapter"), dropout: dropout)
        return (model, adapter)
    }

    /// The layer's training forward against the formula computed element by element, with the
    /// masks the engine draws for each slice.
    @Test func forwardIsPEFTsFormula() throws {
        let (model, _) = try Self.doraModel(dropout: 0.3)
        let linear = model.blocks[0].qkv
        let (N, I, O) = (5, linear.inFeatures, linear.outFeatures)
        var rng = SplitMix64(seed: 11)
        let x = (0..<(N * I)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        var y = [Float](repeating: 0, count: N * O)
        let passSeed: UInt64 = 9
        let scratch = LinearScratch()
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                linear.trainingForward(xs.baseAddress!, rows: N, into: ys.baseAddress!, tape: LinearTape(), scratch: scratch, passSeed: passSeed)
            }
        }
        let w = try #require(linear.weight.float32)
        var expected = [Double](repeating: 0, count: N * O)
        for r in 0..<N {
            for o in 0..<O { expected[r * O + o] = (0..<I).reduce(0) { $0 + Double(w[o * I + $1]) * Double(x[r * I + $1]) } }
        }
        #expect(linear.adapters.count == 3 && linear.adapters.allSatisfy { $0.doraScale != nil && $0.dropout == 0.3 })
        for l in linear.adapters {
            let mask = UnsafeMutablePointer<Float>.allocate(capacity: N * I)
            defer { mask.deallocate() }
            Dropout.mask(mask, count: N * I, p: l.dropout, seed: Dropout.seed(pass: passSeed, slice: l.name))
            #expect((0..<(N * I)).contains { mask[$0] == 0 } && (0..<(N * I)).contains { mask[$0] > 1 })
            for r in 0..<N {
                let dropped = (0..<I).map { Double(x[r * I + $0] * mask[r * I + $0]) }
                let t = (0..<l.rank).map { j in (0..<I).reduce(0.0) { $0 + Double(l.a[j * I + $1]) * dropped[$1] } }
                for o in 0..<l.rows {
                    let row = l.rowOffset + o
                    let u = (0..<I).reduce(0.0) { $0 + Double(w[row * I + $1]) * dropped[$1] }
                    let lora = Double(l.scale) * (0..<l.rank).reduce(0.0) { $0 + Double(l.b[o * l.rank + $1]) * t[$1] }
                    let d = Double(l.doraScale![o])
                    expected[r * O + row] += (d - 1) * u + d * lora
                }
            }
        }
        for i in 0..<(N * O) {
            #expect(abs(Double(y[i]) - expected[i]) <= 1e-4 * (1 + abs(expected[i])), "element \(i): \(y[i]) vs \(expected[i])")
        }
    }

    /// Central differences of the loss (dropout on, its masks fixed by the seed; the norm held
    /// constant as PEFT detaches it) against the analytic gradients of A, B and m.
    @Test func gradientsMatchFiniteDifferences() throws {
        let golden = try GradientParityTests.golden("llama")
        let (model, adapter) = try Self.doraModel(dropout: 0.3)
        let slices = model.blocks.flatMap { [$0.qkv, $0.output, $0.up, $0.down] }.flatMap(\.adapters).filter { $0.doraScale != nil }
        #expect(!slices.isEmpty)
        func rescale() {
            for l in slices {
                for o in 0..<l.rows { l.doraScale![o] = l.magnitude![o] / l.weightNorm![o] }
            }
        }
        let engine = TrainingEngine(model: model)
        let seed: UInt64 = 5
        _ = try engine.accumulate(golden.batch, gradientScale: 1, seed: seed)
        var rng = SplitMix64(seed: 4)
        var checked = 0
        for p in adapter.parameters where p.name.contains("layers.0") || p.name.contains("layers.1") {
            let i = Int(rng.next() % UInt64(p.count))
            let analytic = Double(p.gradient[i])
            let original = p.value[i]
            let h: Float = 2e-3
            p.value[i] = original + h
            rescale()
            let plus = try engine.accumulate(golden.batch, gradientScale: 0, seed: seed)
            p.value[i] = original - h
            rescale()
            let minus = try engine.accumulate(golden.batch, gradientScale: 0, seed: seed)
            p.value[i] = original
            rescale()
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(analytic), "\(p.name)[\(i)]: numeric \(numeric), analytic \(analytic)")
            checked += 1
        }
        #expect(checked >= 6)
        #expect(adapter.parameters.contains { $0.name.contains("magnitude") })
    }
}
