import ArgumentParser
import Shared

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Text (lines or JSONL records) on stdin → token ids on stdout.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize encode", stage: "encoding", issue: 4)
    }
}
