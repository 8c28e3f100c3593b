import Foundation

/// The end-of-training metrics, as the HF Trainer returns them from `train()` and LLaMA-Factory
/// saves them: train_results.json, and with the evaluation's, all_results.json.
public struct TrainResults: Sendable, Equatable {
    public var epoch: Double
    /// The mean loss over every step of the run (HF: the total of the logged losses ÷ steps).
    public var trainLoss: Double
    /// Seconds, rounded to 4 decimals.
    public var trainRuntime: Double
    public var trainSamplesPerSecond: Double?
    public var trainStepsPerSecond: Double?
    /// HF writes this with `include_tokens_per_second`; lf always knows the tokens, so always does.
    public var trainTokensPerSecond: Double?
    public var totalFlos: Double

    /// The HF Trainer's metrics for a run of `runtime` seconds that trained `samples` sequences
    /// (HF: `max_steps × total batch`) in `steps` optimiser steps over `tokens` tokens.
    public init(epoch: Double, trainLoss: Double, runtime: Double, samples: Int, steps: Int, tokens: Int?, totalFlos: Double = 0) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.totalFlos = totalFlos
        let speed = SpeedMetrics.values("train", runtime: runtime, samples: samples, steps: steps, tokens: tokens)
        func number(_ key: String) -> Double? {
            if case .double(let d)? = speed[key] { return d }
            return nil
        }
        trainRuntime = number("train_runtime") ?? 0
        trainSamplesPerSecond = number("train_samples_per_second")
        trainStepsPerSecond = number("train_steps_per_second")
        trainTokensPerSecond = number("train_tokens_per_second")
    }

    /// The values under their HF keys.
    public var values: [String: JSONValue] {
        var v: [String: JSONValue] = [
            "epoch": .double(epoch),
            "train_loss": .double(trainLoss),
            "train_runtime": .double(trainRuntime),
            "total_flos": .double(totalFlos),
        ]
        if let trainSamplesPerSecond { v["train_samples_per_second"] = .double(trainSamplesPerSecond) }
        if let trainStepsPerSecond { v["train_steps_per_second"] = .double(trainStepsPerSecond) }
        if let trainTokensPerSecond { v["train_tokens_per_second"] = .double(trainTokensPerSecond) }
        return v
    }
}

/// The final evaluation's metrics: eval_results.json, and merged into all_results.json.
public struct EvalResults: Sendable, Equatable {
    public var epoch: Double
    public var evalLoss: Double
    public var evalRuntime: Double
    public var evalSamplesPerSecond: Double?
    public var evalStepsPerSecond: Double?

    public init(epoch: Double, evalLoss: Double, runtime: Double, samples: Int, batches: Int) {
        let entry = LogEntry.evaluation(step: 0, epoch: epoch, loss: evalLoss, runtime: runtime, samples: samples, batches: batches)
        self.epoch = epoch
        self.evalLoss = evalLoss
        evalRuntime = entry.number("eval_runtime") ?? 0
        evalSamplesPerSecond = entry.number("eval_samples_per_second")
        evalStepsPerSecond = entry.number("eval_steps_per_second")
    }

    /// The metrics of an evaluation's `log_history` entry, as logged (nil if it holds no eval loss).
    public init?(entry: LogEntry) {
        guard let loss = entry.evalLoss else { return nil }
        epoch = entry.epoch ?? 0
        evalLoss = loss
        evalRuntime = entry.number("eval_runtime") ?? 0
        evalSamplesPerSecond = entry.number("eval_samples_per_second")
        evalStepsPerSecond = entry.number("eval_steps_per_second")
    }

    /// exp(eval loss), under LLaMA-Factory's key (its pre-training workflow adds it); `inf` when it
    /// overflows, as there.
    public var perplexity: Double { exp(evalLoss) }

    public var values: [String: JSONValue] {
        var v: [String: JSONValue] = [
            "epoch": .double(epoch),
            "eval_loss": .double(evalLoss),
            "eval_runtime": .double(evalRuntime),
            "perplexity": .double(perplexity),
        ]
        if let evalSamplesPerSecond { v["eval_samples_per_second"] = .double(evalSamplesPerSecond) }
        if let evalStepsPerSecond { v["eval_steps_per_second"] = .double(evalStepsPerSecond) }
        return v
    }
}

/// train_results.json, eval_results.json and all_results.json, as the HF Trainer's `save_metrics`
/// writes them: four-space indentation, sorted keys, no final newline.
public enum ResultsFiles {
    public static let train = "train_results.json"
    public static let eval = "eval_results.json"
    public static let all = "all_results.json"

    /// The text of one results file.
    public static func text(_ values: [String: JSONValue]) -> String {
        PythonFormat.indentedObject(values.map { ($0.key, $0.value) }, indent: 4)
    }

    /// Writes the files into `directory`, each atomically. all_results.json holds the train and
    /// eval values together (the eval `epoch` is the same run's).
    public static func save(train: TrainResults, eval: EvalResults?, in directory: String) throws {
        func write(_ name: String, _ values: [String: JSONValue]) throws {
            try AtomicFile.write(Data(text(values).utf8), to: (directory as NSString).appendingPathComponent(name))
        }
        try write(Self.train, train.values)
        var all = train.values
        if let eval {
            try write(Self.eval, eval.values)
            all.merge(eval.values) { _, evalValue in evalValue }
        }
        try write(Self.all, all)
    }
}
