/// Where backprop adds the gradients of the modules trained in full beside the LoRA tensors
/// (`--additional-target`, PEFT's modules_to_save). A nil pointer is a frozen module, which gets
/// no gradient; the pointers are the gradients of the `TrainableParameter`s that hold the values.

/// The gradient of a norm's weight, and of LayerNorm's bias.
struct NormGradient {
    let weight: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
}

/// The norms of one decoder layer.
struct BlockNormGradients {
    var attention: NormGradient?
    var mlp: NormGradient?
    /// Qwen3's per-head q and k norms, (hd) each.
    var query: UnsafeMutablePointer<Float>?
    var key: UnsafeMutablePointer<Float>?

    var any: Bool { attention != nil || mlp != nil || query != nil || key != nil }
}

/// The modules outside the decoder layers.
struct HeadGradients {
    /// (V, C), at the rows of the tokens seen.
    var tokenEmbedding: UnsafeMutablePointer<Float>?
    /// (P, C), GPT-2's learned positions.
    var positionEmbedding: UnsafeMutablePointer<Float>?
    /// (V, C)
    var lmHead: UnsafeMutablePointer<Float>?
    var finalNorm: NormGradient?

    /// The gradient must reach the input of layer 0, through every layer.
    var reachesEmbeddings: Bool { tokenEmbedding != nil || positionEmbedding != nil }
}

extension TransformerModel {
    /// Points backprop at `gradients` (one per tensor of `module`: the weight, then a bias).
    func setGradients(of module: FullModule, _ gradients: [UnsafeMutablePointer<Float>]) {
        let weight = gradients[0]
        let norm = NormGradient(weight: weight, bias: gradients.count > 1 ? gradients[1] : nil)
        switch module {
        case .tokenEmbedding: headGradients.tokenEmbedding = weight
        case .positionEmbedding: headGradients.positionEmbedding = weight
        case .lmHead: headGradients.lmHead = weight
        case .finalNorm: headGradients.finalNorm = norm
        case .attentionNorm(let i): blocks[i].normGradients.attention = norm
        case .mlpNorm(let i): blocks[i].normGradients.mlp = norm
        case .queryNorm(let i): blocks[i].normGradients.query = weight
        case .keyNorm(let i): blocks[i].normGradients.key = weight
        }
    }
}

extension TrainingEngine {
    /// The embeddings' gradients from dL/dx at layer 0's input: each row's gradient (× Gemma's
    /// embedding scale, which the forward pass multiplies in) is added to its token's row, and to
    /// its position's row of GPT-2's learned positions. transformers builds every embedding but
    /// GPT-2's with `padding_idx` = pad_token_id, whose row torch never gives a gradient: nor does lf.
    func embeddingBackward(_ batch: TrainingBatch, dx: UnsafePointer<Float>) {
        let c = model.config
        let C = c.hiddenSize
        let gradients = model.headGradients
        if let g = gradients.tokenEmbedding {
            let scale = Float(c.embeddingScale)
            let padding = c.architecture == .gpt2 ? nil : c.padTokenID.map(Int32.init)
            for (row, token) in batch.tokens.enumerated() where token != padding {
                let gr = g + Int(token) * C, dr = dx + row * C
                for i in 0..<C { gr[i] = gr[i].addingProduct(scale, dr[i]) }
            }
        }
        if let g = gradients.positionEmbedding {
            for (row, position) in batch.positions.enumerated() { add(g + Int(position) * C, dx + row * C, count: C) }
        }
    }
}

extension Norm {
    /// dW (and LayerNorm's db) += the gradient of `forward` with respect to the weight (and bias),
    /// for a norm trained in full. Gemma's (1 + w) has the same derivative as w.
    func parameterGradient(_ g: NormGradient, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, C: Int) {
        switch kind {
        case .rms, .rmsOnePlusWeight: rmsNormWeightGradient(g.weight, dy, x, rows: rows, C: C, eps: eps)
        case .layerNorm: layerNormParameterGradient(g.weight, g.bias!, dy, x, rows: rows, C: C, eps: eps)
        }
    }
}
