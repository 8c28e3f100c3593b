/// Tensor names of Phi-3 checkpoints (phi3, Phi-4-mini): Llama-like, but the attention and MLP
/// input projections are fused.
public enum Phi3TensorNames: TensorLayout {
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
        /// [(H + 2·KV)·hd, C]: rows [0, H·hd) are q, the next KV·hd rows k, the last KV·hd rows v.
        public var qkvProj: String { prefix + "self_attn.qkv_proj.weight" }
        /// [C, H·hd]
        public var oProj: String { prefix + "self_attn.o_proj.weight" }
        /// [C]
        public var postAttentionNorm: String { prefix + "post_attention_layernorm.weight" }
        /// [2·I, C]: the first I rows are gate, the rest up.
        public var gateUpProj: String { prefix + "mlp.gate_up_proj.weight" }
        /// [C, I]
        public var downProj: String { prefix + "mlp.down_proj.weight" }
    }

    public static func layer(_ index: Int) -> Layer { Layer(index) }

    static func tensorSpecs(_ c: ModelConfig) -> [TensorSpec] {
        let (V, C, I) = (c.vocabSize, c.hiddenSize, c.intermediateSize)
        let (Q, KV) = (c.queryWidth, c.kvWidth)
        var specs = [TensorSpec(embedTokens, [V, C])]
        for i in 0..<c.layerCount {
            let l = layer(i)
            specs.append(TensorSpec(l.inputNorm, [C]))
            specs.append(TensorSpec(l.qkvProj, [Q + 2 * KV, C]))
            specs.append(TensorSpec(l.oProj, [C, Q]))
            specs.append(TensorSpec(l.postAttentionNorm, [C]))
            specs.append(TensorSpec(l.gateUpProj, [2 * I, C]))
            specs.append(TensorSpec(l.downProj, [C, I]))
        }
        specs.append(TensorSpec(finalNorm, [C]))
        if !c.tiedEmbeddings { specs.append(TensorSpec(lmHead, [V, C])) }
        return specs
    }

    static func disposition(of stored: String, config: ModelConfig) -> KeyDisposition {
        if stored == lmHead && config.tiedEmbeddings {
            return .ignore(reason: "tied to \(embedTokens) (tie_word_embeddings)")
        }
        if stored.hasPrefix("model.layers.") && stored.hasSuffix(".self_attn.rotary_emb.inv_freq") {
            return .ignore(reason: "RoPE frequency buffer of old checkpoints, recomputed from the config")
        }
        return .keep(canonical: stored)
    }
}
