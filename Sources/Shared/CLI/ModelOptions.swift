import ArgumentParser

/// `--model`, `--adapter`, `--dtype`: the options of every tool that runs a model.
public struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A Hugging Face model directory (config.json, *.safetensors, tokenizer.json).")
    public var model: String

    @Option(help: "A PEFT LoRA adapter directory to apply on the fly.")
    public var adapter: String?

    @Option(help: "How the weights are held in memory: f32 (exact) or bf16 (half the memory, faster decoding).")
    public var dtype: String = "f32"

    public init() {}

    public func validate() throws {
        guard ["f32", "bf16"].contains(dtype.lowercased()) else {
            throw ValidationError("--dtype must be f32 or bf16, not '\(dtype)'")
        }
    }

    public var weightType: DType { dtype.lowercased() == "bf16" ? .bf16 : .f32 }
}
