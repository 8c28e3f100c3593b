import Foundation
import Testing
@testable import Shared
import TestSupport

/// LoRA on the real default model: a few dozen steps on samples/instructions.jsonl (questions
/// about lf that SmolLM2 cannot know) lower the loss on held-out questions, and the saved adapter,
/// attached as lf-eval attaches one, changes the greedy answers.
@Suite(.enabled(if: DefaultModel.shouldTest, "the default model is not fetched (scripts/fetch-model.sh)"))
struct SmolLM2TrainingTests {
    @Test func aFewDozenStepsLowerTheEvalLossAndChangeTheGreedyAnswers() throws {
        let started = Date()
        let root = try Fixtures.temporaryDirectory("lf-smollm2-train")
        defer { try? FileManager.default.removeItem(at: root) }
        let shards = try TrainingData.pack(model: DefaultModel.directory, into: root.appendingPathComponent("shards"))
        let output = root.appendingPathComponent("out")
        var config = TrainingConfiguration()
        config.model = DefaultModel.directory
        config.data = shards.train
        config.evalData = shards.eval
        config.output = output.path
        config.loraTarget = ["all"]
        config.loraRank = 8
        config.loraAlpha = 16
        config.learningRate = 1e-3
        config.lrScheduler = .cosine
        config.warmupSteps = 2
        config.maxSteps = 30
        config.perDeviceTrainBatchSize = 1
        config.gradientAccumulationSteps = 2
        config.loggingSteps = 5
        config.evalSteps = 15
        config.saveSteps = 1000

        let before: Double, evals: [Double]
        do {
            let trainer = try Trainer(config: config)
            before = try #require(try trainer.evaluate().evalLoss)
            try trainer.run()
            let log = try String(contentsOf: output.appendingPathComponent("trainer_log.jsonl"), encoding: .utf8)
            evals = log.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["eval_loss"] as? Double
            }
        }
        let trained = Date()
        #expect(evals.count == 2)
        let after = try #require(evals.last)
        #expect(after < before - 0.3, "eval loss \(before) before training, \(evals) at steps 15 and 30")

        // Greedy answers to the held-out questions, from the base model and with the adapter.
        let setup = try GenerationSetup(model: DefaultModel.directory, adapter: nil, weightType: .f32, template: "auto")
        let questions = try TrainingData.records().eval.map { [$0[0]] }
        func answers() throws -> [String] {
            let generator = setup.generator()
            return try questions.map { try generator.generate(prompt: setup.promptIDs($0), maxNewTokens: 8, sampling: SamplingOptions()).text }
        }
        let base = try answers()
        try setup.model.attachAdapter(directory: output.path)
        let tuned = try answers()
        let changed = zip(base, tuned).filter { $0 != $1 }.count
        #expect(changed >= 1, "the adapter changed no greedy answer: \(tuned)")
        let finished = Date()
        print(String(format: "SmolLM2 LoRA: eval loss %.4f → %@; %d of %d greedy answers changed; training %.0f s, generation %.0f s",
                     before, evals.map { String(format: "%.4f", $0) }.joined(separator: " → "), changed, questions.count,
                     trained.timeIntervalSince(started), finished.timeIntervalSince(trained)))
        for (question, (b, t)) in zip(questions, zip(base, tuned)) {
            print("Q: \(question[0].content)\n  base:  \(b)\n  tuned: \(t)")
        }
    }
}
