import Foundation

/// Every setting of an lf-train run, after defaults, the `--config` YAML file and the command line
/// have been merged (see `TrainingConfiguration.merged`).
///
/// Defaults are what LLaMA-Factory does when its YAML leaves a key out: its own dataclass defaults
/// where it has them (`lora_rank`, `lora_alpha`, `lora_target`), otherwise the HF
/// `TrainingArguments` defaults it inherits (`learning_rate` 5e-5, `lr_scheduler_type` linear,
/// `num_train_epochs` 3, `seed` 42, `save_steps` 500, the AdamW betas and epsilon). Three are chosen
/// for a CPU instead and say so where they are declared: the micro-batch (1, HF 8), gradient
/// accumulation (8, HF 1; the same effective batch of 8 sequences) and `logging_steps` (10, HF 500;
/// LLaMA-Factory's examples use 10).
///
/// The YAML key of each property is in `TrainingKey`; the command-line flag in lf-train's
/// TrainOptions.
public struct TrainingConfiguration: Sendable, Equatable {
    // MARK: Model and data

    /// `model_name_or_path`: a Hugging Face model directory. Required.
    public var model = ""
    /// `adapter_name_or_path`: a PEFT adapter to continue training from.
    public var adapter: String?
    /// `data`: the training shards (a directory made by `lf-tokenize pack`). Required.
    public var data = ""
    /// `eval_data`: shards to compute the evaluation loss on every `evalSteps`.
    public var evalData: String?
    /// `output_dir`: where the adapter, logs and checkpoints go. Required.
    public var output = ""

    /// Settings that belong to the shards (lf-tokenize decides them); when given, they are checked
    /// against the shards' manifest instead of being acted on (see `ShardExpectations`).
    public var shards = ShardExpectations()

    // MARK: LoRA

    /// `lora_target`: module names to wrap (`q_proj`, `v_proj`…), or `all` for every linear layer
    /// but the output head (LLaMA-Factory's default and meaning).
    public var loraTarget = ["all"]
    /// `lora_rank` (LLaMA-Factory default 8).
    public var loraRank = 8
    /// `lora_alpha`; when neither the YAML nor the command line sets it, twice the rank
    /// (LLaMA-Factory's rule), so 16 for the default rank.
    public var loraAlpha = 16.0
    /// `lora_dropout` on the adapter's input (LLaMA-Factory default 0).
    public var loraDropout = 0.0
    /// `use_rslora`: scale by alpha/√r instead of alpha/r.
    public var useRslora = false
    /// `use_dora`: weight-decomposed LoRA.
    public var useDora = false
    /// `additional_target`: modules trained in full and saved with the adapter (PEFT's
    /// `modules_to_save`, e.g. `embed_tokens`, `lm_head`).
    public var additionalTarget: [String] = []

    // MARK: Optimiser and schedule

    /// `optim` (HF default `adamw_torch`).
    public var optim = Optimizer.adamw
    /// `learning_rate`, the peak rate (HF default 5e-5; LLaMA-Factory's LoRA examples use 1e-4).
    public var learningRate = 5e-5
    /// `adam_beta1`, `adam_beta2`, `adam_epsilon` (HF defaults).
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// `weight_decay`, AdamW's decoupled decay (HF default 0).
    public var weightDecay = 0.0
    /// `max_grad_norm`: clip the global gradient norm to this; 0 turns clipping off (HF default 1).
    public var maxGradNorm = 1.0
    /// `lr_scheduler_type` (HF default linear; LLaMA-Factory's examples use cosine).
    public var lrScheduler = LRScheduler.linear
    /// `warmup_steps`; when above 0 it wins over `warmupRatio`, as in HF.
    public var warmupSteps = 0
    /// `warmup_ratio`: warm up for this share of the total steps (HF default 0).
    public var warmupRatio = 0.0

    // MARK: Length and batches

    /// `num_train_epochs`; fractions are allowed, as in HF (default 3).
    public var numTrainEpochs = 3.0
    /// `max_steps`: optimiser steps to run; -1 takes the count from `numTrainEpochs` (HF default).
    public var maxSteps = -1
    /// `per_device_train_batch_size`: sequences per forward/backward pass (HF 8; lf 1, for a CPU).
    public var perDeviceTrainBatchSize = 1
    /// `gradient_accumulation_steps`: micro-batches summed into one optimiser step (HF 1; lf 8, so
    /// that the effective batch is HF's 8 sequences).
    public var gradientAccumulationSteps = 8
    /// `seed`: LoRA initialisation, data order and dropout (HF default 42).
    public var seed = 42

    // MARK: Memory and compute

    /// `gradient_checkpointing`: recompute activations in the backward pass instead of keeping them.
    public var gradCheckpoint = false
    /// `base_dtype`: how the frozen base weights are held (compute is float32 throughout).
    public var baseDtype = BaseDType.f32
    /// `threads`: worker threads; nil uses every core.
    public var threads: Int?

    // MARK: Logging, evaluation, checkpoints

    /// `logging_steps`: a trainer_log.jsonl line every this many steps (HF 500; lf 10).
    public var loggingSteps = 10
    /// `eval_steps`: evaluate on `evalData` every this many steps; when unset, `loggingSteps` (HF's rule).
    public var evalSteps = 10
    /// `save_steps`: a checkpoint every this many steps (HF default 500).
    public var saveSteps = 500
    /// `save_total_limit`: keep at most this many checkpoints (nil keeps all, as in HF).
    public var saveTotalLimit: Int?
    /// `load_best_model_at_end`: the final adapter is the checkpoint with the lowest eval loss, and
    /// that checkpoint is never deleted by `saveTotalLimit` (HF's meaning; needs `evalData`).
    public var saveBest = false
    /// `resume_from_checkpoint`.
    public var resume = Resume.no

    public init() {}
}

extension TrainingConfiguration {
    /// `optim`. HF's spellings of plain AdamW (`adamw_torch`, `adamw_torch_fused`, `adamw_hf`) read as
    /// `adamw`; the 8-bit, paged and Adafactor variants change the results and are refused.
    public enum Optimizer: String, CaseIterable, Sendable {
        case adamw, sgd

        static let aliases = ["adamw_torch": adamw, "adamw_torch_fused": adamw, "adamw_hf": adamw]
    }

    /// `lr_scheduler_type`, with HF's names and curves.
    public enum LRScheduler: String, CaseIterable, Sendable {
        case constant
        case constantWithWarmup = "constant_with_warmup"
        case linear
        case cosine
    }

    /// `base_dtype`: f32 exact; bf16 half the memory; q8 / q4 block-quantised (QLoRA-style; the
    /// LLaMA-Factory key `quantization_bit: 8|4` picks them too).
    public enum BaseDType: String, CaseIterable, Sendable {
        case f32, bf16, q8, q4
    }

    /// `resume_from_checkpoint`: HF's bool-or-path.
    public enum Resume: Sendable, Equatable {
        /// Start from scratch (a previous trainer_log.jsonl in the output is truncated).
        case no
        /// The newest `checkpoint-N` in the output directory.
        case latest
        /// That checkpoint directory.
        case checkpoint(String)
    }

    /// Settings LLaMA-Factory applies while reading the dataset. In lf they were fixed when the shards
    /// were made (lf-tokenize), so lf-train only checks that the shards agree; nil means "whatever
    /// the shards say".
    public struct ShardExpectations: Sendable, Equatable {
        /// `template`: the chat template's name.
        public var template: String?
        /// `cutoff_len`: the sequence length (the shards' `max_length`).
        public var cutoffLen: Int?
        /// `packing`.
        public var packing: Bool?
        /// `train_on_prompt`: loss on the prompt tokens too.
        public var trainOnPrompt: Bool?
        /// `mask_history`: loss on the last answer only.
        public var maskHistory: Bool?

        public init() {}
    }
}

extension TrainingConfiguration {
    /// The LoRA scale applied to B·A: alpha/r, or alpha/√r with rsLoRA (PEFT's `scaling`).
    public var loraScale: Double {
        useRslora ? loraAlpha / Double(loraRank).squareRoot() : loraAlpha / Double(loraRank)
    }

    /// Sequences per optimiser step on one rank (HF's `train_batch_size × gradient_accumulation_steps`).
    public var sequencesPerStep: Int { perDeviceTrainBatchSize * gradientAccumulationSteps }

    /// Warm-up steps (HF's `get_warmup_steps`): `warmupSteps` when positive, else
    /// ⌈total × warmupRatio⌉.
    public func warmupStepCount(totalSteps: Int) -> Int {
        warmupSteps > 0 ? warmupSteps : Int((Double(totalSteps) * warmupRatio).rounded(.up))
    }
}
