import ArgumentParser
import Shared

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a GGUF file's metadata and tensor table.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The GGUF file.")
    var file: String

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-gguf inspect", stage: "the GGUF reader", issue: 3)
    }
}
