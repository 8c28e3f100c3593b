/// What the training engine can do, so that configuration validation refuses a setting the engine
/// would otherwise ignore or get wrong. Whoever adds a feature to the engine turns its flag on here.
public struct TrainingEngineSupport: Sendable, Equatable {
    /// `use_dora`.
    public var dora: Bool
    /// `use_dora` with `lora_dropout` > 0 (PEFT then applies the magnitude to the undropped input,
    /// which needs a second product through the frozen weight).
    public var doraWithDropout: Bool
    /// `additional_target` (modules trained in full beside the adapter).
    public var additionalTarget: Bool
    /// The `base_dtype`s the forward and backward passes can read.
    public var baseDtypes: Set<TrainingConfiguration.BaseDType>

    public init(dora: Bool, doraWithDropout: Bool, additionalTarget: Bool, baseDtypes: Set<TrainingConfiguration.BaseDType>) {
        self.dora = dora
        self.doraWithDropout = doraWithDropout
        self.additionalTarget = additionalTarget
        self.baseDtypes = baseDtypes
    }

    /// The engine as built today.
    public static let current = TrainingEngineSupport(
        dora: true, doraWithDropout: true, additionalTarget: true, baseDtypes: [.f32, .bf16, .q8, .q4])

    /// Everything on (for tests of the configuration alone).
    public static let everything = TrainingEngineSupport(
        dora: true, doraWithDropout: true, additionalTarget: true,
        baseDtypes: Set(TrainingConfiguration.BaseDType.allCases))
}

extension TrainingConfiguration {
    /// Checks every setting and the rules between them. `origins` says where each value came from,
    /// so the error can point at the YAML line or the flag.
    public func validate(origins: [TrainingKey: SettingOrigin] = [:], support: TrainingEngineSupport = .current) throws {
        func fail(_ key: TrainingKey, _ message: String, hint: String? = nil) -> LFError {
            Self.configurationError(message, key: key, origin: origins[key], hint: hint)
        }
        func require(_ condition: Bool, _ key: TrainingKey, _ message: String, hint: String? = nil) throws {
            if !condition { throw fail(key, message, hint: hint) }
        }

        // What to train, on what, where to.
        if model.isEmpty {
            throw LFError("no base model", hint: "give --model DIR (a Hugging Face model directory) or model_name_or_path in the --config file",
                          status: .usage)
        }
        if data.isEmpty {
            throw LFError("no training data", hint: "give --data DIR, shards made by `lf-tokenize pack` (or data: in the --config file; a LLaMA-Factory `dataset:` key is not read)",
                          status: .usage)
        }
        if output.isEmpty {
            throw LFError("no output directory", hint: "give -o DIR (or output_dir in the --config file)", status: .usage)
        }

        // LoRA.
        try require(loraRank > 0, .loraRank, "must be at least 1 (got \(loraRank))")
        try require(loraAlpha > 0 && loraAlpha.isFinite, .loraAlpha, "must be positive (got \(loraAlpha))")
        try require(loraDropout >= 0 && loraDropout < 1, .loraDropout, "must be in [0, 1) (got \(loraDropout))")
        try require(!loraTarget.isEmpty, .loraTarget, "names no module", hint: "use all, or names such as q_proj,v_proj")
        try require(!loraTarget.contains("all") || loraTarget.count == 1, .loraTarget,
                    "'all' already covers every linear layer; give it alone or list modules")
        if useDora {
            try require(support.dora, .useDora, "DoRA is not implemented in lf-train yet", hint: "train plain LoRA (remove use_dora / --use-dora)")
            try require(loraDropout == 0 || support.doraWithDropout, .useDora,
                        "DoRA with lora_dropout > 0 is not implemented in lf-train yet", hint: "set lora_dropout to 0 for DoRA")
        }
        try require(additionalTarget.isEmpty || support.additionalTarget, .additionalTarget,
                    "training whole modules beside the adapter is not implemented in lf-train yet",
                    hint: "remove additional_target / --additional-target")

        // Optimiser and schedule.
        try require(learningRate > 0 && learningRate.isFinite, .learningRate, "must be positive (got \(learningRate))")
        try require(adamBeta1 >= 0 && adamBeta1 < 1, .adamBeta1, "must be in [0, 1) (got \(adamBeta1))")
        try require(adamBeta2 >= 0 && adamBeta2 < 1, .adamBeta2, "must be in [0, 1) (got \(adamBeta2))")
        try require(adamEpsilon > 0 && adamEpsilon.isFinite, .adamEpsilon, "must be positive (got \(adamEpsilon))")
        try require(weightDecay >= 0 && weightDecay.isFinite, .weightDecay, "cannot be negative (got \(weightDecay))")
        try require(maxGradNorm >= 0 && maxGradNorm.isFinite, .maxGradNorm, "cannot be negative (got \(maxGradNorm)); 0 turns clipping off")
        try require(warmupSteps >= 0, .warmupSteps, "cannot be negative (got \(warmupSteps))")
        try require(warmupRatio >= 0 && warmupRatio <= 1, .warmupRatio, "must be in [0, 1] (got \(warmupRatio))")

        // Length and batches.
        try require(maxSteps > 0 || maxSteps == -1, .maxSteps, "must be positive, or -1 to train for num_train_epochs (got \(maxSteps))")
        try require(maxSteps > 0 || (numTrainEpochs > 0 && numTrainEpochs.isFinite), .numTrainEpochs,
                    "must be positive (got \(numTrainEpochs))", hint: "or give max_steps")
        try require(perDeviceTrainBatchSize >= 1, .perDeviceTrainBatchSize, "must be at least 1 (got \(perDeviceTrainBatchSize))")
        try require(gradientAccumulationSteps >= 1, .gradientAccumulationSteps, "must be at least 1 (got \(gradientAccumulationSteps))")
        try require(seed >= 0 && seed <= Int(UInt32.max), .seed, "must be in [0, 2^32) (got \(seed))")

        // Memory and compute.
        try require(support.baseDtypes.contains(baseDtype), .baseDtype,
                    "\(baseDtype.rawValue) base weights are not implemented in lf-train yet",
                    hint: "use one of " + support.baseDtypes.map(\.rawValue).sorted().joined(separator: ", "))
        try require((threads ?? 1) >= 1, .threads, "must be at least 1 (got \(threads ?? 0))")

        // Logging, evaluation, checkpoints.
        try require(loggingSteps >= 1, .loggingSteps, "must be at least 1 (got \(loggingSteps))")
        try require(evalSteps >= 1, .evalSteps, "must be at least 1 (got \(evalSteps))")
        try require(saveSteps >= 1, .saveSteps, "must be at least 1 (got \(saveSteps))")
        try require((saveTotalLimit ?? 1) >= 1, .saveTotalLimit, "must be at least 1 (got \(saveTotalLimit ?? 0)); leave it unset to keep every checkpoint")
        try require(!saveBest || evalData != nil, .saveBest, "the best checkpoint is chosen by eval loss, and no eval_data is given",
                    hint: "give --eval-data DIR (shards made by lf-tokenize pack)")

        // The shards' own settings.
        try require((shards.cutoffLen ?? 1) >= 1, .cutoffLen, "must be at least 1 (got \(shards.cutoffLen ?? 0))")
        try require(!(shards.trainOnPrompt == true && shards.maskHistory == true), .maskHistory,
                    "train_on_prompt (every token) and mask_history (the last answer only) contradict each other")
    }
}
