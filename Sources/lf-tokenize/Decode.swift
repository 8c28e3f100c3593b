import ArgumentParser
import Shared

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Token ids on stdin → text on stdout.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize decode", stage: "decoding", issue: 4)
    }
}
