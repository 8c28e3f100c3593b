import ArgumentParser
import Shared

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Canonical dataset JSONL → chat template → packed zstd shards with loss masks.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        throw notBuiltYet("lf-tokenize pack", stage: "packing", issue: 4)
    }
}
