/// One decoder layer's training forward (keeping what its backward needs) and backward:
///
///     x ─ norm1 ─ qkv ─ q/k norm, RoPE ─ attention ─ o ─(+x)─ middle ─ norm2 ─ up ─ act ─ down ─(+middle)─
extension DecoderBlock {
    /// Runs the layer on `b.x` in place, keeping its activations in `saved`.
    func trainingForward(_ b: PassBuffers, saved s: LayerActivations, context p: PassContext, config c: ModelConfig) {
        let N = p.rows, C = c.hiddenSize
        parallelCopy(s.input, from: b.x, count: N * C)
        attentionNorm.forward(s.attentionNormed, b.x, rows: N, C: C)
        qkv.trainingForward(s.attentionNormed, rows: N, into: s.qkv, tape: s.qkvTape, scratch: b.linear, passSeed: p.seed)
        prepareQKV(s.qkv, into: s.roped, context: p, config: c)
        segmentAttentionForward(s.attention, lse: s.logSumExp, qkv: s.roped, segments: p.segments, H: c.headCount,
                                KV: c.kvHeadCount, hd: c.headDim, scale: attentionScale(c), window: c.slidingWindow,
                                probabilities: p.keepsProbabilities ? s.probabilities : nil)
        output.trainingForward(s.attention, rows: N, into: b.projected, tape: s.outputTape, scratch: b.linear, passSeed: p.seed)
        parallelAdd(b.x, b.projected, count: N * C, copy: s.middle)

        mlpNorm.forward(s.mlpNormed, b.x, rows: N, C: C)
        up.trainingForward(s.mlpNormed, rows: N, into: s.gateUp, tape: s.upTape, scratch: b.linear, passSeed: p.seed)
        activate(s.gateUp, into: s.activation, rows: N, config: c)
        down.trainingForward(s.activation, rows: N, into: b.projected, tape: s.downTape, scratch: b.linear, passSeed: p.seed)
        parallelAdd(b.x, b.projected, count: N * C)
    }

    /// Turns `b.dx` from the gradient of the layer's output into that of its input (skipped when
    /// `needsInputGradient` is false: nothing before the layer trains), adding the gradients of
    /// the layer's trainable tensors on the way.
    func trainingBackward(_ b: PassBuffers, saved s: LayerActivations, context p: PassContext, config c: ModelConfig,
                          needsInputGradient: Bool) {
        let N = p.rows, C = c.hiddenSize, I = c.intermediateSize

        // MLP
        down.backward(dy: outputGradient(down, b, count: N * C), x: s.activation, rows: N, dx: b.dActivation, tape: s.downTape, scratch: b.linear, passSeed: p.seed)
        if c.gatedMLP {
            Activations.gatedBackward(c.activation, b.dGateUp, b.dActivation, s.gateUp, rows: N, intermediate: I)
        } else {
            Activations.backward(c.activation, b.dGateUp, b.dActivation, s.gateUp, count: N * I)
        }
        up.backward(dy: b.dGateUp, x: s.mlpNormed, rows: N, dx: b.dNormed, tape: s.upTape, scratch: b.linear, passSeed: p.seed)
        mlpNorm.backward(b.dx, b.dNormed, s.middle, rows: N, C: C)
        if let g = normGradients.mlp { mlpNorm.parameterGradient(g, b.dNormed, s.middle, rows: N, C: C) }

        // Attention
        output.backward(dy: outputGradient(output, b, count: N * C), x: s.attention, rows: N, dx: b.dAttention, tape: s.outputTape, scratch: b.linear, passSeed: p.seed)
        segmentAttentionBackward(b.dqkv, dOut: b.dAttention, out: s.attention, lse: s.logSumExp, qkv: s.roped,
                                 segments: p.segments, H: c.headCount, KV: c.kvHeadCount, hd: c.headDim,
                                 scale: attentionScale(c), window: c.slidingWindow,
                                 probabilities: p.keepsProbabilities ? UnsafePointer(s.probabilities) : nil)
        unprepareQKV(b.dqkv, raw: s.qkv, context: p, config: c)
        // A trained attention norm needs the gradient at its output even when nothing below trains.
        let attentionNormGradient = normGradients.attention
        qkv.backward(dy: b.dqkv, x: s.attentionNormed, rows: N, dx: needsInputGradient || attentionNormGradient != nil ? b.dNormed : nil,
                     tape: s.qkvTape, scratch: b.linear, passSeed: p.seed)
        if needsInputGradient { attentionNorm.backward(b.dx, b.dNormed, s.input, rows: N, C: C) }
        if let g = attentionNormGradient { attentionNorm.parameterGradient(g, b.dNormed, s.input, rows: N, C: C) }
    }

    private func attentionScale(_ c: ModelConfig) -> Float { 1 / Float(c.headDim).squareRoot() }

    /// The gradient at a projection's output that goes into the residual stream, `b.dx`, as its
    /// backward may take it: a copy when DoRA scales it in place (`b.dx` is still needed after).
    private func outputGradient(_ projection: Linear, _ b: PassBuffers, count: Int) -> UnsafeMutablePointer<Float> {
        guard projection.adapters.contains(where: { $0.doraScale != nil }) else { return b.dx }
        parallelCopy(b.dTemp, from: b.dx, count: count)
        return b.dTemp
    }

    /// The MLP's activation of the up projection: act(gate) · up, or act(x).
    private func activate(_ gateUp: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows N: Int, config c: ModelConfig) {
        if c.gatedMLP {
            Activations.gatedForward(c.activation, out, gateUp, rows: N, intermediate: c.intermediateSize)
        } else {
            out.update(from: gateUp, count: N * c.intermediateSize)
            Activations.forward(c.activation, out, count: N * c.intermediateSize)
        }
    }

    /// q|k|v rows as attention takes them: Qwen3's per-head norms of q and k, then RoPE at each
    /// row's position; in place when `roped` is `raw` (no q/k norms).
    private func prepareQKV(_ raw: UnsafePointer<Float>, into roped: UnsafeMutablePointer<Float>, context p: PassContext, config c: ModelConfig) {
        let (H, KV, hd) = (c.headCount, c.kvHeadCount, c.headDim)
        let Q = H * hd, stride = Q + 2 * KV * hd
        let rotaryDim = c.rope?.rotaryDim ?? 0
        let half = rotaryDim / 2
        let eps = Float(c.normEps)
        assert(roped != raw || qNorm == nil, "q/k norms need the raw projection kept apart")
        let jobs = p.rows >= 64 ? Parallel.coreCount : 1
        SpinPool.shared.run(jobs: jobs) { job in
            let (lo, hi) = (p.rows * job / jobs, p.rows * (job + 1) / jobs)
            if roped != raw { (roped + lo * stride).update(from: raw + lo * stride, count: (hi - lo) * stride) }
            for t in lo..<hi {
                let q = roped + t * stride, k = q + Q
                if let qNorm, let kNorm {
                    rmsNormRows(q, q, qNorm, from: 0, to: H, C: hd, eps: eps, offset: 0)
                    rmsNormRows(k, k, kNorm, from: 0, to: KV, C: hd, eps: eps, offset: 0)
                }
                if rotaryDim > 0 {
                    ropeForward(q, heads: H, headDim: hd, rotaryDim: rotaryDim, cos: p.cos + t * half, sin: p.sin + t * half)
                    ropeForward(k, heads: KV, headDim: hd, rotaryDim: rotaryDim, cos: p.cos + t * half, sin: p.sin + t * half)
                }
            }
        }
    }

    /// The gradient of `prepareQKV`, in place on `d` (the v part passes through); with q/k norms
    /// trained in full, their weights' gradients too.
    private func unprepareQKV(_ d: UnsafeMutablePointer<Float>, raw: UnsafePointer<Float>, context p: PassContext, config c: ModelConfig) {
        let (H, KV, hd) = (c.headCount, c.kvHeadCount, c.headDim)
        let Q = H * hd, stride = Q + 2 * KV * hd
        let rotaryDim = c.rope?.rotaryDim ?? 0
        let half = rotaryDim / 2
        let eps = Float(c.normEps)
        let jobs = p.rows >= 64 ? Parallel.coreCount : 1
        // Trained q/k norms: each job sums its rows' weight gradients (q's hd, then k's) apart.
        let (queryGradient, keyGradient) = (normGradients.query, normGradients.key)
        let partial: UnsafeMutablePointer<Float>? = queryGradient != nil || keyGradient != nil ? .allocate(capacity: jobs * 2 * hd) : nil
        partial?.initialize(repeating: 0, count: jobs * 2 * hd)
        defer { partial?.deallocate() }
        SpinPool.shared.run(jobs: jobs) { job in
            let temp = UnsafeMutablePointer<Float>.allocate(capacity: Q)
            defer { temp.deallocate() }
            for t in (p.rows * job / jobs)..<(p.rows * (job + 1) / jobs) {
                let dq = d + t * stride, dk = dq + Q
                if rotaryDim > 0 {
                    ropeBackward(dq, heads: H, headDim: hd, rotaryDim: rotaryDim, cos: p.cos + t * half, sin: p.sin + t * half)
                    ropeBackward(dk, heads: KV, headDim: hd, rotaryDim: rotaryDim, cos: p.cos + t * half, sin: p.sin + t * half)
                }
                if let qNorm, let kNorm {
                    let q = raw + t * stride, k = q + Q
                    if let partial {
                        rmsNormWeightGradient(partial + job * 2 * hd, dq, q, rows: H, C: hd, eps: eps)
                        rmsNormWeightGradient(partial + job * 2 * hd + hd, dk, k, rows: KV, C: hd, eps: eps)
                    }
                    for (dv, v, w, heads) in [(dq, q, qNorm, H), (dk, k, kNorm, KV)] {
                        temp.update(repeating: 0, count: heads * hd)
                        rmsNormRowsBackward(temp, dv, v, w, rows: heads, C: hd, eps: eps)
                        dv.update(from: temp, count: heads * hd)
                    }
                }
            }
        }
        if let partial {
            for job in 0..<jobs {
                if let g = queryGradient { add(g, partial + job * 2 * hd, count: hd) }
                if let g = keyGradient { add(g, partial + job * 2 * hd + hd, count: hd) }
            }
        }
    }
}
