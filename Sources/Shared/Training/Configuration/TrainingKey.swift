import Foundation

/// A setting's value as the YAML file or the command line gave it, before it is checked against
/// the setting it is for.
public enum SettingValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case strings([String])
}

/// The shape of value a setting takes (used to read YAML scalars and to describe a type error).
public enum SettingKind: Sendable, Equatable {
    case text, optionalText
    case integer, optionalInteger
    case number
    case flag, optionalFlag
    /// A list, written as a YAML sequence or as LLaMA-Factory's comma-separated string.
    case list
    /// One of these words.
    case choice([String])
    /// `resume_from_checkpoint`: true, false or a path.
    case boolOrPath

    /// "a whole number", "true or false"… for error messages.
    public var expected: String {
        switch self {
        case .text: "a string"
        case .optionalText: "a string or null"
        case .integer: "a whole number"
        case .optionalInteger: "a whole number or null"
        case .number: "a number"
        case .flag: "true or false"
        case .optionalFlag: "true, false or null"
        case .list: "a list of names (or one comma-separated string)"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        case .boolOrPath: "true, false or a checkpoint directory"
        }
    }
}

/// The settings of `TrainingConfiguration`, by their YAML key. Keys are LLaMA-Factory's / HF's
/// spellings where those exist, so that a LLaMA-Factory YAML mostly reads unchanged; the order of
/// the cases is the order of training_args.yaml.
public enum TrainingKey: String, CaseIterable, Sendable {
    // model and data
    case model = "model_name_or_path"
    case adapter = "adapter_name_or_path"
    case data
    case evalData = "eval_data"
    case output = "output_dir"
    case template
    case cutoffLen = "cutoff_len"
    case packing
    case trainOnPrompt = "train_on_prompt"
    case maskHistory = "mask_history"
    // LoRA
    case loraTarget = "lora_target"
    case loraRank = "lora_rank"
    case loraAlpha = "lora_alpha"
    case loraDropout = "lora_dropout"
    case useRslora = "use_rslora"
    case useDora = "use_dora"
    case additionalTarget = "additional_target"
    // optimiser and schedule
    case optim
    case learningRate = "learning_rate"
    case adamBeta1 = "adam_beta1"
    case adamBeta2 = "adam_beta2"
    case adamEpsilon = "adam_epsilon"
    case weightDecay = "weight_decay"
    case maxGradNorm = "max_grad_norm"
    case lrScheduler = "lr_scheduler_type"
    case warmupSteps = "warmup_steps"
    case warmupRatio = "warmup_ratio"
    // length and batches
    case numTrainEpochs = "num_train_epochs"
    case maxSteps = "max_steps"
    case perDeviceTrainBatchSize = "per_device_train_batch_size"
    case gradientAccumulationSteps = "gradient_accumulation_steps"
    case seed
    // memory and compute
    case gradCheckpoint = "gradient_checkpointing"
    case baseDtype = "base_dtype"
    case threads
    // logging, evaluation, checkpoints
    case loggingSteps = "logging_steps"
    case evalSteps = "eval_steps"
    case saveSteps = "save_steps"
    case saveTotalLimit = "save_total_limit"
    case saveBest = "load_best_model_at_end"
    case resume = "resume_from_checkpoint"

    public var yamlName: String { rawValue }

    public var kind: SettingKind {
        switch self {
        case .model, .data, .output: .text
        case .adapter, .evalData, .template: .optionalText
        case .cutoffLen, .threads, .saveTotalLimit: .optionalInteger
        case .packing, .trainOnPrompt, .maskHistory: .optionalFlag
        case .loraTarget, .additionalTarget: .list
        case .loraRank, .warmupSteps, .maxSteps, .perDeviceTrainBatchSize, .gradientAccumulationSteps, .seed,
             .loggingSteps, .evalSteps, .saveSteps:
            .integer
        case .loraAlpha, .loraDropout, .learningRate, .adamBeta1, .adamBeta2, .adamEpsilon, .weightDecay,
             .maxGradNorm, .warmupRatio, .numTrainEpochs:
            .number
        case .useRslora, .useDora, .gradCheckpoint, .saveBest: .flag
        case .optim:
            .choice(TrainingConfiguration.Optimizer.allCases.map(\.rawValue)
                    + TrainingConfiguration.Optimizer.aliases.keys.sorted())
        case .lrScheduler: .choice(TrainingConfiguration.LRScheduler.allCases.map(\.rawValue))
        case .baseDtype: .choice(TrainingConfiguration.BaseDType.allCases.map(\.rawValue))
        case .resume: .boolOrPath
        }
    }

    /// A key's value in `config`, as training_args.yaml writes it.
    public func value(in config: TrainingConfiguration) -> SettingValue {
        func text(_ s: String?) -> SettingValue { s.map { .string($0) } ?? .null }
        func int(_ i: Int?) -> SettingValue { i.map { .int($0) } ?? .null }
        func bool(_ b: Bool?) -> SettingValue { b.map { .bool($0) } ?? .null }
        switch self {
        case .model: return .string(config.model)
        case .adapter: return text(config.adapter)
        case .data: return .string(config.data)
        case .evalData: return text(config.evalData)
        case .output: return .string(config.output)
        case .template: return text(config.shards.template)
        case .cutoffLen: return int(config.shards.cutoffLen)
        case .packing: return bool(config.shards.packing)
        case .trainOnPrompt: return bool(config.shards.trainOnPrompt)
        case .maskHistory: return bool(config.shards.maskHistory)
        case .loraTarget: return .strings(config.loraTarget)
        case .loraRank: return .int(config.loraRank)
        case .loraAlpha: return .double(config.loraAlpha)
        case .loraDropout: return .double(config.loraDropout)
        case .useRslora: return .bool(config.useRslora)
        case .useDora: return .bool(config.useDora)
        case .additionalTarget: return config.additionalTarget.isEmpty ? .null : .strings(config.additionalTarget)
        case .optim: return .string(config.optim.rawValue)
        case .learningRate: return .double(config.learningRate)
        case .adamBeta1: return .double(config.adamBeta1)
        case .adamBeta2: return .double(config.adamBeta2)
        case .adamEpsilon: return .double(config.adamEpsilon)
        case .weightDecay: return .double(config.weightDecay)
        case .maxGradNorm: return .double(config.maxGradNorm)
        case .lrScheduler: return .string(config.lrScheduler.rawValue)
        case .warmupSteps: return .int(config.warmupSteps)
        case .warmupRatio: return .double(config.warmupRatio)
        case .numTrainEpochs: return .double(config.numTrainEpochs)
        case .maxSteps: return .int(config.maxSteps)
        case .perDeviceTrainBatchSize: return .int(config.perDeviceTrainBatchSize)
        case .gradientAccumulationSteps: return .int(config.gradientAccumulationSteps)
        case .seed: return .int(config.seed)
        case .gradCheckpoint: return .bool(config.gradCheckpoint)
        case .baseDtype: return .string(config.baseDtype.rawValue)
        case .threads: return int(config.threads)
        case .loggingSteps: return .int(config.loggingSteps)
        case .evalSteps: return .int(config.evalSteps)
        case .saveSteps: return .int(config.saveSteps)
        case .saveTotalLimit: return int(config.saveTotalLimit)
        case .saveBest: return .bool(config.saveBest)
        case .resume:
            switch config.resume {
            case .no: return .bool(false)
            case .latest: return .bool(true)
            case .checkpoint(let path): return .string(path)
            }
        }
    }

    /// Stores `value` in `config`. Throws a message (no location: the caller knows where the value
    /// came from) when the value does not fit the key.
    public func set(_ value: SettingValue, in config: inout TrainingConfiguration) throws(SettingError) {
        switch self {
        case .model: config.model = try text(value)
        case .adapter: config.adapter = try optionalText(value)
        case .data: config.data = try text(value)
        case .evalData: config.evalData = try optionalText(value)
        case .output: config.output = try text(value)
        case .template: config.shards.template = try optionalText(value)
        case .cutoffLen: config.shards.cutoffLen = try optionalInteger(value)
        case .packing: config.shards.packing = try optionalFlag(value)
        case .trainOnPrompt: config.shards.trainOnPrompt = try optionalFlag(value)
        case .maskHistory: config.shards.maskHistory = try optionalFlag(value)
        case .loraTarget: config.loraTarget = try list(value)
        case .loraRank: config.loraRank = try integer(value)
        case .loraAlpha: config.loraAlpha = try number(value)
        case .loraDropout: config.loraDropout = try number(value)
        case .useRslora: config.useRslora = try flag(value)
        case .useDora: config.useDora = try flag(value)
        case .additionalTarget: config.additionalTarget = try value == .null ? [] : list(value)
        case .optim:
            let word = try text(value)
            guard let optimizer = TrainingConfiguration.Optimizer(rawValue: word)
                    ?? TrainingConfiguration.Optimizer.aliases[word] else { throw badChoice(word) }
            config.optim = optimizer
        case .learningRate: config.learningRate = try number(value)
        case .adamBeta1: config.adamBeta1 = try number(value)
        case .adamBeta2: config.adamBeta2 = try number(value)
        case .adamEpsilon: config.adamEpsilon = try number(value)
        case .weightDecay: config.weightDecay = try number(value)
        case .maxGradNorm: config.maxGradNorm = try number(value)
        case .lrScheduler:
            let word = try text(value)
            guard let scheduler = TrainingConfiguration.LRScheduler(rawValue: word) else { throw badChoice(word) }
            config.lrScheduler = scheduler
        case .warmupSteps: config.warmupSteps = try integer(value)
        case .warmupRatio: config.warmupRatio = try number(value)
        case .numTrainEpochs: config.numTrainEpochs = try number(value)
        case .maxSteps: config.maxSteps = try integer(value)
        case .perDeviceTrainBatchSize: config.perDeviceTrainBatchSize = try integer(value)
        case .gradientAccumulationSteps: config.gradientAccumulationSteps = try integer(value)
        case .seed: config.seed = try integer(value)
        case .gradCheckpoint: config.gradCheckpoint = try flag(value)
        case .baseDtype:
            let word = try text(value).lowercased()
            guard let dtype = TrainingConfiguration.BaseDType(rawValue: word) else { throw badChoice(word) }
            config.baseDtype = dtype
        case .threads: config.threads = try optionalInteger(value)
        case .loggingSteps: config.loggingSteps = try integer(value)
        case .evalSteps: config.evalSteps = try integer(value)
        case .saveSteps: config.saveSteps = try integer(value)
        case .saveTotalLimit: config.saveTotalLimit = try optionalInteger(value)
        case .saveBest: config.saveBest = try flag(value)
        case .resume:
            switch value {
            case .null, .bool(false): config.resume = .no
            case .bool(true): config.resume = .latest
            case .string(let path) where !path.isEmpty: config.resume = .checkpoint(path)
            default: throw mismatch(value)
            }
        }
    }

    // MARK: Typed reads

    private func mismatch(_ value: SettingValue) -> SettingError {
        SettingError("expected \(kind.expected), found \(value.kindDescription)")
    }

    private func badChoice(_ word: String) -> SettingError {
        SettingError("'\(word)' is not \(kind.expected)")
    }

    private func text(_ value: SettingValue) throws(SettingError) -> String {
        guard case .string(let s) = value else { throw mismatch(value) }
        return s
    }

    private func optionalText(_ value: SettingValue) throws(SettingError) -> String? {
        try value == .null ? nil : text(value)
    }

    private func integer(_ value: SettingValue) throws(SettingError) -> Int {
        guard case .int(let i) = value else { throw mismatch(value) }
        return i
    }

    private func optionalInteger(_ value: SettingValue) throws(SettingError) -> Int? {
        try value == .null ? nil : integer(value)
    }

    private func number(_ value: SettingValue) throws(SettingError) -> Double {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw mismatch(value)
        }
    }

    private func flag(_ value: SettingValue) throws(SettingError) -> Bool {
        guard case .bool(let b) = value else { throw mismatch(value) }
        return b
    }

    private func optionalFlag(_ value: SettingValue) throws(SettingError) -> Bool? {
        try value == .null ? nil : flag(value)
    }

    /// A list of module names: a sequence, or LLaMA-Factory's `q_proj,v_proj` string.
    private func list(_ value: SettingValue) throws(SettingError) -> [String] {
        let items: [String]
        switch value {
        case .strings(let list): items = list
        case .string(let s): items = s.split(separator: ",").map(String.init)
        default: throw mismatch(value)
        }
        return items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// Why a value does not fit its setting; the caller adds where the value came from.
public struct SettingError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension SettingValue {
    /// "the string 'eight'", "a number (0.5)", for type errors.
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let i): "the whole number \(i)"
        case .double(let d): "the number \(d)"
        case .string(let s): "the string '\(s)'"
        case .strings: "a list"
        }
    }
}
