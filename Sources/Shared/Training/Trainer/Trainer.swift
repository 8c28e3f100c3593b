import Foundation
import Synchronization

/// An lf-train run: loads the model, data and adapter a configuration names, then trains step by
/// step — micro-batches forward and backward, clip, schedule, optimiser — logging, evaluating and
/// checkpointing as configured, and writes the adapter and reports into the output directory.
public final class Trainer: @unchecked Sendable {
    public let config: TrainingConfiguration
    let model: TransformerModel
    public let adapter: TrainableAdapter
    let engine: TrainingEngine
    let optimizer: any Optimizer
    let schedule: LearningRateSchedule
    let plan: TrainingSchedule
    let train: ShardReader
    let eval: ShardReader?
    public let totalSteps: Int
    /// Completed optimiser steps.
    public internal(set) var step = 0
    var position: CheckpointPosition
    var state: TrainerState
    /// Set by SIGINT/SIGTERM: the run stops at the next micro-batch and checkpoints.
    let interrupt = Atomic<Int32>(0)

    public init(config: TrainingConfiguration) throws {
        self.config = config
        // A new run beside an earlier run's checkpoints would mix the two: rotation counts both,
        // and a later --resume takes the newest, which may be the other run's.
        if config.resume == .no, let newest = Checkpoints.list(in: config.output).last {
            throw LFError("the output directory holds checkpoints of an earlier run (the newest is \((newest.path as NSString).lastPathComponent))",
                          at: SourceLocation(file: config.output),
                          hint: "continue that run with --resume, or start again in another directory (-o) or after removing its checkpoint-N directories",
                          status: .usage)
        }
        train = try ShardReader(directory: config.data)
        eval = try config.evalData.map { try ShardReader(directory: $0) }
        guard train.sequenceCount > 0 else {
            throw LFError("the training shards hold no sequences", at: SourceLocation(file: config.data))
        }
        try config.shards.check(against: train.manifest, shards: config.data)
        let tokenizer = try Tokenizer.load(directory: config.model)
        try train.checkTokenizer(tokenizer, source: config.model)
        try eval?.checkTokenizer(tokenizer, source: config.model)

        model = try TransformerModel.load(directory: config.model, weightType: WeightFormat(config.baseDtype))
        if let adapterDirectory = config.adapter {
            // The adapter's own lora_dropout, unless the run asks for dropout.
            adapter = try TrainableAdapter.load(on: model, directory: adapterDirectory,
                                                dropout: config.loraDropout > 0 ? config.loraDropout : nil)
            // The adapter's modules_to_save decide what trains in full; a different ask is not ignored.
            let own = adapter.config.modulesToSave ?? []
            if !config.additionalTarget.isEmpty, Set(config.additionalTarget) != Set(own) {
                throw LFError("the adapter trains \(own.isEmpty ? "no module" : own.joined(separator: ", ")) in full (its modules_to_save), "
                              + "but --additional-target asks for \(config.additionalTarget.joined(separator: ", "))",
                              at: SourceLocation(file: adapterDirectory),
                              hint: "continuing an adapter keeps its modules_to_save; drop --additional-target, or start a new adapter",
                              status: .usage)
            }
        } else {
            adapter = try TrainableAdapter.create(on: model, .init(
                targets: config.loraTarget, rank: config.loraRank, alpha: config.loraAlpha, dropout: config.loraDropout,
                rslora: config.useRslora, dora: config.useDora, seed: UInt64(bitPattern: Int64(config.seed)),
                modulesToSave: config.additionalTarget))
        }
        engine = TrainingEngine(model: model, checkpointing: config.gradCheckpoint)
        switch config.optim {
        case .adamw:
            optimizer = try AdamW(parameters: adapter.parameters, betas: (config.adamBeta1, config.adamBeta2),
                                  eps: config.adamEpsilon, weightDecay: config.weightDecay)
        case .sgd:
            optimizer = try SGD(parameters: adapter.parameters, weightDecay: config.weightDecay)
        }
        plan = TrainingSchedule(sequenceCount: train.sequenceCount, microBatch: config.perDeviceTrainBatchSize,
                                accumulation: config.gradientAccumulationSteps, seed: UInt64(bitPattern: Int64(config.seed)))
        totalSteps = plan.totalSteps(epochs: config.numTrainEpochs, maxSteps: config.maxSteps)
        let scheduleKind = ScheduleKind(rawValue: config.lrScheduler.rawValue)!
        schedule = try LearningRateSchedule(kind: scheduleKind, baseLearningRate: config.learningRate, totalSteps: totalSteps,
                                            warmup: config.warmupSteps > 0 ? .steps(config.warmupSteps) : .ratio(config.warmupRatio))
        position = CheckpointPosition(step: 0, totalSteps: totalSteps, seed: config.seed, microBatch: plan.microBatch,
                                      accumulation: plan.accumulation, sequenceCount: plan.sequenceCount, tokensSeen: 0,
                                      lossSum: 0, lossCount: 0, windowLossSum: 0, windowSteps: 0)
        state = TrainerState(configuration: config, maxSteps: totalSteps, numTrainEpochs: Int(config.numTrainEpochs.rounded(.up)))
    }

    /// Model, data and adapter in one line, for the log.
    public var summary: String {
        let c = model.config
        return "\(c.architecture.rawValue) model (\(c.layerCount) layers, hidden \(c.hiddenSize)), "
            + "\(adapter.loraModuleCount) LoRA modules"
            + (adapter.fullModules.isEmpty ? "" : " and \(adapter.fullModules.count) trained in full")
            + ", \(adapter.parameterCount) trainable values; "
            + "\(train.sequenceCount) sequences, \(plan.sequencesPerStep) per step, \(totalSteps) steps"
    }
}
