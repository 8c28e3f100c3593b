import ArgumentParser
import Shared

@main
struct LFMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-merge",
        abstract: "Merge LoRA adapters into a base model (Hugging Face safetensors layout).",
        discussion: """
            This stage is not implemented yet (planned after training); running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-merge", stage: "adapter merging", issue: nil)
    }
}
