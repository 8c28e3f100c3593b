import ArgumentParser
import Shared

@main
struct LFExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-extract",
        abstract: "Extract text from documents (PDF, HTML, DOCX, EPUB, Markdown, text) as JSONL records.",
        discussion: """
            This stage is not implemented yet (issue #8); running it exits with status 1 and says so.

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-extract", stage: "document extraction", issue: 8)
    }
}
