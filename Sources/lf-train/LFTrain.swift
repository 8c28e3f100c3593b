import ArgumentParser
import Shared

@main
struct LFTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-train",
        abstract: "Fine-tune a model with LoRA on the CPU; writes a PEFT adapter.",
        discussion: """
            This stage is not implemented yet (issue #6): it reads and checks the settings, prints the effective configuration, then exits with status 1 and says so.

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
        throw notBuiltYet("lf-train", stage: "LoRA training", issue: 6)
    }
}
