import Foundation

/// Forward and backward passes of a model for training: micro-batches in, the summed token loss
/// out, and the gradients of every trainable tensor (the LoRA slices that have `gradients`, and
/// the modules trained in full: see FullModuleGradients.swift) accumulated. The frozen weights
/// get no gradient, and no gradient is computed below the lowest layer that trains.
///
/// The LM head and the loss run only at rows that have a target: with prompt masking most rows
/// of instruction data need neither.
public final class TrainingEngine: @unchecked Sendable {
    public let model: TransformerModel
    /// Keep only each layer's input and recompute the rest just before its backward.
    public let checkpointing: Bool
    private var capacity = 0
    private var buffers: PassBuffers?
    private var layers: [LayerActivations] = []
    /// The head's gathered rows, their norms and gradients, and a chunk of logits (kept between
    /// passes: megabytes allocated afresh would be fresh pages every time).
    private let headScratch = (0..<4).map { _ in ScratchBuffer() }

    public init(model: TransformerModel, checkpointing: Bool = false) {
        self.model = model
        self.checkpointing = checkpointing
    }

    /// Bytes of activation memory held for the largest micro-batch seen (attention's
    /// probabilities counted at their capacity, an upper bound).
    public var activationBytes: Int {
        guard capacity > 0 else { return 0 }
        let c = model.config
        let full = LayerActivations.floats(rows: capacity, config: c) + LayerActivations.probabilityFloats(rows: capacity, config: c)
        let perLayer = checkpointing ? capacity * c.hiddenSize : full
        let shared = checkpointing ? full : 0
        return 4 * (perLayer * c.layerCount + shared) + layers.reduce(0) { $0 + $1.qkvTape.bytes + $1.outputTape.bytes + $1.upTape.bytes + $1.downTape.bytes }
    }

    /// One micro-batch forward and backward: the gradients of `gradientScale` × (the sum of its
    /// token losses) are added to the trainable tensors. Returns that sum (unscaled).
    /// `seed` drives dropout.
    public func accumulate(_ batch: TrainingBatch, gradientScale: Float, seed: UInt64 = 0) throws -> Double {
        try run(batch, gradientScale: gradientScale, seed: seed, backward: true)
    }

    /// The sum of the token losses of `batch` (no dropout, no gradients).
    public func loss(_ batch: TrainingBatch) throws -> Double {
        try run(batch, gradientScale: 0, seed: 0, backward: false)
    }

    private func run(_ batch: TrainingBatch, gradientScale: Float, seed: UInt64, backward: Bool) throws -> Double {
        let N = batch.rowCount
        guard N > 0 else { return 0 }
        try validate(batch)
        // OpenBLAS single-threaded throughout: the large products split over lf's pool
        // (`BLAS.parallelGemm`), so no OpenBLAS thread spins beside lf's kernels.
        return BLAS.singleThreaded { pass(batch, rows: N, gradientScale: gradientScale, seed: seed, backward: backward) }
    }

    private func pass(_ batch: TrainingBatch, rows N: Int, gradientScale: Float, seed: UInt64, backward: Bool) -> Double {
        let c = model.config
        let b = buffers(rows: N)
        b.linear.dropoutEnabled = backward
        let C = c.hiddenSize

        // RoPE tables at every row's position; LongRoPE's choice of factors follows the longest
        // position, as transformers makes it from the sequence length.
        let half = (model.rotary?.rotaryDim ?? 0) / 2
        var cosTable = [Float](repeating: 0, count: max(1, N * half)), sinTable = cosTable
        let longest = Int(batch.positions.max() ?? 0) + 1
        if let rotary = model.rotary {
            let invFreq = rotary.inverseFrequencies(sequenceLength: longest)
            var cosAt = [Float](repeating: 0, count: longest * half), sinAt = cosAt
            cosAt.withUnsafeMutableBufferPointer { cs in
                sinAt.withUnsafeMutableBufferPointer { sn in
                    for position in 0..<longest {
                        rotary.cosSin(position: position, inverseFrequencies: invFreq,
                                      cos: cs.baseAddress! + position * half, sin: sn.baseAddress! + position * half)
                    }
                }
            }
            for (row, position) in batch.positions.enumerated() {
                for i in 0..<half {
                    cosTable[row * half + i] = cosAt[Int(position) * half + i]
                    sinTable[row * half + i] = sinAt[Int(position) * half + i]
                }
            }
        }

        return cosTable.withUnsafeBufferPointer { cosBuffer in
            sinTable.withUnsafeBufferPointer { sinBuffer in
                // The probabilities are kept when the batch's fit (a function of the batch alone,
                // so that a resumed run takes the same path).
                let keeps = backward && AttentionProbabilities.floats(segments: batch.segments, H: c.headCount, KV: c.kvHeadCount,
                                                                      window: c.slidingWindow)
                    <= LayerActivations.probabilityFloats(rows: N, config: c)
                let context = PassContext(rows: N, segments: batch.segments, cos: cosBuffer.baseAddress!, sin: sinBuffer.baseAddress!,
                                          seed: seed, keepsProbabilities: keeps)
                embed(batch, into: b.x)
                for (block, saved) in zip(model.blocks, layers) {
                    block.trainingForward(b, saved: saved, context: context, config: c)
                }
                let loss = head(batch, b, gradientScale: gradientScale, backward: backward)
                guard backward else { return loss }
                let lowest = lowestTrainingLayer()
                // Embeddings trained in full need the gradient at layer 0's input.
                let reachesEmbeddings = model.headGradients.reachesEmbeddings
                for index in model.blocks.indices.reversed() where index >= lowest {
                    let block = model.blocks[index], saved = layers[index]
                    if checkpointing {
                        b.x.update(from: saved.input, count: N * C)
                        block.trainingForward(b, saved: saved, context: context, config: c)
                    }
                    block.trainingBackward(b, saved: saved, context: context, config: c,
                                           needsInputGradient: index > lowest || reachesEmbeddings)
                }
                if reachesEmbeddings { embeddingBackward(batch, dx: b.dx) }
                return loss
            }
        }
    }

    /// Final norm, LM head and cross-entropy at the rows that have a target; with `backward`,
    /// leaves dL/dx of the last layer's output in `b.dx` (zero at rows without a target).
    private func head(_ batch: TrainingBatch, _ b: PassBuffers, gradientScale: Float, backward: Bool) -> Double {
        let c = model.config
        let (C, V) = (c.hiddenSize, c.vocabSize)
        let rows = batch.targets.indices.filter { batch.targets[$0] >= 0 }
        if backward { b.dx.update(repeating: 0, count: batch.rowCount * C) }
        guard !rows.isEmpty else { return 0 }
        let M = rows.count
        // Logits 128 MiB at a time (682 rows of SmolLM2's 49152 columns): each chunk packs
        // the whole head matrix again, and 170-row chunks ran its products at 150 GFLOP/s
        // against 172 for 512 rows (`lf-bench sgemm 512 49152 576`).
        let chunk = max(1, min(M, (1 << 25) / V))
        let xs = headScratch[0].reserve(M * C), normed = headScratch[1].reserve(M * C)
        let dNormed = headScratch[2].reserve(M * C), logits = headScratch[3].reserve(chunk * V)
        for (i, row) in rows.enumerated() { (xs + i * C).update(from: b.x + row * C, count: C) }
        model.finalNorm.forward(normed, xs, rows: M, C: C)
        let targets = rows.map { batch.targets[$0] }
        var loss: Double = 0
        let scratch = b.linear.weights
        targets.withUnsafeBufferPointer { t in
            var start = 0
            while start < M {
                let n = min(chunk, M - start)
                model.lmHead.baseProduct(normed + start * C, rows: n, into: logits, scratch: scratch)
                model.lmHead.addBias(logits, rows: n)
                loss += crossEntropyWithGradient(logits, targets: t.baseAddress! + start, rows: n, V: V, gradientScale: gradientScale)
                if backward { model.lmHead.inputGradient(logits, rows: n, into: dNormed + start * C, scratch: scratch) }
                if backward, let dW = model.headGradients.lmHead {
                    // An LM head trained in full: dW += dlogitsᵀ · normed (only rows with a target exist).
                    BLAS.parallelGemm(transA: true, m: V, n: C, k: n, a: logits, b: normed + start * C, beta: 1, c: dW)
                }
                start += n
            }
        }
        guard backward else { return loss }
        // dL/dx at the target rows, scattered into the full (N, C) gradient.
        normed.update(repeating: 0, count: M * C)
        model.finalNorm.backward(normed, dNormed, xs, rows: M, C: C)
        if let g = model.headGradients.finalNorm { model.finalNorm.parameterGradient(g, dNormed, xs, rows: M, C: C) }
        for (i, row) in rows.enumerated() { (b.dx + row * C).update(from: normed + i * C, count: C) }
        return loss
    }

    /// Token embeddings (× Gemma's scale) plus learned positions (GPT-2), at each row's position.
    private func embed(_ batch: TrainingBatch, into x: UnsafeMutablePointer<Float>) {
        let c = model.config
        let C = c.hiddenSize
        for (row, token) in batch.tokens.enumerated() {
            let xr = x + row * C
            model.tokenEmbedding.widenRows(Int(token), 1, cols: C, into: xr)
            if c.embeddingScale != 1 { scaleInPlace(xr, C, by: Float(c.embeddingScale)) }
            if let p = model.positionEmbedding { add(xr, p + Int(batch.positions[row]) * C, count: C) }
        }
    }

    /// The lowest layer with a trainable tensor (a LoRA slice, a norm trained in full): no gradient
    /// needs to flow below it — unless the embeddings train, which puts it at 0.
    private func lowestTrainingLayer() -> Int {
        if model.headGradients.reachesEmbeddings { return 0 }
        return model.blocks.firstIndex { block in
            block.normGradients.any
                || [block.qkv, block.output, block.up, block.down].contains { $0.adapters.contains { $0.gradients != nil } }
        } ?? model.blocks.count
    }

    private func validate(_ batch: TrainingBatch) throws {
        let c = model.config
        if let bad = batch.tokens.first(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
            throw LFError("token id \(bad) is outside the model's vocabulary of \(c.vocabSize)",
                          hint: "the shards were made with another tokenizer")
        }
        if let bad = batch.targets.first(where: { Int($0) >= c.vocabSize }) {
            throw LFError("target id \(bad) is outside the model's vocabulary of \(c.vocabSize)")
        }
        let longest = Int(batch.positions.max() ?? 0) + 1
        if model.positionEmbedding != nil, longest > c.maxPositions {
            throw LFError("a document is \(longest) tokens long; this model has learned positions for \(c.maxPositions)",
                          hint: "tokenize with a smaller --max-length")
        }
    }

    /// Allocates the activations for micro-batches of up to `rows` rows now. Growing them
    /// mid-run frees and maps them afresh, and every new page faults on first touch.
    public func reserve(rows: Int) {
        if rows > 0 { buffers(rows: rows) }
    }

    /// Buffers for N rows (grown when a larger micro-batch comes).
    @discardableResult
    private func buffers(rows N: Int) -> PassBuffers {
        if let buffers, N <= capacity { return buffers }
        let c = model.config
        layers = []
        buffers = nil
        let b = PassBuffers(rows: N, config: c)
        if checkpointing {
            let shared = LayerActivations(rows: N, config: c)
            layers = (0..<c.layerCount).map { _ in LayerActivations(rows: N, config: c, sharing: shared) }
        } else {
            layers = (0..<c.layerCount).map { _ in LayerActivations(rows: N, config: c) }
        }
        capacity = N
        buffers = b
        return b
    }
}
