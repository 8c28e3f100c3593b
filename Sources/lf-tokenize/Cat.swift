import ArgumentParser
import Shared

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the sequences of a shard directory as text (or JSON).")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize cat", stage: "shard printing", issue: 4)
    }
}
