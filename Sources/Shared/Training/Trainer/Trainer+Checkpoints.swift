import Foundation

extension Trainer {
    /// Writes `checkpoint-<step>` (built under a temporary name and renamed into place) and
    /// applies `--save-total-limit`. Returns its path.
    @discardableResult
    func saveCheckpoint() throws -> String {
        let name = Checkpoints.prefix + "\(step)"
        let path = (config.output as NSString).appendingPathComponent(name)
        position.step = step
        try AtomicDirectory.checkReplaceable(path, expected: [
            "adapter_config.json", "adapter_model.safetensors", Checkpoints.optimizerFile, TrainerState.fileName,
            CheckpointPosition.fileName, EffectiveConfiguration.fileName,
        ])
        let directory = try AtomicDirectory(path: path)
        try adapter.save(to: directory.temporaryPath)
        try optimizer.saveState(to: directory.file(Checkpoints.optimizerFile))
        var checkpointState = state
        checkpointState.globalStep = step
        checkpointState.epoch = epoch
        checkpointState.numInputTokensSeen = position.tokensSeen
        checkpointState.bestModelCheckpoint = position.bestCheckpoint.map { (config.output as NSString).appendingPathComponent($0) }
        try checkpointState.save(in: directory.temporaryPath)
        try EffectiveConfiguration.save(config, in: directory.temporaryPath)
        try AtomicFile.write(Checkpoints.positionJSON(position), to: directory.file(CheckpointPosition.fileName))
        try directory.commit()
        try rotateCheckpoints()
        return path
    }

    /// Deletes the oldest checkpoints beyond `--save-total-limit`, never the best one. As in the HF
    /// Trainer, the best counts towards the limit, except that a limit of 1 keeps the newest
    /// checkpoint beside an older best one, so that the run can still be resumed where it stopped.
    func rotateCheckpoints() throws {
        guard let limit = config.saveTotalLimit, limit > 0 else { return }
        var all = Checkpoints.list(in: config.output)
        let best = position.bestCheckpoint.map { (config.output as NSString).appendingPathComponent($0) }
        var keep = limit
        if let best, all.contains(where: { $0.path == best }) {
            all.removeAll { $0.path == best }
            keep = max(limit - 1, 1)
        }
        for old in all.dropLast(keep) {
            try FileManager.default.removeItem(atPath: old.path)
        }
    }

    /// `--resume`: restores the adapter, optimiser state, step and log history of a checkpoint.
    func resumeIfAsked() throws {
        let path: String
        switch config.resume {
        case .no:
            return
        case .latest:
            guard let last = Checkpoints.list(in: config.output).last else {
                Log.info("no checkpoint in \(config.output) to resume from; starting from step 0")
                return
            }
            path = last.path
        case .checkpoint(let p):
            path = p
        }
        let saved = try Checkpoints.readPosition(path)
        func mismatch(_ what: String, _ then: Int, _ now: Int) -> LFError {
            LFError("the checkpoint was made with \(what) \(then), this run has \(now)", at: SourceLocation(file: path),
                    hint: "resume with the settings of the original run (see its \(EffectiveConfiguration.fileName))", status: .usage)
        }
        if saved.seed != config.seed { throw mismatch("seed", saved.seed, config.seed) }
        if saved.microBatch != plan.microBatch { throw mismatch("micro-batch", saved.microBatch, plan.microBatch) }
        if saved.accumulation != plan.accumulation { throw mismatch("gradient accumulation", saved.accumulation, plan.accumulation) }
        if saved.sequenceCount != plan.sequenceCount { throw mismatch("a training set of sequences", saved.sequenceCount, plan.sequenceCount) }
        if saved.totalSteps != totalSteps { throw mismatch("total steps", saved.totalSteps, totalSteps) }
        try adapter.loadValues(from: (path as NSString).appendingPathComponent("adapter_model.safetensors"))
        try optimizer.loadState(from: (path as NSString).appendingPathComponent(Checkpoints.optimizerFile))
        let savedState = try TrainerState.load(path: (path as NSString).appendingPathComponent(TrainerState.fileName))
        state.logHistory = savedState.logHistory
        state.bestMetric = savedState.bestMetric
        state.bestGlobalStep = savedState.bestGlobalStep
        position = saved
        step = saved.step
        Log.info("resuming from \(path) at step \(step)/\(totalSteps)")
    }

    /// Saves the final adapter (the best checkpoint's with --save-best), trainer_state.json, the
    /// results files and the loss plot.
    func finish(runtime: Double, stepsThisRun: Int, tokensThisRun: Int) throws -> TrainResults {
        let output = config.output
        if config.saveBest, let best = position.bestCheckpoint {
            try adapter.loadValues(from: ((output as NSString).appendingPathComponent(best) as NSString)
                .appendingPathComponent("adapter_model.safetensors"))
            Log.info("the adapter is the best checkpoint's, \(best) (eval loss \(position.bestEvalLoss.map { String(format: "%.4f", $0) } ?? "?"))")
        }
        try adapter.save(to: output)
        let trainLoss = position.lossCount > 0 ? position.lossSum / Double(position.lossCount) : 0
        let results = TrainResults(epoch: epoch, trainLoss: trainLoss, runtime: runtime,
                                   samples: stepsThisRun * plan.sequencesPerStep, steps: stepsThisRun, tokens: tokensThisRun)
        state.globalStep = step
        state.epoch = epoch
        state.numInputTokensSeen = position.tokensSeen
        state.bestModelCheckpoint = position.bestCheckpoint.map { (output as NSString).appendingPathComponent($0) }
        state.logHistory.append(.summary(step: step, results: results))
        try state.save(in: output)
        // The evaluation of the adapter saved: with --save-best the best one's, else the last.
        let evaluations = state.logHistory.filter { $0.evalLoss != nil }
        let saved = config.saveBest && position.bestCheckpoint != nil
            ? evaluations.last { $0.step == state.bestGlobalStep } : evaluations.last
        let evalResults = saved.flatMap { EvalResults(entry: $0) }
        try ResultsFiles.save(train: results, eval: evalResults, in: output)
        try LossPlot(history: state.logHistory).save(in: output)
        let peak = peakResidentBytes().map { String(format: "%.2f GiB", Double($0) / 1_073_741_824) } ?? "unknown"
        Log.info(String(format: "trained %d steps in %@ (%.0f tokens/s); train loss %.4f; peak memory %@; adapter in %@",
                        stepsThisRun, ProgressReporter.duration(runtime), Double(tokensThisRun) / max(runtime, 1e-9), trainLoss, peak, output))
        return results
    }
}
