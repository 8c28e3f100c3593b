/// One tensor a model expects: its Hugging Face name and shape.
public struct TensorSpec: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var shape: [Int]

    public init(_ name: String, _ shape: [Int]) {
        self.name = name
        self.shape = shape
    }

    public var description: String { "\(name) \(shape)" }
}

/// What a checkpoint's tensor name means for the model.
public enum KeyDisposition: Equatable, Sendable {
    /// The tensor is the model's `canonical` tensor (the name transformers 5 `save_pretrained` writes).
    case keep(canonical: String)
    /// The tensor is not a parameter (a buffer, a tied copy) and is skipped.
    case ignore(reason: String)
}

/// A checkpoint tensor that loading skipped, and why.
public struct IgnoredTensor: Equatable, Sendable {
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// The result of mapping a checkpoint's names onto the model's canonical names.
public struct NormalizedKeys: Sendable {
    /// Canonical name → name in the checkpoint.
    public var storedName: [String: String] = [:]
    /// Checkpoint tensors that are not parameters.
    public var ignored: [IgnoredTensor] = []
    /// Canonical names claimed by more than one checkpoint name (e.g. both `wte.weight` and
    /// `transformer.wte.weight`), each with the names that claim it.
    public var collisions: [KeyCollision] = []
}

/// Several checkpoint names that mean the same parameter.
public struct KeyCollision: Equatable, Sendable {
    public var canonical: String
    public var stored: [String]

    public init(canonical: String, stored: [String]) {
        self.canonical = canonical
        self.stored = stored
    }
}

/// The tensor names of one family of checkpoints, declared in one place (one file per naming scheme).
protocol TensorLayout {
    /// Every parameter a model with `config` has, in a fixed order (embeddings, layers, final norm,
    /// head), with its shape.
    static func tensorSpecs(_ config: ModelConfig) -> [TensorSpec]
    /// What a checkpoint name means: the canonical name it stands for, or why it is skipped.
    static func disposition(of stored: String, config: ModelConfig) -> KeyDisposition
}

extension Architecture {
    var layout: any TensorLayout.Type {
        switch self {
        case .llama, .mistral, .qwen2, .qwen3, .gemma: LlamaTensorNames.self
        case .phi3: Phi3TensorNames.self
        case .gpt2: GPT2TensorNames.self
        }
    }
}

extension ModelConfig {
    /// The Hugging Face tensors (names and shapes) a checkpoint of this model holds, derived from the
    /// config. A tied model has no `lm_head.weight`.
    public func tensorSpecs() -> [TensorSpec] {
        architecture.layout.tensorSpecs(self)
    }

    /// Maps checkpoint names onto canonical names, handling the variants real checkpoints have
    /// (GPT-2 without the `transformer.` prefix, causal-mask buffers, a tied `lm_head.weight` stored
    /// anyway, old RoPE `inv_freq` buffers).
    public func normalizeKeys(_ names: [String]) -> NormalizedKeys {
        let layout = architecture.layout
        var result = NormalizedKeys()
        var claims: [String: [String]] = [:]
        for name in names.sorted() {
            switch layout.disposition(of: name, config: self) {
            case .keep(let canonical):
                claims[canonical, default: []].append(name)
            case .ignore(let reason):
                result.ignored.append(IgnoredTensor(name: name, reason: reason))
            }
        }
        for (canonical, stored) in claims.sorted(by: { $0.key < $1.key }) {
            if stored.count > 1 {
                result.collisions.append(KeyCollision(canonical: canonical, stored: stored))
            }
            result.storedName[canonical] = stored[0]
        }
        return result
    }
}
