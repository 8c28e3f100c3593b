import ArgumentParser
import Shared

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Turn a GGUF file into a Hugging Face model directory.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The GGUF file.")
    var file: String

    @Option(name: .shortAndLong, help: "The output directory.")
    var output: String

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-gguf import", stage: "GGUF import", issue: 3)
    }
}
