import Foundation
import Testing
@testable import Shared
import TestSupport

@Suite struct TrainerStateTests {
    /// What Python's `json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"` gives for the
    /// state built in `sample()` (generated with Python, as the HF Trainer writes it).
    static let golden = """
        {
          "best_global_step": 20,
          "best_metric": 1.875,
          "best_model_checkpoint": "out/checkpoint-20",
          "epoch": 2.0,
          "eval_steps": 20,
          "global_step": 40,
          "is_hyper_param_search": false,
          "is_local_process_zero": true,
          "is_world_process_zero": true,
          "log_history": [
            {
              "epoch": 0.5,
              "grad_norm": 1.25,
              "learning_rate": 5e-05,
              "loss": 2.3457,
              "num_input_tokens_seen": 5120,
              "step": 10
            },
            {
              "epoch": 1.0,
              "eval_loss": 1.875,
              "eval_runtime": 2.0,
              "eval_samples_per_second": 4.0,
              "eval_steps_per_second": 4.0,
              "step": 20
            }
          ],
          "logging_steps": 10,
          "max_steps": 40,
          "num_input_tokens_seen": 20480,
          "num_train_epochs": 2,
          "save_steps": 20,
          "stateful_callbacks": {
            "TrainerControl": {
              "args": {
                "should_epoch_stop": false,
                "should_evaluate": false,
                "should_log": false,
                "should_save": true,
                "should_training_stop": true
              },
              "attributes": {}
            }
          },
          "total_flos": 0.0,
          "train_batch_size": 1,
          "trial_name": null,
          "trial_params": null
        }

        """

    static func sample() -> TrainerState {
        var c = TrainingConfiguration()
        c.loggingSteps = 10
        c.evalSteps = 20
        c.saveSteps = 20
        var state = TrainerState(configuration: c, maxSteps: 40, numTrainEpochs: 2)
        state.epoch = 2
        state.globalStep = 40
        state.numInputTokensSeen = 20480
        state.logHistory = [
            .training(step: 10, epoch: 0.5, loss: 2.345678, gradNorm: 1.25, learningRate: 5e-05, tokensSeen: 5120),
            .evaluation(step: 20, epoch: 1, loss: 1.875, runtime: 2, samples: 8, batches: 8),
        ]
        let best = state.recordEvaluation(loss: 1.875, step: 20)
        #expect(best)
        state.bestModelCheckpoint = "out/checkpoint-20"
        state.trainingStopped = true
        return state
    }

    @Test func serialisesAsTheHFTrainer() {
        #expect(Self.sample().serialized == Self.golden)
    }

    @Test func saveAndLoadRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = Self.sample()
        try state.save(in: dir.path)
        let path = dir.appendingPathComponent(TrainerState.fileName).path
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.golden)
        #expect(try TrainerState.load(path: path) == state)
    }

    /// A diverged step logs a NaN loss (and Python writes NaN, Infinity bare): such a file reads
    /// back, so the checkpoint can be resumed.
    @Test func nonFiniteValuesRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-state-nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        var state = Self.sample()
        state.bestMetric = .infinity
        state.epoch = -.infinity
        state.logHistory[0].values["loss"] = .double(.nan)
        try state.save(in: dir.path)
        let path = dir.appendingPathComponent(TrainerState.fileName).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("NaN") && text.contains(": Infinity") && text.contains("-Infinity"))
        let back = try TrainerState.load(path: path)
        #expect(back.bestMetric == .infinity && back.epoch == -.infinity)
        guard case .double(let loss)? = back.logHistory[0].values["loss"] else { Issue.record("no loss"); return }
        #expect(loss.isNaN)
        #expect(back.serialized == state.serialized)
        // Elsewhere JSON stays strict.
        #expect(throws: (any Error).self) { _ = try JSONValue(parsing: Data("[NaN]".utf8)) }
    }

    @Test func readsAnHFTrainerFile() throws {
        // The shape transformers 4.5x writes, with a key lf does not know.
        let text = """
            {"best_metric": null, "best_model_checkpoint": null, "epoch": 0.96, "eval_steps": 500, "global_step": 12,
             "is_hyper_param_search": false, "is_local_process_zero": true, "is_world_process_zero": true,
             "log_history": [{"epoch": 0.8, "grad_norm": 0.61, "learning_rate": 9e-05, "loss": 1.6934, "step": 10},
                             {"epoch": 0.96, "step": 12, "total_flos": 1.5e+15, "train_loss": 1.71, "train_runtime": 60.1,
                              "train_samples_per_second": 1.6, "train_steps_per_second": 0.2}],
             "logging_steps": 10, "max_steps": 12, "num_input_tokens_seen": 0, "num_train_epochs": 1, "save_steps": 500,
             "stateful_callbacks": {"TrainerControl": {"args": {"should_training_stop": true}, "attributes": {}}},
             "total_flos": 1.5e+15, "train_batch_size": 2, "trial_name": null, "trial_params": null, "new_field": 1}
            """
        let dir = try Fixtures.temporaryDirectory("lf-trainer-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trainer_state.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let state = try TrainerState.load(path: path)
        #expect(state.globalStep == 12)
        #expect(state.trainBatchSize == 2)
        #expect(state.totalFlos == 1.5e15)
        #expect(state.trainingStopped)
        #expect(state.logHistory.count == 2)
        #expect(state.logHistory[0].loss == 1.6934)
        #expect(state.logHistory[0].number("grad_norm") == 0.61)
        #expect(state.logHistory[1].number("train_loss") == 1.71)
        #expect(LossPlot(history: state.logHistory).train == [LossPlot.Point(step: 10, loss: 1.6934)])
    }

    @Test func badStateFileNamesTheField() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-state")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("trainer_state.json").path
        try #"{"global_step": "ten"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let e = expectLFError { _ = try TrainerState.load(path: path) }
        #expect(e?.location?.field == "global_step")
        try #"{"log_history": [{"loss": 1.0}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(expectLFError { _ = try TrainerState.load(path: path) }?.location?.field == "log_history[0]")
    }

    @Test func bestEvaluationAndResumeTruncation() {
        var state = TrainerState()
        let answers = [(2.0, 10), (2.5, 20), (.nan, 25), (1.5, 30)].map { state.recordEvaluation(loss: $0.0, step: $0.1) }
        #expect(answers == [true, false, false, true])
        #expect(state.bestMetric == 1.5 && state.bestGlobalStep == 30)
        state.logHistory = (1...5).map { .training(step: $0 * 10, epoch: 0, loss: 1, gradNorm: nil, learningRate: 1) }
        state.truncateHistory(after: 30)
        #expect(state.logHistory.map(\.step) == [10, 20, 30])
    }

    @Test func resultsFilesAsHFSaveMetrics() throws {
        // Values and text checked against Python (HF's speed_metrics and json.dump(indent=4, sort_keys=True)).
        let train = TrainResults(epoch: 3, trainLoss: 1.2345678, runtime: 123.456789, samples: 96, steps: 12, tokens: 196_608)
        #expect(train.trainRuntime == 123.4568)
        #expect(train.trainSamplesPerSecond == 0.778)
        #expect(train.trainStepsPerSecond == 0.097)
        #expect(train.trainTokensPerSecond == 1592.525)
        #expect(ResultsFiles.text(train.values) == """
            {
                "epoch": 3.0,
                "total_flos": 0.0,
                "train_loss": 1.2345678,
                "train_runtime": 123.4568,
                "train_samples_per_second": 0.778,
                "train_steps_per_second": 0.097,
                "train_tokens_per_second": 1592.525
            }
            """)

        let eval = EvalResults(epoch: 3, evalLoss: 1.0, runtime: 4, samples: 10, batches: 5)
        #expect(eval.evalSamplesPerSecond == 2.5 && eval.evalStepsPerSecond == 1.25)
        #expect(eval.perplexity == exp(1.0))

        let dir = try Fixtures.temporaryDirectory("lf-results")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ResultsFiles.save(train: train, eval: eval, in: dir.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                == ["all_results.json", "eval_results.json", "train_results.json"])
        let all = try JSONValue(parsing: Data(contentsOf: dir.appendingPathComponent("all_results.json")))
        #expect(all["train_loss"] == .double(1.2345678))
        #expect(all["eval_loss"] == .double(1.0))
        #expect(all["perplexity"] == .double(exp(1.0)))
        #expect(all["epoch"] == .double(3))

        let summary = LogEntry.summary(step: 12, results: train)
        #expect(summary.number("train_runtime") == 123.4568)
        #expect(summary.json["step"] == .int(12))
    }
}
