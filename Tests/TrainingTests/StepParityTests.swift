import Foundation
import Shared
import Testing
import TestSupport

/// Two optimiser steps end to end, from our own gradients: clip to 1, AdamW (lr 1e-2, wd 0.01),
/// against adapter_step1/2.safetensors. Elements whose golden gradient is below 1e-5 may flip
/// the sign of Adam's first step, so they are held to 2·lr, the rest to 1e-4 (golden.json).
@Suite struct StepParityTests {
    @Test(arguments: GradientParityTests.names.filter { $0 != "llama-bf16" })
    func twoAdamWStepsMatchPEFT(folder: String) throws {
        let golden = try GradientParityTests.golden(folder)
        let model = try TransformerModel.load(directory: Fixtures.path("models/\(GradientParityTests.model(for: folder))"))
        let adapter = try TrainableAdapter.load(on: model, directory: Fixtures.path("models/\(folder)/adapter"))
        let engine = TrainingEngine(model: model)
        let optimizer = try AdamW(parameters: adapter.parameters, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
        let n = Float(golden.targetCount)
        for (step, gradSuffix) in [(1, ".grad"), (2, ".grad_step1")] {
            adapter.zeroGradients()
            let loss = try engine.accumulate(golden.batch, gradientScale: 1 / n) / Double(n)
            if step == 2 {
                #expect(abs(loss - golden.number("lora_loss_step1")) <= 1e-5, "\(folder): step-1 loss \(loss)")
            }
            let (norm, _) = clipGradients(adapter.parameters, maxNorm: 1)
            let expectedNorm = golden.number(step == 1 ? "grad_norm" : "grad_norm_step1")
            #expect(abs(norm - expectedNorm) / expectedNorm <= 1e-4, "\(folder) step \(step): grad norm \(norm) vs \(expectedNorm)")
            optimizer.step(learningRate: 1e-2)
            adapter.parametersDidChange()
            let reference = try SafetensorsFile(path: Fixtures.path("models/\(folder)/adapter_step\(step).safetensors"))
            for p in adapter.parameters {
                let expected = try reference.floats(p.name), gradient = try golden.tensors.floats(p.name + gradSuffix)
                let first = try golden.tensors.floats(p.name + ".grad")
                var worst: Float = 0
                for i in 0..<p.count {
                    // A step taken on a near-zero gradient stays in the parameter: step 2 also
                    // allows 2·lr where step 1's gradient was below the threshold.
                    let allowed: Float = min(abs(gradient[i]), abs(first[i])) >= 1e-5 ? 1e-4 : 2e-2
                    let d = abs(p.value[i] - expected[i])
                    if d > allowed { worst = max(worst, d) }
                }
                #expect(worst == 0, "\(folder) step \(step) \(p.name): off by \(worst)")
            }
        }
    }
}
