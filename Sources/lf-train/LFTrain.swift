import ArgumentParser
import Shared

@main
struct LFTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-train",
        abstract: "Fine-tune a model with LoRA on the CPU; writes a PEFT adapter.",
        discussion: """
            This stage is not implemented yet (issue #6); running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-train", stage: "LoRA training", issue: 6)
    }
}
