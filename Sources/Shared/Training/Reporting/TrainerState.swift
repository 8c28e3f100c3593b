import Foundation

/// trainer_state.json in the HF Trainer's shape (transformers' `TrainerState`, saved with
/// `json.dumps(asdict(state), indent=2, sort_keys=True)`): written into every checkpoint and into
/// the output directory at the end, read back to resume, and read by LLaMA-Factory's `plot_loss`
/// and by anyone's scripts. Fields HF has and lf has no use for (hyper-parameter search, trial
/// names, the process flags) are written with the values a single-process HF run writes.
public struct TrainerState: Sendable, Equatable {
    public static let fileName = "trainer_state.json"

    /// Fractional epochs done (HF: `epoch + step_in_epoch / steps_per_epoch`).
    public var epoch: Double?
    public var globalStep = 0
    public var maxSteps = 0
    public var loggingSteps = 500
    public var evalSteps = 500
    public var saveSteps = 500
    /// Sequences per micro-batch (HF's `train_batch_size` is per device).
    public var trainBatchSize: Int?
    /// HF writes the whole number of epochs the loop will start (⌈num_train_epochs⌉).
    public var numTrainEpochs = 0
    public var numInputTokensSeen = 0
    public var totalFlos = 0.0
    public var logHistory: [LogEntry] = []
    /// The lowest eval loss so far, its step and the checkpoint saved at that step.
    public var bestMetric: Double?
    public var bestGlobalStep: Int?
    public var bestModelCheckpoint: String?
    /// Whether training was stopped (HF's `TrainerControl.should_training_stop`, saved under
    /// `stateful_callbacks`).
    public var trainingStopped = false

    public init() {}

    /// A state for a run of `configuration` that will take `maxSteps` steps.
    public init(configuration c: TrainingConfiguration, maxSteps: Int, numTrainEpochs: Int) {
        self.maxSteps = maxSteps
        self.numTrainEpochs = numTrainEpochs
        loggingSteps = c.loggingSteps
        evalSteps = c.evalSteps
        saveSteps = c.saveSteps
        trainBatchSize = c.perDeviceTrainBatchSize
    }

    /// Records an eval loss; returns whether it is the best so far (HF: `metric_for_best_model`
    /// eval_loss, lower is better). The checkpoint saved at this step becomes
    /// `bestModelCheckpoint` when the caller saves it.
    @discardableResult
    public mutating func recordEvaluation(loss: Double, step: Int) -> Bool {
        guard loss.isFinite, bestMetric.map({ loss < $0 }) ?? true else { return false }
        bestMetric = loss
        bestGlobalStep = step
        return true
    }

    /// Drops log entries after `step` (resuming from the checkpoint saved there).
    public mutating func truncateHistory(after step: Int) {
        logHistory.removeAll { $0.step > step }
    }

    // MARK: JSON

    public var json: JSONValue {
        func optional(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        let control: JSONValue = .object([
            ("args", .object([
                ("should_epoch_stop", .bool(false)),
                ("should_evaluate", .bool(false)),
                ("should_log", .bool(false)),
                ("should_save", .bool(true)),
                ("should_training_stop", .bool(trainingStopped)),
            ])),
            ("attributes", .object([])),
        ])
        let fields: [(String, JSONValue)] = [
            ("best_global_step", bestGlobalStep.map { .int($0) } ?? .null),
            ("best_metric", optional(bestMetric)),
            ("best_model_checkpoint", bestModelCheckpoint.map { .string($0) } ?? .null),
            ("epoch", optional(epoch)),
            ("eval_steps", .int(evalSteps)),
            ("global_step", .int(globalStep)),
            ("is_hyper_param_search", .bool(false)),
            ("is_local_process_zero", .bool(true)),
            ("is_world_process_zero", .bool(true)),
            ("log_history", .array(logHistory.map(\.json))),
            ("logging_steps", .int(loggingSteps)),
            ("max_steps", .int(maxSteps)),
            ("num_input_tokens_seen", .int(numInputTokensSeen)),
            ("num_train_epochs", .int(numTrainEpochs)),
            ("save_steps", .int(saveSteps)),
            ("stateful_callbacks", .object([("TrainerControl", control)])),
            ("total_flos", .double(totalFlos)),
            ("train_batch_size", trainBatchSize.map { .int($0) } ?? .null),
            ("trial_name", .null),
            ("trial_params", .null),
        ]
        return .object(fields)
    }

    /// The file's text: two-space indentation, sorted keys, a final newline (as HF writes it).
    public var serialized: String { json.serialized(pretty: true) }

    /// Writes `trainer_state.json` into `directory`, atomically.
    public func save(in directory: String) throws {
        try AtomicFile.write(Data(serialized.utf8), to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// Reads a trainer_state.json (lf's or the HF Trainer's; unknown fields are ignored).
    public static func load(path: String) throws -> TrainerState {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LFError.io("read", path: path)
        }
        let json: JSONValue
        do {
            // A diverged step's NaN loss is in the log as Python writes it.
            json = try JSONValue(parsing: data, pythonNumbers: true)
        } catch {
            throw LFError("malformed JSON", at: SourceLocation(file: path), hint: "the checkpoint's trainer_state.json is damaged")
        }
        func int(_ key: String) throws -> Int? {
            switch json[key] {
            case nil, .null?: return nil
            case .int(let i)?: return i
            default: throw LFError("\(key) is not an integer", at: SourceLocation(file: path, field: key))
            }
        }
        func number(_ key: String) throws -> Double? {
            switch json[key] {
            case nil, .null?: return nil
            case .int(let i)?: return Double(i)
            case .double(let d)?: return d
            default: throw LFError("\(key) is not a number", at: SourceLocation(file: path, field: key))
            }
        }
        var state = TrainerState()
        state.epoch = try number("epoch")
        state.globalStep = try int("global_step") ?? 0
        state.maxSteps = try int("max_steps") ?? 0
        state.loggingSteps = try int("logging_steps") ?? 500
        state.evalSteps = try int("eval_steps") ?? 500
        state.saveSteps = try int("save_steps") ?? 500
        state.trainBatchSize = try int("train_batch_size")
        state.numTrainEpochs = try int("num_train_epochs") ?? 0
        state.numInputTokensSeen = try int("num_input_tokens_seen") ?? 0
        state.totalFlos = try number("total_flos") ?? 0
        state.bestMetric = try number("best_metric")
        state.bestGlobalStep = try int("best_global_step")
        if case .string(let s)? = json["best_model_checkpoint"] { state.bestModelCheckpoint = s }
        if case .bool(let stopped)? = json["stateful_callbacks"]?["TrainerControl"]?["args"]?["should_training_stop"] {
            state.trainingStopped = stopped
        }
        if case .array(let entries)? = json["log_history"] {
            for (i, entry) in entries.enumerated() {
                do {
                    state.logHistory.append(try LogEntry(json: entry))
                } catch let error as LFError {
                    throw LFError(error.message, at: SourceLocation(file: path, field: "log_history[\(i)]"))
                }
            }
        }
        return state
    }
}
