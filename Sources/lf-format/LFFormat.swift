import ArgumentParser
import Shared

@main
struct LFFormat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-format",
        abstract: "Turn datasets and documents into canonical chat or text JSONL, validated and split.",
        discussion: """
            This stage is not implemented yet (issue #7); running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-format", stage: "dataset formatting", issue: 7)
    }
}
