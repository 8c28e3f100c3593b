import ArgumentParser
import Shared

@main
struct LFTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-train",
        abstract: "Fine-tune a model with LoRA on the CPU; writes a PEFT adapter.",
        discussion: """
            Trains a LoRA adapter on shards made by `lf-tokenize pack` and writes it, in PEFT's format, into the output directory with trainer_log.jsonl, trainer_state.json, train_results.json, all_results.json, training_loss.svg, training_args.yaml and checkpoint-N directories. Ctrl-C (or SIGTERM) saves a checkpoint and exits; --resume continues from the newest one. A new run (without --resume) refuses an output directory that holds checkpoints.

            Example:
              lf-train --model models/smollm2-135m-instruct --data shards/ -o out/ --lora-target all --max-steps 100

            Settings come from lf's defaults, then the --config YAML file (LLaMA-Factory's keys, shown in brackets below; keys LLaMA-Factory uses that change nothing here are noted, others are errors), then the options given on the command line.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions
    @OptionGroup var options: TrainOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        let (configuration, notes) = try options.configuration()
        for note in notes { Log.info(note) }
        Log.info(EffectiveConfiguration.render(configuration))
        if let threads = configuration.threads { Parallel.limitThreads(threads) }
        // Training owns the cores for its whole run. With the default 0.2 ms, 650–950 of the
        // ~10,900 parallel products of 8 steps of scripts/bench/train.sh's text found the worker
        // asleep, each waking it for ~0.2 ms (0.4% of the time); with 2 ms, ~80.
        SpinPool.shared.spinNanoseconds = 2_000_000
        let trainer = try Trainer(config: configuration)
        Log.info(trainer.summary)
        try trainer.run()
    }
}
