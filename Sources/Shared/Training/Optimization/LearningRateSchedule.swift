import Foundation

/// The learning-rate schedules lf-train offers (`--lr-scheduler`), named as HF's `SchedulerType`.
public enum ScheduleKind: String, CaseIterable, Sendable {
    /// The base rate throughout (HF ignores any warmup for it, and so does lf).
    case constant
    /// Linear warmup from 0, then the base rate.
    case constantWithWarmup = "constant_with_warmup"
    /// Linear warmup from 0, then linear decay to 0 at the last step.
    case linear
    /// Linear warmup from 0, then half a cosine wave down to 0 (num_cycles 0.5).
    case cosine
}

/// The warmup length: a number of optimizer steps, or a fraction of all of them.
public enum Warmup: Sendable, Equatable {
    case steps(Int)
    /// HF's `warmup_ratio`: warmup steps = ceil(ratio × total steps), computed in Double as Python
    /// does (so 0.1 × 30 = 3.0000000000000004 gives 4).
    case ratio(Double)
}

/// HF transformers' `get_scheduler(kind, optimizer, num_warmup_steps, num_training_steps)`: a
/// LambdaLR whose factor at step s multiplies the base learning rate.
///
/// LambdaLR evaluates the factor once when it is built and once after every optimizer step, so the
/// optimizer step with 0-based index s runs at `base × factor(s)`: with a warmup, the very first
/// step runs at rate 0, and a warmup of W steps reaches the full rate at step W. A warmup of 0 gives
/// the full rate (or the start of the decay) at step 0.
public struct LearningRateSchedule: Sendable, Equatable {
    public let kind: ScheduleKind
    public let baseLearningRate: Double
    /// All optimizer steps of the run (`num_training_steps`).
    public let totalSteps: Int
    /// The warmup in steps, once a ratio has been resolved.
    public let warmupSteps: Int

    public init(kind: ScheduleKind, baseLearningRate: Double, totalSteps: Int, warmup: Warmup = .steps(0)) throws {
        guard baseLearningRate.isFinite, baseLearningRate >= 0 else {
            throw LFError.usage("the learning rate must be a finite number ≥ 0, not \(baseLearningRate)")
        }
        guard totalSteps >= 0 else { throw LFError.usage("the number of training steps must be ≥ 0, not \(totalSteps)") }
        switch warmup {
        case .steps(let n):
            guard n >= 0 else { throw LFError.usage("warmup steps must be ≥ 0, not \(n)") }
            warmupSteps = n
        case .ratio(let r):
            // HF TrainingArguments refuses a ratio outside [0, 1].
            guard r.isFinite, (0...1).contains(r) else { throw LFError.usage("the warmup ratio must be in [0, 1], not \(r)") }
            warmupSteps = Int((Double(totalSteps) * r).rounded(.up))
        }
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.totalSteps = totalSteps
    }

    /// The learning rate of the optimizer step with 0-based index `step`.
    public func learningRate(atStep step: Int) -> Double {
        baseLearningRate * factor(atStep: step)
    }

    /// The LambdaLR factor, written as transformers/optimization.py writes each lambda.
    public func factor(atStep step: Int) -> Double {
        let s = Double(step), w = Double(warmupSteps)
        switch kind {
        case .constant:
            return 1
        case .constantWithWarmup:
            if step < warmupSteps { return s / max(1, w) }
            return 1
        case .linear:
            if step < warmupSteps { return s / max(1, w) }
            return max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine:
            if step < warmupSteps { return s / max(1, w) }
            let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            let numCycles = 0.5
            return max(0, 0.5 * (1 + cos(Double.pi * numCycles * 2 * progress)))
        }
    }
}
