import Foundation

/// A module that an adapter trains or replaces in full beside its LoRA tensors (PEFT's
/// `modules_to_save`, LLaMA-Factory's `additional_target`), by where it sits in lf's model.
public enum FullModule: Hashable, Sendable {
    case tokenEmbedding
    /// GPT-2's learned positions (`wpe`).
    case positionEmbedding
    case lmHead
    case finalNorm
    case attentionNorm(layer: Int)
    case mlpNorm(layer: Int)
    /// Qwen3's per-head norms of q and k.
    case queryNorm(layer: Int)
    case keyNorm(layer: Int)

    /// Norms take no weight decay (the HF Trainer's rule); embeddings and the LM head do.
    public var isNorm: Bool {
        switch self {
        case .tokenEmbedding, .positionEmbedding, .lmHead: false
        default: true
        }
    }
}

/// One float32 tensor of a module trained or replaced in full: the key PEFT saves it under
/// (`base_model.model.model.norm.weight`), its shape, and its values — the model's own memory,
/// which every forward pass reads.
public struct FullModuleTensor: @unchecked Sendable {
    public let key: String
    public let shape: [Int]
    public let value: UnsafeMutablePointer<Float>
    public var count: Int { shape.reduce(1, *) }
}

/// A module replaced in full: its Hugging Face path, its place in lf's model, and its tensors
/// (the weight, then LayerNorm's bias).
public struct ReplacedModule: @unchecked Sendable {
    public let path: String
    public let module: FullModule
    public let tensors: [FullModuleTensor]
}

extension TransformerModel {
    /// What a module of the Hugging Face model is, as far as modules_to_save is concerned.
    enum ModuleRole: Equatable {
        case full(FullModule)
        case linear
        /// A module made of other modules (`model.layers.0.mlp`).
        case container
        /// Activations, dropout, rotary tables: nothing to train.
        case noWeights
    }

    /// Every module path of the Hugging Face model (its `named_modules()`, without the root), with
    /// what it is. PEFT matches modules_to_save against these paths.
    var moduleCatalog: [(path: String, role: ModuleRole)] {
        let c = config
        var out: [(path: String, role: ModuleRole)] = []
        let linears = Set(modules.keys)
        func add(_ path: String, _ role: ModuleRole) { out.append((path, role)) }
        switch c.architecture {
        case .gpt2:
            add("transformer", .container)
            add("transformer.wte", .full(.tokenEmbedding))
            add("transformer.wpe", .full(.positionEmbedding))
            add("transformer.drop", .noWeights)
            add("transformer.h", .container)
            for i in 0..<c.layerCount {
                let p = "transformer.h.\(i)"
                add(p, .container)
                add(p + ".ln_1", .full(.attentionNorm(layer: i)))
                add(p + ".attn", .container)
                add(p + ".attn.attn_dropout", .noWeights)
                add(p + ".attn.resid_dropout", .noWeights)
                add(p + ".ln_2", .full(.mlpNorm(layer: i)))
                add(p + ".mlp", .container)
                add(p + ".mlp.act", .noWeights)
                add(p + ".mlp.dropout", .noWeights)
            }
            add("transformer.ln_f", .full(.finalNorm))
        case .phi3, .llama, .mistral, .qwen2, .qwen3, .gemma:
            add("model", .container)
            add("model.embed_tokens", .full(.tokenEmbedding))
            add("model.layers", .container)
            for i in 0..<c.layerCount {
                let p = "model.layers.\(i)"
                add(p, .container)
                add(p + ".self_attn", .container)
                add(p + ".mlp", .container)
                add(p + ".input_layernorm", .full(.attentionNorm(layer: i)))
                add(p + ".post_attention_layernorm", .full(.mlpNorm(layer: i)))
                if c.architecture == .phi3 {
                    add(p + ".mlp.activation_fn", .noWeights)
                    add(p + ".resid_attn_dropout", .noWeights)
                    add(p + ".resid_mlp_dropout", .noWeights)
                } else {
                    add(p + ".mlp.act_fn", .noWeights)
                }
                if c.qkNorm {
                    add(p + ".self_attn.q_norm", .full(.queryNorm(layer: i)))
                    add(p + ".self_attn.k_norm", .full(.keyNorm(layer: i)))
                }
            }
            add("model.norm", .full(.finalNorm))
            add("model.rotary_emb", .noWeights)
        }
        add("lm_head", .full(.lmHead))
        for path in linears { add(path, .linear) }
        return out.sorted { Self.moduleOrder($0.path, $1.path) }
    }

    /// The modules `names` select, matched as PEFT matches modules_to_save: a module is chosen when
    /// its path ends with one of the names — a plain suffix, so `norm` selects `model.norm` and
    /// every `…_layernorm`, and `layers.1.input_layernorm` selects layer 11's too. In the model's
    /// order, with the names that select nothing (PEFT ignores those; the caller decides).
    /// A name that selects a module lf cannot train in full (a linear layer, a container) is an error.
    func matchModulesToSave(_ names: [String]) throws -> (chosen: [(path: String, module: FullModule)], unmatched: [String]) {
        let catalog = moduleCatalog
        var chosen: [(path: String, module: FullModule)] = []
        var unmatched: [String] = []
        for name in names {
            let hits = catalog.filter { $0.path.hasSuffix(name) }
            if hits.isEmpty { unmatched.append(name) }
            for hit in hits {
                switch hit.role {
                case .full(let module):
                    if !chosen.contains(where: { $0.path == hit.path }) { chosen.append((hit.path, module)) }
                case .linear, .container, .noWeights:
                    let what = hit.role == .linear ? "a linear layer (lf trains those with LoRA: --lora-target)"
                        : hit.role == .container ? "a container of other modules" : "a module without weights"
                    throw LFError.usage("\"\(name)\" selects \(hit.path), \(what); lf trains embeddings, the LM head and norms in full",
                                        hint: fullTrainingHint(catalog))
                }
            }
        }
        return (chosen.sorted { Self.moduleOrder($0.path, $1.path) }, unmatched)
    }

    /// The error for a name that selects no module, with the nearest names that would.
    func unmatchedModuleError(_ name: String) -> LFError {
        let catalog = moduleCatalog
        let candidates = trainableNames(catalog)
        // A name inside a valid one (or around it) is nearest; then the edit distance.
        let distances = candidates.map { ($0, $0.contains(name) || name.contains($0) ? 0 : editDistance(name, $0)) }
        let best = distances.map(\.1).min() ?? 0
        let nearest = distances.filter { $0.1 == best }.map(\.0).prefix(3)
        return LFError.usage("no module of this \(config.architecture.rawValue) model has a name ending in \"\(name)\""
                             + (nearest.isEmpty ? "" : "; nearest: \(nearest.joined(separator: ", "))"),
                             hint: fullTrainingHint(catalog))
    }

    /// The last path components of the modules lf can train in full here, in model order.
    private func trainableNames(_ catalog: [(path: String, role: ModuleRole)]) -> [String] {
        var seen = Set<String>()
        return catalog.compactMap { entry -> String? in
            guard case .full = entry.role, let last = entry.path.split(separator: ".").last.map(String.init) else { return nil }
            return seen.insert(last).inserted ? last : nil
        }
    }

    private func fullTrainingHint(_ catalog: [(path: String, role: ModuleRole)]) -> String {
        "modules this model can train in full: \(trainableNames(catalog).joined(separator: ", ")) "
            + "(a name selects every module whose path ends with it, as PEFT's modules_to_save)"
    }

    /// The tensors of module `m`, as PEFT saves them: ("weight" | "bias", shape).
    func fullModuleShapes(_ m: FullModule) -> [(name: String, shape: [Int])] {
        let c = config
        let (V, C) = (c.vocabSize, c.hiddenSize)
        let normShape = [C]
        let withBias = c.normKind == .layerNorm
        switch m {
        case .tokenEmbedding, .lmHead: return [("weight", [V, C])]
        case .positionEmbedding: return [("weight", [c.maxPositions, C])]
        case .queryNorm, .keyNorm: return [("weight", [c.headDim])]
        case .finalNorm, .attentionNorm, .mlpNorm: return withBias ? [("weight", normShape), ("bias", normShape)] : [("weight", normShape)]
        }
    }

    /// Module `m`'s tensors as float32 memory of its own, which training may update and an adapter
    /// overwrite without changing anything else; `keyPrefix` + "weight" / "bias" names them. The
    /// embedding and the LM head are copied when held in bf16 (or quantised) or when they share
    /// their storage — with tied embeddings PEFT trains a separate copy of the module named and the
    /// other keeps the original. The norms and GPT-2's positions are float32 of their own already.
    func ownTensors(of m: FullModule, path: String, keyPrefix: String) -> ReplacedModule {
        let c = config
        let (V, C) = (c.vocabSize, c.hiddenSize)
        /// A float32 copy of the matrix, or nil when it is float32 of its own already.
        func own(_ matrix: WeightMatrix, shared: Bool) -> UnsafeMutablePointer<Float>? {
            if case .f32 = matrix, !shared { return nil }
            let p = arena.floats(V * C)
            matrix.widenRows(0, V, cols: C, into: p)
            return p
        }
        let values: [UnsafeMutablePointer<Float>]
        switch m {
        case .tokenEmbedding:
            if let copy = own(tokenEmbedding, shared: tokenEmbedding.sharesStorage(with: lmHead.weight)) { tokenEmbedding = .f32(copy) }
            values = [tokenEmbedding.float32!]
        case .lmHead:
            if let copy = own(lmHead.weight, shared: lmHead.weight.sharesStorage(with: tokenEmbedding)) {
                lmHead = Linear(name: lmHead.name, outFeatures: V, inFeatures: C, weight: .f32(copy), bias: lmHead.bias)
            }
            values = [lmHead.weight.float32!]
        case .positionEmbedding: values = [positionEmbedding!]
        case .finalNorm: values = [finalNorm.weight] + (finalNorm.bias.map { [$0] } ?? [])
        case .attentionNorm(let i): values = [blocks[i].attentionNorm.weight] + (blocks[i].attentionNorm.bias.map { [$0] } ?? [])
        case .mlpNorm(let i): values = [blocks[i].mlpNorm.weight] + (blocks[i].mlpNorm.bias.map { [$0] } ?? [])
        case .queryNorm(let i): values = [blocks[i].qNorm!]
        case .keyNorm(let i): values = [blocks[i].kNorm!]
        }
        let tensors = zip(fullModuleShapes(m), values).map { spec, value in
            FullModuleTensor(key: keyPrefix + spec.name, shape: spec.shape, value: value)
        }
        return ReplacedModule(path: path, module: m, tensors: tensors)
    }
}

/// The Levenshtein distance between two strings (for "did you mean" hints).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
