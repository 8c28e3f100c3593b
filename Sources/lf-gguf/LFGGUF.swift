import ArgumentParser
import Shared

@main
struct LFGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-gguf",
        abstract: "Read GGUF files (llama.cpp, Ollama) and turn them into Hugging Face model directories.",
        discussion: """
            Examples:
              lf-gguf inspect model.gguf                 metadata and tensor table
              lf-gguf inspect --json model.gguf | jq .   the same, for scripts
              lf-gguf import model.gguf -o model-dir/    a Hugging Face model directory

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string,
        subcommands: [Inspect.self, Import.self])

    static func main() { CommandMain.run(Self.self) }
}
