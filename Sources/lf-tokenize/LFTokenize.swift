import ArgumentParser
import Shared

@main
struct LFTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-tokenize",
        abstract: "Tokenize text and datasets with Hugging Face tokenizers; pack datasets into zstd shards for training.",
        discussion: """
            Examples:
              echo "Hello world" | lf-tokenize encode --tokenizer models/smollm2-135m-instruct
              lf-tokenize pack --tokenizer models/smollm2-135m-instruct --template auto train.jsonl -o shards/
              lf-tokenize stats shards/

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string,
        subcommands: [Encode.self, Decode.self, Count.self, Train.self, Pack.self, Stats.self, Cat.self])

    static func main() { CommandMain.run(Self.self) }
}
