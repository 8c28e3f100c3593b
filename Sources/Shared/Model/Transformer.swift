import Foundation

/// A normalisation layer: RMSNorm, Gemma's RMSNorm with (1 + w), or LayerNorm with a bias.
public struct Norm: @unchecked Sendable {
    public let kind: NormKind
    /// (C)
    public let weight: UnsafeMutablePointer<Float>
    /// (C), LayerNorm only
    public let bias: UnsafeMutablePointer<Float>?
    public let eps: Float

    public func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, C: Int) {
        switch kind {
        case .rms: rmsNormForward(out, x, weight, rows: rows, C: C, eps: eps)
        case .rmsOnePlusWeight: rmsNormForward(out, x, weight, rows: rows, C: C, eps: eps, offset: 1)
        case .layerNorm: layerNormForward(out, x, weight, bias!, rows: rows, C: C, eps: eps)
        }
    }
}

/// One decoder layer, in the shape every supported architecture reduces to:
/// x += o(attention(rope(q, k), v)) with q|k|v = qkv(norm1(x)); x += down(mlp(up(norm2(x)))).
/// Separate q/k/v (and gate/up) projections are stored fused, so each is one matrix product.
public final class DecoderBlock: @unchecked Sendable {
    public let attentionNorm: Norm
    /// [Q + 2·KV, C]: rows q | k | v.
    public let qkv: Linear
    /// Qwen3's per-head norms of q and k (hd), before RoPE.
    public let qNorm: UnsafeMutablePointer<Float>?
    public let kNorm: UnsafeMutablePointer<Float>?
    /// [C, Q]
    public let output: Linear
    public let mlpNorm: Norm
    /// Gated: [2·I, C], rows gate | up. Plain (GPT-2): [I, C].
    public let up: Linear
    /// [C, I]
    public let down: Linear
    /// Training only: where backprop adds the gradients of this layer's norms when they are
    /// trained in full (`--additional-target`); empty when they are frozen.
    var normGradients = BlockNormGradients()

    init(attentionNorm: Norm, qkv: Linear, qNorm: UnsafeMutablePointer<Float>?, kNorm: UnsafeMutablePointer<Float>?,
         output: Linear, mlpNorm: Norm, up: Linear, down: Linear) {
        self.attentionNorm = attentionNorm
        self.qkv = qkv
        self.qNorm = qNorm
        self.kNorm = kNorm
        self.output = output
        self.mlpNorm = mlpNorm
        self.up = up
        self.down = down
    }
}

/// A causal language model of any supported architecture, with its frozen weights in memory
/// (float32; or bfloat16 or block-quantised, widened inside each product) and optional LoRA
/// adapters applied on the fly.
public final class TransformerModel: @unchecked Sendable {
    public let config: ModelConfig
    /// How the weight matrices are held (with q8/q4 the embedding and LM head are bf16).
    public let weightType: WeightFormat
    public let directory: String
    let arena: Arena
    /// [V, C]; replaced by a float32 copy of its own when an adapter trains or replaces it in full.
    var tokenEmbedding: WeightMatrix
    /// [P, C] (GPT-2)
    let positionEmbedding: UnsafeMutablePointer<Float>?
    public let blocks: [DecoderBlock]
    let finalNorm: Norm
    /// [V, C]; shares the embedding's storage when tied (until an adapter replaces one of them).
    public internal(set) var lmHead: Linear
    let rotary: RotaryEmbedding?
    /// HF module path (`model.layers.0.self_attn.q_proj`) → where its rows live, for adapters.
    public let modules: [String: (linear: Linear, rowOffset: Int, rows: Int)]
    public internal(set) var adapter: AdapterConfig?
    /// The modules the adapter trains or replaces in full (PEFT's modules_to_save), with their tensors.
    public internal(set) var replacedModules: [ReplacedModule] = []
    /// Training only: where backprop adds the gradients of the embeddings, LM head and final norm
    /// when they are trained in full.
    var headGradients = HeadGradients()

    let workspace = ForwardWorkspace()

    /// Loads a Hugging Face model directory, holding the weight matrices as `weightType`.
    public static func load(directory: String, weightType: WeightFormat = .f32) throws -> TransformerModel {
        try TransformerModel(weights: CheckedWeights.load(directory: directory), directory: directory, weightType: weightType)
    }

    init(weights: CheckedWeights, directory: String, weightType: WeightFormat) throws {
        let c = weights.config
        config = c
        self.weightType = weightType
        self.directory = directory
        let arena = Arena()
        self.arena = arena
        let C = c.hiddenSize, I = c.intermediateSize, Q = c.queryWidth, KV = c.kvWidth

        /// Float32 copy of a (possibly f16/bf16) tensor.
        func vector(_ name: String) throws -> UnsafeMutablePointer<Float> {
            let count = weights.tensor(name)?.1.elementCount ?? 0
            let p = arena.floats(count)
            try weights.copyFloats(name, into: p)
            return p
        }
        /// Hands the pages of tensor `name` in the memory-mapped file back to the kernel once it
        /// has been copied. They are clean file pages (re-read if ever touched again), but they count
        /// in the resident set, and so in the peak, until unmapped: without this a model's load holds
        /// the whole file and its in-memory copy at once (4.9 GB for a 1B model in bf16).
        func release(_ name: String) {
            guard let (file, t) = weights.tensor(name) else { return }
            let bytes = file.data(of: t)
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = Int(bitPattern: base) / page * page
            let end = (Int(bitPattern: base) + bytes.count + page - 1) / page * page
            _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
        }
        /// Several [rows, cols] tensors stacked by rows (transposed first when `transposed`: GPT-2's
        /// Conv1D weights are [in, out]), in the chosen weight type. The token embedding and the LM
        /// head (`vocabulary`) are never block-quantised: as in QLoRA, which keeps them in 16 bits,
        /// they stay bf16 when q8/q4 is asked (they are read one row per token, and the head's
        /// logits feed the loss directly).
        func matrix(_ names: [String], cols: Int, transposed: Bool = false, vocabulary: Bool = false) throws -> (WeightMatrix, Int) {
            let rows = try names.map { name -> Int in
                guard let t = weights.tensor(name)?.1 else { throw LFError("missing tensor \(name)", at: SourceLocation(file: directory)) }
                return t.elementCount / cols
            }
            let total = rows.reduce(0, +)
            let format: WeightFormat = vocabulary && weightType.isBlockQuantized ? .bf16 : weightType
            if format == .bf16, !transposed, names.allSatisfy({ weights.tensor($0)?.1.dtype == .bf16 }) {
                // bf16 on disk and in memory: copied as is, with no float32 staging (1 GB for a
                // 128k-token vocabulary's embedding).
                let p = arena.halves(total * cols)
                var offset = 0
                for (name, n) in zip(names, rows) {
                    let (file, t) = weights.tensor(name)!
                    UnsafeMutableRawPointer(p + offset * cols).copyMemory(from: file.data(of: t).baseAddress!, byteCount: n * cols * 2)
                    release(name)
                    offset += n
                }
                return (.bf16(p), total)
            }
            let staging = UnsafeMutablePointer<Float>.allocate(capacity: total * cols)
            defer { staging.deallocate() }
            var offset = 0
            for (name, n) in zip(names, rows) {
                if transposed {
                    let source = try weights.floats(name)  // [cols(in), n(out)]
                    for i in 0..<cols { for o in 0..<n { staging[(offset + o) * cols + i] = source[i * n + o] } }
                } else {
                    try weights.copyFloats(name, into: staging + offset * cols)
                }
                release(name)
                offset += n
            }
            switch format {
            case .f32:
                let p = arena.floats(total * cols)
                p.update(from: staging, count: total * cols)
                return (.f32(p), total)
            case .bf16:
                let p = arena.halves(total * cols)
                HalfPrecision.narrowToBF16(staging, p, count: total * cols)
                return (.bf16(p), total)
            case .q8:
                return (.q8(Q8Matrix(quantizing: staging, rows: total, cols: cols, arena: arena)), total)
            case .q4:
                return (.q4(Q4Matrix(quantizing: staging, rows: total, cols: cols, arena: arena)), total)
            }
        }
        func linear(_ name: String, _ names: [String], cols: Int, bias: [String]? = nil, transposed: Bool = false,
                    vocabulary: Bool = false) throws -> Linear {
            let (w, rows) = try matrix(names, cols: cols, transposed: transposed, vocabulary: vocabulary)
            var b: UnsafeMutablePointer<Float>?
            if let bias {
                let p = arena.floats(rows)
                var at = 0
                for name in bias {
                    let v = try weights.floats(name)
                    (p + at).update(from: v, count: v.count)
                    at += v.count
                }
                b = p
            }
            return Linear(name: name, outFeatures: rows, inFeatures: cols, weight: w, bias: b)
        }
        let eps = Float(c.normEps)
        func norm(_ weight: String, bias: String? = nil) throws -> Norm {
            Norm(kind: c.normKind, weight: try vector(weight), bias: try bias.map(vector), eps: eps)
        }

        var blocks: [DecoderBlock] = []
        var modules: [String: (linear: Linear, rowOffset: Int, rows: Int)] = [:]
        switch c.architecture {
        case .gpt2:
            tokenEmbedding = try matrix([GPT2TensorNames.tokenEmbedding], cols: C, vocabulary: true).0
            positionEmbedding = try vector(GPT2TensorNames.positionEmbedding)
            for i in 0..<c.layerCount {
                let l = GPT2TensorNames.layer(i)
                let prefix = "transformer.h.\(i)."
                let qkv = try linear(prefix + "attn.c_attn", [l.attnQKV], cols: C, bias: [l.attnQKVBias], transposed: true)
                let out = try linear(prefix + "attn.c_proj", [l.attnProj], cols: C, bias: [l.attnProjBias], transposed: true)
                let fc = try linear(prefix + "mlp.c_fc", [l.fc], cols: C, bias: [l.fcBias], transposed: true)
                let proj = try linear(prefix + "mlp.c_proj", [l.mlpProj], cols: I, bias: [l.mlpProjBias], transposed: true)
                for (path, lin) in [("attn.c_attn", qkv), ("attn.c_proj", out), ("mlp.c_fc", fc), ("mlp.c_proj", proj)] {
                    modules[prefix + path] = (lin, 0, lin.outFeatures)
                }
                blocks.append(DecoderBlock(attentionNorm: try norm(l.norm1Weight, bias: l.norm1Bias), qkv: qkv, qNorm: nil, kNorm: nil,
                                           output: out, mlpNorm: try norm(l.norm2Weight, bias: l.norm2Bias), up: fc, down: proj))
            }
            finalNorm = try norm(GPT2TensorNames.finalNormWeight, bias: GPT2TensorNames.finalNormBias)
            lmHead = c.tiedEmbeddings
                ? Linear(name: "lm_head", outFeatures: c.vocabSize, inFeatures: C, weight: tokenEmbedding, bias: nil)
                : try linear("lm_head", [GPT2TensorNames.lmHead], cols: C, vocabulary: true)
        case .phi3:
            tokenEmbedding = try matrix([Phi3TensorNames.embedTokens], cols: C, vocabulary: true).0
            positionEmbedding = nil
            for i in 0..<c.layerCount {
                let l = Phi3TensorNames.layer(i)
                let prefix = "model.layers.\(i)."
                let qkv = try linear(prefix + "self_attn.qkv_proj", [l.qkvProj], cols: C)
                let out = try linear(prefix + "self_attn.o_proj", [l.oProj], cols: Q)
                let up = try linear(prefix + "mlp.gate_up_proj", [l.gateUpProj], cols: C)
                let down = try linear(prefix + "mlp.down_proj", [l.downProj], cols: I)
                for (path, lin) in [("self_attn.qkv_proj", qkv), ("self_attn.o_proj", out), ("mlp.gate_up_proj", up), ("mlp.down_proj", down)] {
                    modules[prefix + path] = (lin, 0, lin.outFeatures)
                }
                blocks.append(DecoderBlock(attentionNorm: try norm(l.inputNorm), qkv: qkv, qNorm: nil, kNorm: nil, output: out,
                                           mlpNorm: try norm(l.postAttentionNorm), up: up, down: down))
            }
            finalNorm = try norm(Phi3TensorNames.finalNorm)
            lmHead = c.tiedEmbeddings
                ? Linear(name: "lm_head", outFeatures: c.vocabSize, inFeatures: C, weight: tokenEmbedding, bias: nil)
                : try linear("lm_head", [Phi3TensorNames.lmHead], cols: C, vocabulary: true)
        case .llama, .mistral, .qwen2, .qwen3, .gemma:
            tokenEmbedding = try matrix([LlamaTensorNames.embedTokens], cols: C, vocabulary: true).0
            positionEmbedding = nil
            for i in 0..<c.layerCount {
                let l = LlamaTensorNames.layer(i)
                let prefix = "model.layers.\(i)."
                let qkv = try linear(prefix + "self_attn.qkv", [l.qProj, l.kProj, l.vProj], cols: C,
                                     bias: c.qkvBias ? [l.qBias, l.kBias, l.vBias] : nil)
                let out = try linear(prefix + "self_attn.o_proj", [l.oProj], cols: Q, bias: c.outputBias ? [l.oBias] : nil)
                let up = try linear(prefix + "mlp.gate_up", [l.gateProj, l.upProj], cols: C, bias: c.mlpBias ? [l.gateBias, l.upBias] : nil)
                let down = try linear(prefix + "mlp.down_proj", [l.downProj], cols: I, bias: c.mlpBias ? [l.downBias] : nil)
                modules[prefix + "self_attn.q_proj"] = (qkv, 0, Q)
                modules[prefix + "self_attn.k_proj"] = (qkv, Q, KV)
                modules[prefix + "self_attn.v_proj"] = (qkv, Q + KV, KV)
                modules[prefix + "self_attn.o_proj"] = (out, 0, C)
                modules[prefix + "mlp.gate_proj"] = (up, 0, I)
                modules[prefix + "mlp.up_proj"] = (up, I, I)
                modules[prefix + "mlp.down_proj"] = (down, 0, C)
                blocks.append(DecoderBlock(
                    attentionNorm: try norm(l.inputNorm), qkv: qkv,
                    qNorm: c.qkNorm ? try vector(l.qNorm) : nil, kNorm: c.qkNorm ? try vector(l.kNorm) : nil,
                    output: out, mlpNorm: try norm(l.postAttentionNorm), up: up, down: down))
            }
            finalNorm = try norm(LlamaTensorNames.finalNorm)
            lmHead = c.tiedEmbeddings
                ? Linear(name: "lm_head", outFeatures: c.vocabSize, inFeatures: C, weight: tokenEmbedding, bias: nil)
                : try linear("lm_head", [LlamaTensorNames.lmHead], cols: C, vocabulary: true)
        }
        self.blocks = blocks
        self.modules = modules
        rotary = c.rope.map(RotaryEmbedding.init)
    }

    /// Bytes of weights held in memory.
    public var weightBytes: Int { arena.bytes }
}

/// Activations of one forward pass, reused across calls (sized by the largest T seen).
final class ForwardWorkspace: @unchecked Sendable {
    let hidden = ScratchBuffer(), normed = ScratchBuffer(), qkv = ScratchBuffer(), q = ScratchBuffer()
    let attention = ScratchBuffer(), projected = ScratchBuffer(), mlp = ScratchBuffer(), gated = ScratchBuffer()
    let weights = ScratchBuffer()
    let lock = NSLock()
}
