import Foundation

/// A model's config and its weights, checked against each other: every tensor the config implies is
/// present with the right shape and a floating-point dtype, and nothing is left over (after
/// `normalizeKeys` has mapped checkpoint variants and skipped buffers). Tensors are reached by their
/// canonical Hugging Face names (`TensorSpec.name`), whatever the checkpoint called them; the data
/// stays memory-mapped.
public final class CheckedWeights: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    /// The expected tensors, in layout order.
    public let specs: [TensorSpec]
    /// Checkpoint tensors that were skipped (buffers, a tied lm_head), with the reason.
    public let ignored: [IgnoredTensor]
    /// Canonical name → name in the checkpoint.
    public let storedNames: [String: String]

    /// Reads `directory/config.json` and the directory's safetensors weights, and checks them.
    public static func load(directory: String) throws -> CheckedWeights {
        let config = try ModelConfig.load(directory: directory)
        return try CheckedWeights(weights: try ModelWeights(directory: directory), config: config)
    }

    /// Checks already-opened weights against `config`.
    public init(weights: ModelWeights, config: ModelConfig) throws {
        self.config = config
        self.weights = weights
        let specs = config.tensorSpecs()
        self.specs = specs
        let keys = config.normalizeKeys(weights.names)
        ignored = keys.ignored
        storedNames = keys.storedName
        let arch = config.architecture.rawValue

        func fileOf(_ stored: String) -> String { weights.tensor(stored)?.0.path ?? weights.sourcePath }
        func list(_ names: [String]) -> String {
            names.prefix(6).joined(separator: ", ") + (names.count > 6 ? ", … (\(names.count) in all)" : "")
        }

        if let collision = keys.collisions.first {
            throw LFError("the checkpoint holds \(collision.stored.map { "\"\($0)\"" }.joined(separator: " and ")), "
                          + "which are the same parameter \"\(collision.canonical)\"",
                          at: SourceLocation(file: fileOf(collision.stored[0]), field: collision.stored[0]),
                          hint: "remove one of them; the checkpoint mixes two key layouts")
        }

        let missing = specs.map(\.name).filter { keys.storedName[$0] == nil }
        if !missing.isEmpty {
            var hint = "the weights do not match config.json (num_hidden_layers, attention_bias, model_type?)"
            if missing.contains(where: { $0.hasSuffix("lm_head.weight") }) && !config.tiedEmbeddings {
                hint = "config.json says tie_word_embeddings is false, but the checkpoint has no lm_head.weight; "
                    + "if the model ties its head to the embeddings, set tie_word_embeddings to true"
            }
            throw LFError("\(missing.count) tensor(s) a \(arch) model with this config needs are missing: \(list(missing))",
                          at: SourceLocation(file: weights.sourcePath, field: missing[0]), hint: hint)
        }

        let expected = Set(specs.map(\.name))
        let leftover = keys.storedName.keys.filter { !expected.contains($0) }.sorted()
        if !leftover.isEmpty {
            let stored = leftover.compactMap { keys.storedName[$0] }
            throw LFError("\(leftover.count) tensor(s) in the checkpoint are not part of a \(arch) model with this config: \(list(stored))",
                          at: SourceLocation(file: fileOf(stored[0]), field: stored[0]),
                          hint: "the weights do not match config.json (num_hidden_layers, attention_bias, mlp_bias, tie_word_embeddings, model_type?)")
        }

        var mismatches: [(spec: TensorSpec, stored: String, actual: [Int])] = []
        for spec in specs {
            guard let stored = keys.storedName[spec.name], let (file, tensor) = weights.tensor(stored) else { continue }
            if tensor.shape != spec.shape { mismatches.append((spec, stored, tensor.shape)) }
            switch tensor.dtype {
            case .f32, .f16, .bf16, .f64: break
            default:
                throw LFError("tensor has dtype \(tensor.dtype.rawValue); model weights must be F32, F16 or BF16",
                              at: SourceLocation(file: file.path, field: stored), hint: "the checkpoint is damaged or quantised in a way lf does not read")
            }
        }
        if let first = mismatches.first {
            let more = mismatches.count > 1 ? " (and \(mismatches.count - 1) more mismatched tensor(s))" : ""
            throw LFError("tensor has shape \(first.actual), but the config implies \(first.spec.shape)\(more)",
                          at: SourceLocation(file: fileOf(first.stored), field: first.stored),
                          hint: "the config's sizes (hidden_size, intermediate_size, heads, head_dim, vocab_size) disagree with the weights")
        }
    }

    /// The file and entry of the canonical tensor `name`.
    public func tensor(_ name: String) -> (SafetensorsFile, SafetensorsTensor)? {
        storedNames[name].flatMap { weights.tensor($0) }
    }

    /// The canonical tensor `name` as float32.
    public func floats(_ name: String) throws -> [Float] {
        guard let (file, t) = tensor(name) else {
            throw LFError("the model has no tensor \"\(name)\"", at: SourceLocation(file: weights.sourcePath, field: name))
        }
        return try file.floats(t.name)
    }

    /// Widens the canonical tensor `name` into `destination` (capacity: its element count).
    public func copyFloats(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        guard let (file, t) = tensor(name) else {
            throw LFError("the model has no tensor \"\(name)\"", at: SourceLocation(file: weights.sourcePath, field: name))
        }
        try file.copyFloats(t, into: destination)
    }
}
