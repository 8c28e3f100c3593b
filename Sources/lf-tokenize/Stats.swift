import ArgumentParser
import Shared

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Summarise a shard directory.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize stats", stage: "shard statistics", issue: 4)
    }
}
