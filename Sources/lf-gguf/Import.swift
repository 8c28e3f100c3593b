import ArgumentParser
import Foundation
import Shared

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a llama-architecture GGUF file into a Hugging Face model directory.",
        discussion: """
            Writes config.json, generation_config.json, model.safetensors, tokenizer.json,
            tokenizer_config.json (with the chat template) and special_tokens_map.json into the
            output directory, which appears only when complete. An existing directory is replaced
            only if it holds nothing but those files (a previous import).

            Every tensor is dequantised exactly as llama.cpp does (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
            Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) and the attention q/k rows are put back in Hugging Face's
            rotary layout. --dtype f32 (the default) keeps every dequantised value exactly; bf16 and
            f16 halve the size and round to nearest even.

            The tokenizer is rebuilt from the GGUF vocabulary: byte-level BPE ("gpt2") with the
            pre-tokenizer tokenizer.ggml.pre names (smollm, llama-bpe, qwen2, gpt-2, default, gpt-4o
            and their aliases), or SentencePiece ("llama") with merges rebuilt from the scores.

            Examples:
              lf-gguf import SmolLM2-135M-Instruct.Q4_1.gguf -o models/smollm2
              lf-gguf import model.gguf -o model-bf16 --dtype bf16 --json

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: "The GGUF file to read.")
    var file: String

    @Option(name: .shortAndLong, help: "The model directory to write.")
    var output: String

    @Option(help: "Weight type in model.safetensors: f32, bf16 or f16.")
    var dtype: String = "f32"

    func validate() throws {
        guard ["f32", "bf16", "f16"].contains(dtype.lowercased()) else {
            throw ValidationError("--dtype must be f32, bf16 or f16, not '\(dtype)'")
        }
    }

    func run() throws {
        common.apply()
        let type = DType(rawValue: dtype.uppercased())!
        let progress = ProgressReporter("import", unit: "tensors")
        let summary = try GGUFImporter.run(gguf: file, output: output, dtype: type, progress: progress)
        if common.json {
            let json: JSONValue = .object([
                ("source", .string(summary.source)),
                ("output", .string(summary.output)),
                ("architecture", .string(summary.architecture)),
                ("tensors", .int(summary.tensors)),
                ("parameters", .int(summary.parameters)),
                ("dtype", .string(summary.dtype.torchName)),
                ("tokenizer", .string(summary.tokenizer)),
                ("pre_tokenizer", summary.preTokenizer.map { .string($0) } ?? .null),
                ("vocab_size", .int(summary.vocabularySize)),
                ("source_tensor_types", .object(summary.tensorTypes.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("seconds", .double((summary.seconds * 1000).rounded() / 1000)),
            ])
            try StandardOutput.write(json.serialized(pretty: false) + "\n")
        }
        let millions = String(format: "%.1fM", Double(summary.parameters) / 1e6)
        Log.info("imported \(summary.tensors) tensors (\(millions) parameters) into \(summary.output) as \(summary.dtype.torchName) in \(String(format: "%.1fs", summary.seconds))")
    }
}
