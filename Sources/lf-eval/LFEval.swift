import ArgumentParser
import Shared

@main
struct LFEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-eval",
        abstract: "Evaluate models: perplexity, generation, BLEU/ROUGE.",
        discussion: """
            Generation (issue #5) and metrics are not implemented yet; running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-eval", stage: "evaluation", issue: 5)
    }
}
