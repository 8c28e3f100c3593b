import ArgumentParser
import Shared

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Learn a byte-level BPE vocabulary from text files; write tokenizer.json.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize train", stage: "vocabulary training", issue: 4)
    }
}
