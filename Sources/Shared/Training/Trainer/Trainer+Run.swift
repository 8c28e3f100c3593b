import Foundation

extension Trainer {
    /// Trains to the end (or resumes and then trains to the end), writing everything into the
    /// output directory. A SIGINT/SIGTERM saves a checkpoint and exits with 128 + the signal; a
    /// NaN/Inf loss or gradient saves the last good state as a checkpoint and throws.
    @discardableResult
    public func run() throws -> TrainResults {
        let output = config.output
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try resumeIfAsked()
        let startStep = step
        try EffectiveConfiguration.save(config, in: output)
        let log = try TrainerLog(directory: output, totalSteps: totalSteps, resumedStep: step, tokensAtStart: position.tokensSeen)
        defer { log.close() }
        Interrupts.setHandler { [weak self] signal in self?.interrupt.store(signal, ordering: .relaxed) }
        defer { Interrupts.setHandler(nil) }

        reserveActivations()
        let progress = ProgressReporter("train", total: totalSteps, unit: "steps")
        let started = Date()
        var tokensThisRun = 0
        // A run interrupted while evaluating saved its checkpoint before the evaluation's log
        // line: evaluate now, as the uninterrupted run did after this step.
        if step > 0, evaluationDue, state.logHistory.last(where: { $0.evalLoss != nil })?.step != step {
            if try evaluateAndRecord(log: log) { try saveCheckpoint() }
        }
        while step < totalSteps {
            let micro = try plan.microBatches(ofStep: step).map { indices in
                try TrainingBatch(sequences: indices.map { try train.sequence($0) })
            }
            let targets = micro.reduce(0) { $0 + $1.targetCount }
            adapter.zeroGradients()
            var lossSum = 0.0
            for (index, batch) in micro.enumerated() {
                try stopIfInterrupted()
                let seed = Dropout.mix(UInt64(bitPattern: Int64(config.seed)) ^ UInt64(step) << 20 ^ UInt64(index))
                lossSum += try engine.accumulate(batch, gradientScale: targets > 0 ? 1 / Float(targets) : 0, seed: seed)
            }
            let loss = targets > 0 ? lossSum / Double(targets) : 0
            let (norm, _) = clipGradients(adapter.parameters, maxNorm: config.maxGradNorm)
            guard loss.isFinite, norm.isFinite else {
                let saved = try saveCheckpoint()
                let (what, value) = loss.isFinite ? ("gradient norm", norm) : ("loss", loss)
                throw LFError("the \(what) is \(value.isNaN ? "NaN" : "infinite") at step \(step + 1); training stopped",
                              at: SourceLocation(file: saved),
                              hint: "the adapter before this step is saved there; lower --learning-rate, or check the data")
            }
            let learningRate = schedule.learningRate(atStep: step)
            optimizer.step(learningRate: learningRate)
            adapter.parametersDidChange()
            step += 1
            let tokens = micro.reduce(0) { $0 + $1.rowCount }
            position.tokensSeen += tokens
            tokensThisRun += tokens
            position.lossSum += loss
            position.lossCount += 1
            position.windowLossSum += loss
            position.windowSteps += 1
            let tokensPerSecond = Double(tokensThisRun) / max(Date().timeIntervalSince(started), 1e-9)
            progress.set(step, detail: String(format: "loss %.4f  lr %.2e  %.0f tok/s", loss, learningRate, tokensPerSecond),
                         resumedAt: startStep)

            if step % config.loggingSteps == 0 || step == totalSteps {
                let windowLoss = position.windowLossSum / Double(position.windowSteps)
                let entry = LogEntry.training(step: step, epoch: epoch, loss: windowLoss, gradNorm: norm,
                                              learningRate: learningRate, tokensSeen: position.tokensSeen)
                state.logHistory.append(entry)
                try log.append(entry)
                if !Log.stderrIsTerminal || Log.quiet == false && progress.style != .bar {
                    Log.info(String(format: "step %d/%d  loss %.4f  lr %.3e  grad_norm %.4f  %.0f tokens/s",
                                    step, totalSteps, windowLoss, learningRate, norm, tokensPerSecond))
                }
                position.windowLossSum = 0
                position.windowSteps = 0
            }
            var checkpointDue = step % config.saveSteps == 0 && step < totalSteps
            if evaluationDue, try evaluateAndRecord(log: log) { checkpointDue = true }
            if checkpointDue { try saveCheckpoint() }
        }
        progress.finish()
        return try finish(runtime: Date().timeIntervalSince(started), stepsThisRun: step - startStep, tokensThisRun: tokensThisRun)
    }

    var epoch: Double { plan.epoch(afterSteps: step) }

    /// Sizes the engine's activations for the largest micro-batch this run will see (training
    /// or evaluation), so that they are allocated once, not regrown as longer batches come.
    func reserveActivations() {
        var rows = plan.largestMicroBatch(steps: step..<totalSteps) { train.tokenCount(ofSequence: $0) }
        if let eval {
            for batch in evaluationBatches(of: eval) {
                rows = max(rows, batch.reduce(0) { $0 + eval.tokenCount(ofSequence: $1) })
            }
        }
        engine.reserve(rows: rows)
    }

    /// Whether the step just completed is followed by an evaluation.
    var evaluationDue: Bool { eval != nil && (step % config.evalSteps == 0 || step == totalSteps) }

    /// Evaluates, logs the result, and records it for --save-best; returns whether this step's
    /// adapter is the new best one (its checkpoint must then be saved).
    func evaluateAndRecord(log: TrainerLog) throws -> Bool {
        let entry = try evaluate()
        state.logHistory.append(entry)
        try log.append(entry)
        guard let loss = entry.evalLoss, state.recordEvaluation(loss: loss, step: step), config.saveBest else { return false }
        position.bestEvalLoss = loss
        position.bestCheckpoint = Checkpoints.prefix + "\(step)"
        return true
    }

    /// The mean token loss over the eval shards, as a log entry.
    func evaluate() throws -> LogEntry {
        guard let eval else { throw LFError("no eval data") }
        let started = Date()
        var sum = 0.0, count = 0, batches = 0
        for range in evaluationBatches(of: eval) {
            try stopIfInterrupted()
            let batch = try TrainingBatch(sequences: range.map { try eval.sequence($0) })
            sum += try engine.loss(batch)
            count += batch.targetCount
            batches += 1
        }
        let loss = count > 0 ? sum / Double(count) : .nan
        Log.info(String(format: "step %d: eval loss %.4f, perplexity %.3f (%d tokens)", step, loss, exp(loss), count))
        return .evaluation(step: step, epoch: epoch, loss: loss, runtime: Date().timeIntervalSince(started),
                           samples: eval.sequenceCount, batches: batches)
    }

    /// The eval sequences, a micro-batch at a time, in order.
    func evaluationBatches(of eval: ShardReader) -> [Range<Int>] {
        let size = max(1, config.perDeviceTrainBatchSize)
        return stride(from: 0, to: eval.sequenceCount, by: size).map { $0..<min(eval.sequenceCount, $0 + size) }
    }

    /// On SIGINT/SIGTERM: checkpoint the last completed step and exit with 128 + the signal.
    func stopIfInterrupted() throws {
        let signal = interrupt.load(ordering: .relaxed)
        guard signal != 0 else { return }
        let saved = try saveCheckpoint()
        Log.info("interrupted: saved \(saved); continue with --resume")
        Interrupts.cleanUpAndExit(signal: signal)
    }
}
