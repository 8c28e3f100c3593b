import Foundation

/// One entry of the HF Trainer's `log_history`: the values logged at a step (`loss`, `grad_norm`,
/// `learning_rate` for training; `eval_loss`, `eval_runtime`… for an evaluation; `train_loss`,
/// `train_runtime`… for the end-of-training summary), plus `epoch` and `step`. trainer_state.json
/// holds the list, and trainer_log.jsonl is written from each entry, as LLaMA-Factory's LogCallback
/// reads `log_history[-1]`.
public struct LogEntry: Sendable, Equatable {
    public var step: Int
    /// Every key but `step` (HF: a `dict[str, float]`, with `num_input_tokens_seen` an integer).
    public var values: [String: JSONValue]

    public init(step: Int, values: [String: JSONValue]) {
        self.step = step
        self.values = values
    }

    /// A training log: the mean loss over the steps since the last log, rounded to 4 decimals as
    /// the HF Trainer does; `grad_norm` before clipping; the learning rate of the step.
    public static func training(step: Int, epoch: Double, loss: Double, gradNorm: Double?, learningRate: Double,
                                tokensSeen: Int? = nil) -> LogEntry {
        var values: [String: JSONValue] = [
            "loss": .double(PythonFormat.round(loss, 4)),
            "learning_rate": .double(learningRate),
            "epoch": .double(epoch),
        ]
        if let gradNorm { values["grad_norm"] = .double(gradNorm) }
        if let tokensSeen { values["num_input_tokens_seen"] = .int(tokensSeen) }
        return LogEntry(step: step, values: values)
    }

    /// An evaluation: the mean loss over the eval shards, and the HF Trainer's speed metrics for
    /// `samples` sequences in `batches` forward passes taking `runtime` seconds.
    public static func evaluation(step: Int, epoch: Double, loss: Double, runtime: Double, samples: Int, batches: Int) -> LogEntry {
        var values = SpeedMetrics.values("eval", runtime: runtime, samples: samples, steps: batches)
        values["eval_loss"] = .double(loss)
        values["epoch"] = .double(epoch)
        return LogEntry(step: step, values: values)
    }

    /// The end-of-training summary the HF Trainer logs last (the values of train_results.json).
    public static func summary(step: Int, results: TrainResults) -> LogEntry {
        LogEntry(step: step, values: results.values)
    }

    /// A number logged under `key` (`loss`, `eval_loss`, `epoch`…).
    public func number(_ key: String) -> Double? {
        switch values[key] {
        case .double(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }

    public var loss: Double? { number("loss") }
    public var evalLoss: Double? { number("eval_loss") }
    public var epoch: Double? { number("epoch") }
    public var learningRate: Double? { number("learning_rate") }
    public var tokensSeen: Int? {
        if case .int(let i) = values["num_input_tokens_seen"] { return i }
        return nil
    }

    /// The entry as trainer_state.json writes it (keys sorted, as `json.dumps(sort_keys=True)`).
    public var json: JSONValue {
        var all = values
        all["step"] = .int(step)
        return .object(all.keys.sorted().map { ($0, all[$0]!) })
    }

    /// Reads an entry of a trainer_state.json's `log_history`.
    public init(json: JSONValue) throws {
        guard case .object(let entries) = json else { throw LFError("a log_history entry is not an object") }
        guard case .int(let step) = json["step"] else { throw LFError("a log_history entry has no integer step") }
        self.step = step
        values = Dictionary(entries.filter { $0.0 != "step" }, uniquingKeysWith: { _, last in last })
    }
}

/// The HF Trainer's `speed_metrics`: runtime rounded to 4 decimals, rates to 3, rates computed from
/// the unrounded runtime and left out when it is 0.
enum SpeedMetrics {
    static func values(_ split: String, runtime: Double, samples: Int?, steps: Int?, tokens: Int? = nil) -> [String: JSONValue] {
        var result: [String: JSONValue] = ["\(split)_runtime": .double(PythonFormat.round(runtime, 4))]
        guard runtime > 0 else { return result }
        if let samples { result["\(split)_samples_per_second"] = .double(PythonFormat.round(Double(samples) / runtime, 3)) }
        if let steps { result["\(split)_steps_per_second"] = .double(PythonFormat.round(Double(steps) / runtime, 3)) }
        if let tokens { result["\(split)_tokens_per_second"] = .double(PythonFormat.round(Double(tokens) / runtime, 3)) }
        return result
    }
}
