import ArgumentParser
import Shared

struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tokens per record and in total.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize count", stage: "token counting", issue: 4)
    }
}
