import ArgumentParser

/// `--model`, `--adapter`, `--dtype`: the options of every tool that runs a model.
public struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A Hugging Face model directory (config.json, *.safetensors, tokenizer.json).")
    public var model: String

    @Option(help: "A PEFT LoRA adapter directory to apply on the fly.")
    public var adapter: String?

    @Option(help: """
        How the weights are held in memory: f32 (exact), bf16 (half the memory, faster decoding), \
        q8 or q4 (blocks of 32 quantised to 8 or 4 bits; embedding and LM head bf16).
        """)
    public var dtype: String = "f32"

    public init() {}

    public func validate() throws {
        guard WeightFormat(rawValue: dtype.lowercased()) != nil else {
            throw ValidationError("--dtype must be f32, bf16, q8 or q4, not '\(dtype)'")
        }
    }

    public var weightType: WeightFormat { WeightFormat(rawValue: dtype.lowercased()) ?? .f32 }
}
