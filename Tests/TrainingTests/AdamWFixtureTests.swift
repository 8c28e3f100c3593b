import Foundation
import Shared
import Testing
import TestSupport

/// AdamW in isolation against torch (README "Conventions" 9 and "Tolerances" of each fixture):
/// from `adapter/`, the golden `.grad` tensors clipped to max_grad_norm, one AdamW step →
/// adapter_step1 and optimizer_step1 (m, v); then `.grad_step1`, clipped, a second step →
/// adapter_step2. The second step is also taken from the fixture's own step-1 files, as a resume
/// from a torch checkpoint would.
@Suite struct AdamWFixtureTests {
    static let folders = ["llama", "llama-untied", "llama3-rope", "mistral", "qwen2", "qwen3", "phi3", "phi4-mini",
                          "gemma", "gpt2", "llama/rslora", "llama/dora"]

    /// golden.json's settings and scalars.
    struct Golden {
        var lr, beta1, beta2, eps, weightDecay, maxGradNorm: Double
        var gradNorm, clipCoef, gradNormStep1: Double
        var optimizerStep: Int

        init(_ folder: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/\(folder)/golden.json")))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let adamw = try #require(json["adamw"] as? [String: Any])
            let betas = try #require(adamw["betas"] as? [Double])
            lr = try #require(adamw["lr"] as? Double)
            beta1 = betas[0]
            beta2 = betas[1]
            eps = try #require(adamw["eps"] as? Double)
            weightDecay = try #require(adamw["weight_decay"] as? Double)
            maxGradNorm = try #require(adamw["max_grad_norm"] as? Double)
            gradNorm = try #require(json["grad_norm"] as? Double)
            clipCoef = try #require(json["clip_coef"] as? Double)
            gradNormStep1 = try #require(json["grad_norm_step1"] as? Double)
            optimizerStep = try #require(json["optimizer_step"] as? Int)
        }

        func optimizer(_ set: ParameterSet) throws -> AdamW {
            try AdamW(parameters: set.parameters, betas: (beta1, beta2), eps: eps, weightDecay: weightDecay)
        }
    }

    static func file(_ folder: String, _ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(path: Fixtures.path("models/\(folder)/\(name)"))
    }

    /// Largest |a − b| over every parameter against `reference`, checked against `atol`, plus the
    /// fraction of values that are bit-identical.
    static func compareParameters(_ label: String, _ set: ParameterSet, _ reference: SafetensorsFile, atol: Float,
                                  sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (maxAbs: Float, identical: Double) {
        var worst: Float = 0, same = 0, total = 0
        #expect(Set(reference.names) == Set(set.parameters.map(\.name)), "\(label): parameter names", sourceLocation: sourceLocation)
        for p in set.parameters {
            let actual = set.values(p), expected = try reference.floats(p.name)
            checkTensor("\(label) \(p.name)", actual: actual, expected: expected, atol: atol, sourceLocation: sourceLocation)
            worst = max(worst, maxAbsDiff(actual, expected))
            same += zip(actual, expected).filter { $0.bitPattern == $1.bitPattern }.count
            total += actual.count
        }
        return (worst, Double(same) / Double(max(total, 1)))
    }

    static func relativeL2(_ a: [Float], _ b: [Float]) -> Double {
        var num = 0.0, den = 0.0
        for (x, y) in zip(a, b) {
            num += Double(x - y) * Double(x - y)
            den += Double(y) * Double(y)
        }
        return den == 0 ? num.squareRoot() : (num / den).squareRoot()
    }

    @Test(arguments: folders)
    func twoStepsMatchTorch(folder: String) throws {
        let golden = try Golden(folder)
        let set = try ParameterSet(file: try Self.file(folder, "adapter/adapter_model.safetensors"))
        let grads = try Self.file(folder, "golden.safetensors")
        let optimizer = try golden.optimizer(set)

        // Step 1.
        try set.setGradients { try grads.floats($0.name + ".grad") }
        let clip1 = clipGradients(set.parameters, maxNorm: golden.maxGradNorm)
        #expect(abs(clip1.norm - golden.gradNorm) <= 1e-4 * golden.gradNorm, "\(folder): grad_norm \(clip1.norm) vs \(golden.gradNorm)")
        #expect(abs(clip1.coefficient - golden.clipCoef) <= 1e-6, "\(folder): clip_coef \(clip1.coefficient) vs \(golden.clipCoef)")
        optimizer.step(learningRate: golden.lr)
        #expect(optimizer.stepCount == golden.optimizerStep)
        let step1 = try Self.compareParameters("\(folder) step 1", set, try Self.file(folder, "adapter_step1.safetensors"), atol: 1e-6)

        let state = try Self.file(folder, "optimizer_step1.safetensors")
        var worstM: Float = 0, worstV = 0.0
        let tensors = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0) })
        #expect(Set(tensors.keys) == Set(state.names), "\(folder): optimizer state names")
        for p in set.parameters {
            let m = try #require(tensors[p.name + ".exp_avg"]), v = try #require(tensors[p.name + ".exp_avg_sq"])
            let mRef = try state.floats(m.name), vRef = try state.floats(v.name)
            checkTensor("\(folder) \(m.name)", actual: m.values, expected: mRef, atol: 1e-7)
            worstM = max(worstM, maxAbsDiff(m.values, mRef))
            let rel = Self.relativeL2(v.values, vRef)
            #expect(rel <= 1e-5, "\(folder) \(v.name): relative L2 \(rel)")
            worstV = max(worstV, rel)
        }

        // Step 2, continuing.
        try set.setGradients { try grads.floats($0.name + ".grad_step1") }
        let clip2 = clipGradients(set.parameters, maxNorm: golden.maxGradNorm)
        #expect(abs(clip2.norm - golden.gradNormStep1) <= 1e-4 * golden.gradNormStep1,
                "\(folder): grad_norm_step1 \(clip2.norm) vs \(golden.gradNormStep1)")
        optimizer.step(learningRate: golden.lr)
        let step2 = try Self.compareParameters("\(folder) step 2", set, try Self.file(folder, "adapter_step2.safetensors"), atol: 1e-6)

        // Step 2 again, resumed from torch's own step-1 parameters and state.
        let resumed = try ParameterSet(file: try Self.file(folder, "adapter_step1.safetensors"))
        let resumedOptimizer = try golden.optimizer(resumed)
        try resumedOptimizer.restore(state: try state.tensors.map { ($0.name, $0.shape, try state.floats($0.name)) },
                                     stepCount: golden.optimizerStep)
        try resumed.setGradients { try grads.floats($0.name + ".grad_step1") }
        clipGradients(resumed.parameters, maxNorm: golden.maxGradNorm)
        resumedOptimizer.step(learningRate: golden.lr)
        let step2Resumed = try Self.compareParameters("\(folder) step 2 from torch's step 1", resumed,
                                                      try Self.file(folder, "adapter_step2.safetensors"), atol: 1e-6)

        func f(_ x: Double) -> String { String(format: "%.2e", x) }
        print("""
            AdamW \(folder): grad_norm rel \(f(abs(clip1.norm - golden.gradNorm) / golden.gradNorm)), \
            step1 max|Δp| \(f(Double(step1.maxAbs))) (\(String(format: "%.1f", step1.identical * 100))% bit-equal), \
            m max|Δ| \(f(Double(worstM))), v rel L2 \(f(worstV)), \
            step2 max|Δp| \(f(Double(step2.maxAbs))) (\(String(format: "%.1f", step2.identical * 100))%), \
            step2 from torch's step 1 \(f(Double(step2Resumed.maxAbs))) (\(String(format: "%.1f", step2Resumed.identical * 100))%)
            """)
    }
}
