import ArgumentParser
import Shared

/// lf-train's settings on the command line. Every option is optional here: a value left out comes
/// from the `--config` YAML file, else from lf's default, so that only what the user typed
/// overrides the file. Each help line names the YAML key (LLaMA-Factory's spelling) in brackets.
///
/// `--model` and `--adapter` are spelled as in ModelOptions, which is not reused because its
/// `--model` is required and here the YAML file may give it.
struct TrainOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML file of settings with LLaMA-Factory's keys; options given here win over it.", valueName: "file"))
    var config: String?

    // MARK: Model and data

    @Option(name: .shortAndLong, help: ArgumentHelp("The base model: a Hugging Face model directory. [model_name_or_path]", valueName: "dir"))
    var model: String?

    @Option(help: ArgumentHelp("A PEFT LoRA adapter to continue training. [adapter_name_or_path]", valueName: "dir"))
    var adapter: String?

    @Option(help: ArgumentHelp("The training shards (made by lf-tokenize pack). [data]", valueName: "dir"))
    var data: String?

    @Option(name: .customLong("eval-data"), help: ArgumentHelp("Shards to compute the eval loss on. [eval_data]", valueName: "dir"))
    var evalData: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Where the adapter, logs and checkpoints go. [output_dir]", valueName: "dir"))
    var output: String?

    // MARK: LoRA

    @Option(name: .customLong("lora-target"), help: ArgumentHelp("Modules to adapt: all, or names such as q_proj,v_proj. [lora_target, default all]", valueName: "names"))
    var loraTarget: String?

    @Option(name: .customLong("lora-rank"), help: "The LoRA rank r. [lora_rank, default 8]")
    var loraRank: Int?

    @Option(name: .customLong("lora-alpha"), help: "The LoRA alpha; the scale is alpha/r. [lora_alpha, default 2 × rank]")
    var loraAlpha: Double?

    @Option(name: .customLong("lora-dropout"), help: "Dropout on the adapter's input, in [0, 1). [lora_dropout, default 0]")
    var loraDropout: Double?

    @Flag(name: .customLong("use-rslora"), inversion: .prefixedNo, help: "Scale by alpha/√r (rank-stabilised LoRA). [use_rslora]")
    var useRslora: Bool?

    @Flag(name: .customLong("use-dora"), inversion: .prefixedNo, help: "Weight-decomposed LoRA. [use_dora]")
    var useDora: Bool?

    @Option(name: .customLong("additional-target"), help: ArgumentHelp(
        "Modules trained in full beside the adapter and saved in it, as PEFT's modules_to_save: embed_tokens, lm_head, norm (every norm: a name selects each module whose path ends with it), input_layernorm, … (GPT-2: wte, wpe, ln_1, ln_2, ln_f). Float32 copies, whatever --base-dtype. [additional_target]",
        valueName: "names"))
    var additionalTarget: String?

    // MARK: Optimiser and schedule

    @Option(help: "adamw or sgd. [optim, default adamw]")
    var optim: String?

    @Option(name: [.customLong("learning-rate"), .customLong("lr")], help: "The peak learning rate. [learning_rate, default 5e-5]")
    var learningRate: Double?

    @Option(name: .customLong("adam-beta1"), help: "[adam_beta1, default 0.9]")
    var adamBeta1: Double?

    @Option(name: .customLong("adam-beta2"), help: "[adam_beta2, default 0.999]")
    var adamBeta2: Double?

    @Option(name: .customLong("adam-epsilon"), help: "[adam_epsilon, default 1e-8]")
    var adamEpsilon: Double?

    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay. [weight_decay, default 0]")
    var weightDecay: Double?

    @Option(name: .customLong("max-grad-norm"), help: "Clip the gradient norm to this; 0 turns clipping off. [max_grad_norm, default 1]")
    var maxGradNorm: Double?

    @Option(name: .customLong("lr-scheduler"), help: "constant, constant_with_warmup, linear or cosine. [lr_scheduler_type, default linear]")
    var lrScheduler: String?

    @Option(name: .customLong("warmup-steps"), help: "Warm-up steps; wins over --warmup-ratio when above 0. [warmup_steps, default 0]")
    var warmupSteps: Int?

    @Option(name: .customLong("warmup-ratio"), help: "Warm up for this share of the steps. [warmup_ratio, default 0]")
    var warmupRatio: Double?

    // MARK: Length and batches

    @Option(help: "Passes over the data; fractions allowed. [num_train_epochs, default 3]")
    var epochs: Double?

    @Option(name: .customLong("max-steps"), help: "Optimiser steps to run; -1 takes them from --epochs. [max_steps, default -1]")
    var maxSteps: Int?

    @Option(name: .customLong("micro-batch"), help: "Sequences per forward/backward pass. [per_device_train_batch_size, default 1]")
    var microBatch: Int?

    @Option(name: .customLong("grad-accum"), help: "Micro-batches per optimiser step. [gradient_accumulation_steps, default 8]")
    var gradAccum: Int?

    @Option(help: "LoRA initialisation, data order and dropout. [seed, default 42]")
    var seed: Int?

    // MARK: Memory and compute

    @Flag(name: .customLong("grad-checkpoint"), inversion: .prefixedNo, help: "Recompute activations in the backward pass to save memory. [gradient_checkpointing]")
    var gradCheckpoint: Bool?

    @Option(name: .customLong("base-dtype"), help: "How the frozen base is held: f32, bf16, q8 or q4. [base_dtype, default f32]")
    var baseDtype: String?

    @Option(help: "Worker threads (default: every core). [threads]")
    var threads: Int?

    // MARK: Logging, evaluation, checkpoints

    @Option(name: .customLong("logging-steps"), help: "A trainer_log.jsonl line every this many steps. [logging_steps, default 10]")
    var loggingSteps: Int?

    @Option(name: .customLong("eval-steps"), help: "Evaluate every this many steps. [eval_steps, default --logging-steps]")
    var evalSteps: Int?

    @Option(name: .customLong("save-steps"), help: "A checkpoint every this many steps. [save_steps, default 500]")
    var saveSteps: Int?

    @Option(name: .customLong("save-total-limit"), help: "Keep at most this many checkpoints (default all). [save_total_limit]")
    var saveTotalLimit: Int?

    @Flag(name: .customLong("save-best"), inversion: .prefixedNo, help: "The final adapter is the checkpoint with the lowest eval loss. [load_best_model_at_end]")
    var saveBest: Bool?

    @Flag(inversion: .prefixedNo, help: "Resume from the newest checkpoint in the output directory. [resume_from_checkpoint: true]")
    var resume: Bool?

    @Option(name: .customLong("resume-from"), help: ArgumentHelp("Resume from this checkpoint. [resume_from_checkpoint: DIR]", valueName: "dir"))
    var resumeFrom: String?

    init() {}

    func validate() throws {
        if resume == false && resumeFrom != nil {
            throw ValidationError("--no-resume and --resume-from contradict each other")
        }
    }

    /// The settings given on the command line, and only those.
    var commandLineLayer: ConfigurationLayer {
        var layer = ConfigurationLayer()
        func put(_ key: TrainingKey, _ flag: String, _ value: SettingValue?) {
            if let value { layer.set(key, value, from: .commandLine(flag)) }
        }
        func list(_ s: String?) -> SettingValue? { s.map { .string($0) } }
        put(.model, "--model", model.map { .string($0) })
        put(.adapter, "--adapter", adapter.map { .string($0) })
        put(.data, "--data", data.map { .string($0) })
        put(.evalData, "--eval-data", evalData.map { .string($0) })
        put(.output, "--output", output.map { .string($0) })
        put(.loraTarget, "--lora-target", list(loraTarget))
        put(.loraRank, "--lora-rank", loraRank.map { .int($0) })
        put(.loraAlpha, "--lora-alpha", loraAlpha.map { .double($0) })
        put(.loraDropout, "--lora-dropout", loraDropout.map { .double($0) })
        put(.useRslora, "--use-rslora", useRslora.map { .bool($0) })
        put(.useDora, "--use-dora", useDora.map { .bool($0) })
        put(.additionalTarget, "--additional-target", list(additionalTarget))
        put(.optim, "--optim", optim.map { .string($0) })
        put(.learningRate, "--learning-rate", learningRate.map { .double($0) })
        put(.adamBeta1, "--adam-beta1", adamBeta1.map { .double($0) })
        put(.adamBeta2, "--adam-beta2", adamBeta2.map { .double($0) })
        put(.adamEpsilon, "--adam-epsilon", adamEpsilon.map { .double($0) })
        put(.weightDecay, "--weight-decay", weightDecay.map { .double($0) })
        put(.maxGradNorm, "--max-grad-norm", maxGradNorm.map { .double($0) })
        put(.lrScheduler, "--lr-scheduler", lrScheduler.map { .string($0) })
        put(.warmupSteps, "--warmup-steps", warmupSteps.map { .int($0) })
        put(.warmupRatio, "--warmup-ratio", warmupRatio.map { .double($0) })
        put(.numTrainEpochs, "--epochs", epochs.map { .double($0) })
        put(.maxSteps, "--max-steps", maxSteps.map { .int($0) })
        put(.perDeviceTrainBatchSize, "--micro-batch", microBatch.map { .int($0) })
        put(.gradientAccumulationSteps, "--grad-accum", gradAccum.map { .int($0) })
        put(.seed, "--seed", seed.map { .int($0) })
        put(.gradCheckpoint, "--grad-checkpoint", gradCheckpoint.map { .bool($0) })
        put(.baseDtype, "--base-dtype", baseDtype.map { .string($0) })
        put(.threads, "--threads", threads.map { .int($0) })
        put(.loggingSteps, "--logging-steps", loggingSteps.map { .int($0) })
        put(.evalSteps, "--eval-steps", evalSteps.map { .int($0) })
        put(.saveSteps, "--save-steps", saveSteps.map { .int($0) })
        put(.saveTotalLimit, "--save-total-limit", saveTotalLimit.map { .int($0) })
        put(.saveBest, "--save-best", saveBest.map { .bool($0) })
        put(.resume, resume == false ? "--no-resume" : "--resume", resume.map { .bool($0) })
        put(.resume, "--resume-from", resumeFrom.map { .string($0) })
        return layer
    }

    /// The merged configuration (defaults < `--config` file < command line), validated, and the
    /// notes about LLaMA-Factory keys in the file that lf-train reads but does not act on.
    func configuration(support: TrainingEngineSupport = .current) throws -> (TrainingConfiguration, notes: [String]) {
        var layers: [ConfigurationLayer] = []
        if let config { layers.append(try YAMLConfiguration.load(path: config)) }
        layers.append(commandLineLayer)
        let merged = try TrainingConfiguration.merged(layers, support: support)
        return (merged, layers.flatMap(\.notes))
    }
}
