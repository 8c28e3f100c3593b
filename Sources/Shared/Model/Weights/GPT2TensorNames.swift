/// Tensor names of GPT-2 checkpoints. Canonical names are what transformers 5 `save_pretrained`
/// writes: the `transformer.` prefix and no buffers. Hub checkpoints differ: openai-community/gpt2
/// has no prefix (`h.0.attn.c_attn.weight`, `wte.weight`) and stores the causal-mask buffers
/// `h.N.attn.bias` [1, 1, P, P]; DialoGPT keeps the prefix but also stores `h.N.attn.bias` and
/// `h.N.attn.masked_bias`. Conv1D weights are [in, out] (y = x @ W + b), transposed w.r.t. nn.Linear.
public enum GPT2TensorNames: TensorLayout {
    public static let prefix = "transformer."
    /// [V, C]
    public static let tokenEmbedding = "transformer.wte.weight"
    /// [P, C]
    public static let positionEmbedding = "transformer.wpe.weight"
    /// [C]
    public static let finalNormWeight = "transformer.ln_f.weight"
    public static let finalNormBias = "transformer.ln_f.bias"
    /// [V, C], only when the embeddings are untied.
    public static let lmHead = "lm_head.weight"

    /// The names of block `index`.
    public struct Layer: Sendable {
        public let prefix: String
        public init(_ index: Int) { prefix = "transformer.h.\(index)." }

        /// [C]
        public var norm1Weight: String { prefix + "ln_1.weight" }
        public var norm1Bias: String { prefix + "ln_1.bias" }
        /// [C, 3C], columns q | k | v; bias [3C]
        public var attnQKV: String { prefix + "attn.c_attn.weight" }
        public var attnQKVBias: String { prefix + "attn.c_attn.bias" }
        /// [C, C], bias [C]
        public var attnProj: String { prefix + "attn.c_proj.weight" }
        public var attnProjBias: String { prefix + "attn.c_proj.bias" }
        /// [C]
        public var norm2Weight: String { prefix + "ln_2.weight" }
        public var norm2Bias: String { prefix + "ln_2.bias" }
        /// [C, I], bias [I]
        public var fc: String { prefix + "mlp.c_fc.weight" }
        public var fcBias: String { prefix + "mlp.c_fc.bias" }
        /// [I, C], bias [C]
        public var mlpProj: String { prefix + "mlp.c_proj.weight" }
        public var mlpProjBias: String { prefix + "mlp.c_proj.bias" }
    }

    public static func layer(_ index: Int) -> Layer { Layer(index) }

    static func tensorSpecs(_ c: ModelConfig) -> [TensorSpec] {
        let (V, C, I, P) = (c.vocabSize, c.hiddenSize, c.intermediateSize, c.maxPositions)
        var specs = [TensorSpec(tokenEmbedding, [V, C]), TensorSpec(positionEmbedding, [P, C])]
        for i in 0..<c.layerCount {
            let l = layer(i)
            specs.append(TensorSpec(l.norm1Weight, [C]))
            specs.append(TensorSpec(l.norm1Bias, [C]))
            specs.append(TensorSpec(l.attnQKV, [C, 3 * C]))
            specs.append(TensorSpec(l.attnQKVBias, [3 * C]))
            specs.append(TensorSpec(l.attnProj, [C, C]))
            specs.append(TensorSpec(l.attnProjBias, [C]))
            specs.append(TensorSpec(l.norm2Weight, [C]))
            specs.append(TensorSpec(l.norm2Bias, [C]))
            specs.append(TensorSpec(l.fc, [C, I]))
            specs.append(TensorSpec(l.fcBias, [I]))
            specs.append(TensorSpec(l.mlpProj, [I, C]))
            specs.append(TensorSpec(l.mlpProjBias, [C]))
        }
        specs.append(TensorSpec(finalNormWeight, [C]))
        specs.append(TensorSpec(finalNormBias, [C]))
        if !c.tiedEmbeddings { specs.append(TensorSpec(lmHead, [V, C])) }
        return specs
    }

    static func disposition(of stored: String, config: ModelConfig) -> KeyDisposition {
        if stored == lmHead {
            return config.tiedEmbeddings
                ? .ignore(reason: "tied to \(tokenEmbedding) (tie_word_embeddings)")
                : .keep(canonical: lmHead)
        }
        let bare = stored.hasPrefix(prefix) ? String(stored.dropFirst(prefix.count)) : stored
        // h.N.attn.bias / h.N.attn.masked_bias are buffers (the causal mask and its fill value), not
        // parameters; h.N.attn.c_attn.bias is a parameter and has one more component.
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "h", Int(parts[1]) != nil, parts[2] == "attn",
           parts[3] == "bias" || parts[3] == "masked_bias" {
            return .ignore(reason: "attention mask buffer, not a parameter")
        }
        return .keep(canonical: prefix + bare)
    }
}
