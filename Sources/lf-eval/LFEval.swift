import ArgumentParser
import Shared

@main
struct LFEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-eval",
        abstract: "Run models: generate completions, chat; (perplexity and BLEU/ROUGE reports come later).",
        discussion: """
            Examples:
              echo "What is the capital of France?" | lf-eval generate -m models/smollm2-135m-instruct
              lf-eval generate -m MODEL --adapter adapter/ --temperature 0.7 --seed 1 < prompts.jsonl > out.jsonl
              lf-eval chat -m models/smollm2-135m-instruct

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string,
        subcommands: [Generate.self, Chat.self])

    static func main() { CommandMain.run(Self.self) }
}

/// Decoding options shared by generate and chat; unset ones take the model's generation_config.json.
struct SamplingArguments: ParsableArguments {
    @Option(help: "Sampling temperature; 0 is greedy (default: the model's generation_config, else greedy).")
    var temperature: Float?
    @Option(help: "Keep the k most likely tokens (0: all).") var topK: Int?
    @Option(help: "Keep the most likely tokens up to this total probability.") var topP: Float?
    @Option(help: "Drop tokens below this share of the top token's probability.") var minP: Float?
    @Option(help: "Penalise tokens already in the text (1: off; 1.1–1.3 is typical).") var repetitionPenalty: Float?
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Option(help: "The most tokens to generate per answer (default: generation_config, else 256).") var maxNewTokens: Int?
    @Option(name: .customLong("stop"), help: "A string that ends the answer (repeatable).") var stopStrings: [String] = []

    func validate() throws {
        if let t = temperature, t < 0 { throw ValidationError("--temperature cannot be negative") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let p = minP, !(p >= 0 && p < 1) { throw ValidationError("--min-p must be in [0, 1)") }
        if let k = topK, k < 0 { throw ValidationError("--top-k cannot be negative") }
        if let r = repetitionPenalty, r <= 0 { throw ValidationError("--repetition-penalty must be positive") }
        if let n = maxNewTokens, n < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
    }

    func options(_ g: GenerationConfig) -> SamplingOptions {
        let sample = g.doSample ?? false
        return SamplingOptions(
            temperature: temperature ?? (sample ? Float(g.temperature ?? 1) : 0),
            topK: topK ?? (sample ? g.topK ?? 0 : 0),
            topP: topP ?? (sample ? Float(g.topP ?? 1) : 1),
            minP: minP ?? 0,
            repetitionPenalty: repetitionPenalty ?? Float(g.repetitionPenalty ?? 1),
            seed: seed)
    }

    func maxTokens(_ g: GenerationConfig) -> Int { maxNewTokens ?? g.maxNewTokens ?? 256 }
}
