/// How llama.cpp names the tensors of a llama-architecture model, and the Hugging Face name of each
/// (convert_hf_to_gguf.py's tensor map, read in the other direction).
public enum LlamaGGUFNames {
    /// What a GGUF tensor becomes in the HF directory.
    public struct Mapping: Equatable, Sendable {
        public var hfName: String
        /// attn_q / attn_k rows were interleaved by convert for llama.cpp's rotary layout; the
        /// value is the number of heads the permutation was done with (heads for q, kv heads for k).
        public var unpermuteHeads: Int?
    }

    static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    static let perLayer: [String: String] = [
        "attn_norm.weight": "input_layernorm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight",
        "attn_k.weight": "self_attn.k_proj.weight",
        "attn_v.weight": "self_attn.v_proj.weight",
        "attn_output.weight": "self_attn.o_proj.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight",
        "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight",
    ]

    /// Tensors llama.cpp derives from the config that have no HF counterpart (Llama 3.1's rotary
    /// frequency factors, which config.json's rope_scaling describes instead).
    public static let derived: Set<String> = ["rope_freqs.weight"]

    /// The HF name for a GGUF tensor name, or nil if lf does not know it.
    public static func mapping(for name: String, heads: Int, kvHeads: Int, layers: Int) -> Mapping? {
        if let hf = global[name] { return Mapping(hfName: hf, unpermuteHeads: nil) }
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, layer < layers,
              String(layer) == parts[1], let suffix = perLayer[String(parts[2])] else { return nil }
        let permute: Int? = switch parts[2] {
        case "attn_q.weight": heads
        case "attn_k.weight": kvHeads
        default: nil
        }
        return Mapping(hfName: "model.layers.\(layer).\(suffix)", unpermuteHeads: permute)
    }

    /// Undoes convert_hf_to_gguf's `permute` of q/k rows: within each head, GGUF holds the rotary
    /// pairs interleaved (row 2i+j) where HF holds them as two halves (row j·hd/2 + i).
    ///
    /// - Parameters: `src`/`dst` hold `rows × cols` floats; `rows = heads × headDim`.
    public static func unpermuteRows(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int, heads: Int) {
        let headDim = rows / heads
        let half = headDim / 2
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let from = h * headDim + 2 * i + j
                    let to = h * headDim + j * half + i
                    (dst + to * cols).update(from: src + from * cols, count: cols)
                }
            }
        }
    }
}
