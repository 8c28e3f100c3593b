/// Tensor names of the Llama-style checkpoints: llama, mistral, qwen2, qwen3 and gemma share the
/// transformers module tree (`model.layers.N.self_attn.q_proj`, `mlp.gate_proj`, …); the config
/// decides which optional tensors exist (q/k/v/o biases, MLP biases, Qwen3's q_norm/k_norm,
/// lm_head when untied). nn.Linear weights are [out, in].
public enum LlamaTensorNames: TensorLayout {
    /// [V, C]
    public static let embedTokens = "model.embed_tokens.weight"
    /// [C]
    public static let finalNorm = "model.norm.weight"
    /// [V, C], only when the embeddings are untied.
    public static let lmHead = "lm_head.weight"

    /// The names of decoder layer `index`.
    public struct Layer: Sendable {
        public let prefix: String
        public init(_ index: Int) { prefix = "model.layers.\(index)." }

        /// [C]
        public var inputNorm: String { prefix + "input_layernorm.weight" }
        /// [H·hd, C], bias [H·hd]
        public var qProj: String { prefix + "self_attn.q_proj.weight" }
        public var qBias: String { prefix + "self_attn.q_proj.bias" }
        /// [KV·hd, C], bias [KV·hd]
        public var kProj: String { prefix + "self_attn.k_proj.weight" }
        public var kBias: String { prefix + "self_attn.k_proj.bias" }
        /// [KV·hd, C], bias [KV·hd]
        public var vProj: String { prefix + "self_attn.v_proj.weight" }
        public var vBias: String { prefix + "self_attn.v_proj.bias" }
        /// [C, H·hd], bias [C]
        public var oProj: String { prefix + "self_attn.o_proj.weight" }
        public var oBias: String { prefix + "self_attn.o_proj.bias" }
        /// [hd] (Qwen3)
        public var qNorm: String { prefix + "self_attn.q_norm.weight" }
        public var kNorm: String { prefix + "self_attn.k_norm.weight" }
        /// [C]
        public var postAttentionNorm: String { prefix + "post_attention_layernorm.weight" }
        /// [I, C], bias [I]
        public var gateProj: String { prefix + "mlp.gate_proj.weight" }
        public var gateBias: String { prefix + "mlp.gate_proj.bias" }
        /// [I, C], bias [I]
        public var upProj: String { prefix + "mlp.up_proj.weight" }
        public var upBias: String { prefix + "mlp.up_proj.bias" }
        /// [C, I], bias [C]
        public var downProj: String { prefix + "mlp.down_proj.weight" }
        public var downBias: String { prefix + "mlp.down_proj.bias" }
    }

    public static func layer(_ index: Int) -> Layer { Layer(index) }

    static func tensorSpecs(_ c: ModelConfig) -> [TensorSpec] {
        let (V, C, I, hd) = (c.vocabSize, c.hiddenSize, c.intermediateSize, c.headDim)
        let (Q, KV) = (c.queryWidth, c.kvWidth)
        var specs = [TensorSpec(embedTokens, [V, C])]
        for i in 0..<c.layerCount {
            let l = layer(i)
            specs.append(TensorSpec(l.inputNorm, [C]))
            specs.append(TensorSpec(l.qProj, [Q, C]))
            specs.append(TensorSpec(l.kProj, [KV, C]))
            specs.append(TensorSpec(l.vProj, [KV, C]))
            if c.qkvBias {
                specs.append(TensorSpec(l.qBias, [Q]))
                specs.append(TensorSpec(l.kBias, [KV]))
                specs.append(TensorSpec(l.vBias, [KV]))
            }
            specs.append(TensorSpec(l.oProj, [C, Q]))
            if c.outputBias { specs.append(TensorSpec(l.oBias, [C])) }
            if c.qkNorm {
                specs.append(TensorSpec(l.qNorm, [hd]))
                specs.append(TensorSpec(l.kNorm, [hd]))
            }
            specs.append(TensorSpec(l.postAttentionNorm, [C]))
            specs.append(TensorSpec(l.gateProj, [I, C]))
            specs.append(TensorSpec(l.upProj, [I, C]))
            specs.append(TensorSpec(l.downProj, [C, I]))
            if c.mlpBias {
                specs.append(TensorSpec(l.gateBias, [I]))
                specs.append(TensorSpec(l.upBias, [I]))
                specs.append(TensorSpec(l.downBias, [C]))
            }
        }
        specs.append(TensorSpec(finalNorm, [C]))
        if !c.tiedEmbeddings { specs.append(TensorSpec(lmHead, [V, C])) }
        return specs
    }

    static func disposition(of stored: String, config: ModelConfig) -> KeyDisposition {
        if stored == lmHead && config.tiedEmbeddings {
            // Some exporters save the tied head anyway; transformers ties it to the embeddings.
            return .ignore(reason: "tied to \(embedTokens) (tie_word_embeddings)")
        }
        if stored.hasPrefix("model.layers.") && stored.hasSuffix(".self_attn.rotary_emb.inv_freq") {
            return .ignore(reason: "RoPE frequency buffer of old checkpoints, recomputed from the config")
        }
        return .keep(canonical: stored)
    }
}
