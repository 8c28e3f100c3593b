import ArgumentParser
import Shared

@main
struct LFTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-tokenize",
        abstract: "Tokenize datasets with a chat template into packed zstd shards.",
        discussion: """
            This stage is not implemented yet (issue #4); running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize", stage: "tokenization and packing", issue: 4)
    }
}
