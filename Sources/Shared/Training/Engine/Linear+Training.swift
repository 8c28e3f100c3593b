/// The training forward and backward of a linear layer with LoRA slices: the frozen W gets no
/// gradient, only the input (when asked) and each slice's A, B (and DoRA's m).
extension Linear {
    /// y = x·Wᵀ + Σ slices (+ bias), as `forward`, plus adapter dropout (its mask a function of
    /// `passSeed`) and DoRA's pre-scale output kept in `tape`.
    func trainingForward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                         tape: LinearTape, scratch: LinearScratch, passSeed: UInt64) {
        let O = outFeatures
        let stacked = dropoutActive(scratch) ? nil : stackedA
        tape.hasT = stacked != nil
        if let stacked {
            // t = x·Aᵀ for every slice at once (rows, Σr), kept for the backward pass.
            let t = tape.tBuffer(count: rows * stacked.rank)
            BLAS.parallelGemm(transB: true, m: rows, n: stacked.rank, k: inFeatures, a: x, b: stacked.values, c: t)
            if lowRankFirst {
                // y = s·t·Bᵀ per slice (zero where no slice writes), then y += x·Wᵀ: see LowRankProduct.
                writeSliceOutputs(t, ldt: stacked.rank, rows: rows, into: y, scratch: scratch)
                baseProduct(x, rows: rows, into: y, scratch: scratch.weights, adding: true)
                addBias(y, rows: rows)
                return
            }
        }
        baseProduct(x, rows: rows, into: y, scratch: scratch.weights)
        var offset = 0
        for (index, l) in adapters.enumerated() {
            let t: UnsafePointer<Float>, ldt: Int
            var input = x
            if let stacked, let saved = tape.t {
                (t, ldt) = (UnsafePointer(saved + offset), stacked.rank)
            } else {
                input = adapterInput(l, x, rows: rows, scratch: scratch, passSeed: passSeed)
                let own = scratch.t.reserve(rows * l.rank)
                BLAS.parallelGemm(transB: true, m: rows, n: l.rank, k: l.inFeatures, a: input, b: l.a, c: own)
                (t, ldt) = (UnsafePointer(own), l.rank)
            }
            offset += l.rank
            let block = y + l.rowOffset
            if let d = l.doraScale, doraDropout(l, scratch) {
                // PEFT's DoRA under dropout: y = Wx + (d − 1) ⊙ W·x̃ + d ⊙ s·BA·x̃ (x̃ the dropped
                // input); the magnitude multiplies pre = W·x̃ + s·BA·x̃.
                let pre = tape.buffer(index, count: rows * l.rows)
                withWeightRows(l.rowOffset, l.rows, scratch: scratch.weights) { w in
                    BLAS.parallelGemm(transB: true, m: rows, n: l.rows, k: inFeatures, a: input, b: w, c: pre)
                }
                for r in 0..<rows {
                    let yr = block + r * O, pr = pre + r * l.rows
                    for o in 0..<l.rows { yr[o] += (d[o] - 1) * pr[o] }
                }
                BLAS.parallelGemm(transB: true, m: rows, n: l.rows, k: l.rank, alpha: l.scale, a: t, lda: ldt, b: l.b, beta: 1, c: pre)
                // d ⊙ (s·t·Bᵀ) = s·t·(d ⊙ B)ᵀ: B's rows scaled by d.
                let scaledB = scratch.scaled.reserve(l.rows * l.rank)
                for o in 0..<l.rows {
                    for j in 0..<l.rank { scaledB[o * l.rank + j] = d[o] * l.b[o * l.rank + j] }
                }
                BLAS.parallelGemm(transB: true, m: rows, n: l.rows, k: l.rank, alpha: l.scale, a: t, lda: ldt, b: scaledB, beta: 1,
                                  c: block, ldc: O)
                continue
            }
            BLAS.parallelGemm(transB: true, m: rows, n: l.rows, k: l.rank, alpha: l.scale, a: t, lda: ldt, b: l.b, beta: 1, c: block, ldc: O)
            if let d = l.doraScale {
                let pre = tape.buffer(index, count: rows * l.rows)
                for r in 0..<rows {
                    let yr = block + r * O, pr = pre + r * l.rows
                    for o in 0..<l.rows {
                        pr[o] = yr[o]
                        yr[o] *= d[o]
                    }
                }
            }
        }
        addBias(y, rows: rows)
    }

    /// Backpropagates `dy` (rows, out; scaled in place where DoRA scales the output): adds the
    /// slices' gradients and, when `dx` is given, writes dL/dx (rows, in) into it.
    func backward(dy: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>?,
                  tape: LinearTape, scratch: LinearScratch, passSeed: UInt64) {
        let (O, I) = (outFeatures, inFeatures)
        // DoRA first: y = d ⊙ pre with d = m / ‖W + sBA‖ (the norm a constant), so
        // dm = Σ_rows dy ⊙ pre / norm, and everything below sees d ⊙ dy.
        for (index, l) in adapters.enumerated() {
            guard let d = l.doraScale, let norm = l.weightNorm else { continue }
            let pre = tape.preScale[index]!
            let block = dy + l.rowOffset
            if let dm = l.gradients?.magnitude {
                for r in 0..<rows {
                    let dyr = block + r * O, pr = pre + r * l.rows
                    for o in 0..<l.rows { dm[o] += dyr[o] * pr[o] / norm[o] }
                }
            }
            // Under dropout the base product sees dy itself: scaled below, after it.
            if doraDropout(l, scratch) { continue }
            for r in 0..<rows {
                let dyr = block + r * O
                for o in 0..<l.rows { dyr[o] *= d[o] }
            }
        }
        // The stacked path without DoRA writes dx = dt·A first and adds dy·W onto it (below).
        let stacked = dropoutActive(scratch) ? nil : stackedA
        let adapterFirst = lowRankFirst && stacked?.gradients != nil
        if let dx, !adapterFirst { inputGradient(dy, rows: rows, into: dx, scratch: scratch.weights) }
        // DoRA under dropout: dx += ((d − 1) ⊙ dy)·W_slice ⊙ mask; the LoRA path then sees d ⊙ dy.
        for l in adapters where l.doraScale != nil && doraDropout(l, scratch) {
            let d = l.doraScale!, block = dy + l.rowOffset
            if let dx {
                _ = adapterInput(l, x, rows: rows, scratch: scratch, passSeed: passSeed)  // the slice's mask
                let e = scratch.scaled.reserve(rows * l.rows)
                for r in 0..<rows {
                    let dyr = block + r * O, er = e + r * l.rows
                    for o in 0..<l.rows { er[o] = (d[o] - 1) * dyr[o] }
                }
                let through = scratch.dropped.reserve(rows * I)
                withWeightRows(l.rowOffset, l.rows, scratch: scratch.weights) { w in
                    BLAS.parallelGemm(m: rows, n: I, k: l.rows, a: e, b: w, c: through)
                }
                let mask = scratch.mask.pointer
                for i in 0..<(rows * I) { dx[i] += through[i] * mask[i] }
            }
            for r in 0..<rows {
                let dyr = block + r * O
                for o in 0..<l.rows { dyr[o] *= d[o] }
            }
        }
        if let stacked, let dA = stacked.gradients {
            // Every slice at once: t (saved, or recomputed), dB and dt per slice, then
            // dA (Σr, in) += dtᵀ x and dx's dt · A in one product each.
            let R = stacked.rank
            let t: UnsafeMutablePointer<Float>
            if tape.hasT, let saved = tape.t {
                t = saved
            } else {
                t = tape.tBuffer(count: rows * R)
                BLAS.parallelGemm(transB: true, m: rows, n: R, k: I, a: x, b: stacked.values, c: t)
            }
            // dB (out, r) += s · dy_blockᵀ t and dtᵀ (Σr, rows) = s · Bᵀ dy_blockᵀ, per slice: in one
            // pass over dy for ranks in whole vectors (LoRAOutputGradient, see there why); others
            // by OpenBLAS, dB made transposed: products with 16 columns run at a fraction of the
            // speed of those with 16 rows (`lf-bench sgemm 2048 16 576 NN` against `16 2048 576 TT`).
            let dtT = scratch.dt.reserve(R * rows)
            var offset = 0
            for l in adapters {
                let block = dy + l.rowOffset, dB = l.gradients!.b
                if LoRAOutputGradient.takes(l.rank) {
                    LoRAOutputGradient.multiply(rows: rows, out: l.rows, rank: l.rank, alpha: l.scale, dy: block, ldy: O, b: l.b,
                                                t: t + offset, ldt: R, dB: dB, dtT: dtT + offset * rows, ldDt: rows,
                                                partial: scratch.partialB)
                } else {
                    outputGradientByBLAS(l, block, rows: rows, t: t + offset, ldt: R, dtT: dtT + offset * rows, scratch: scratch)
                }
                offset += l.rank
            }
            BLAS.parallelGemm(m: R, n: I, k: rows, a: dtT, b: x, beta: 1, c: dA)
            if let dx, adapterFirst {
                // dx = dt·A, then dx += dy·W.
                LowRankProduct.write(rows: rows, n: I, k: R, alpha: 1, t: dtT, rowStride: 1, columnStride: rows,
                                     m: stacked.values, ldm: I, out: dx, ldo: I)
                inputGradient(dy, rows: rows, into: dx, scratch: scratch.weights, adding: true)
            } else if let dx {
                BLAS.parallelGemm(transA: true, m: rows, n: I, k: R, a: dtT, lda: rows, b: stacked.values, beta: 1, c: dx)
            }
            return
        }
        for l in adapters {
            guard let g = l.gradients else { continue }
            let input = adapterInput(l, x, rows: rows, scratch: scratch, passSeed: passSeed)
            let t = scratch.t.reserve(rows * l.rank), dtT = scratch.dt.reserve(l.rank * rows)
            let block = dy + l.rowOffset
            BLAS.parallelGemm(transB: true, m: rows, n: l.rank, k: I, a: input, b: l.a, c: t)
            // dB += s · dyᵀ t;  dtᵀ = s · (dy B)ᵀ;  dA += dtᵀ input
            if LoRAOutputGradient.takes(l.rank) {
                LoRAOutputGradient.multiply(rows: rows, out: l.rows, rank: l.rank, alpha: l.scale, dy: block, ldy: O, b: l.b, t: t,
                                            ldt: l.rank, dB: g.b, dtT: dtT, ldDt: rows, partial: scratch.partialB)
            } else {
                outputGradientByBLAS(l, block, rows: rows, t: t, ldt: l.rank, dtT: dtT, scratch: scratch)
            }
            BLAS.parallelGemm(m: l.rank, n: I, k: rows, a: dtT, b: input, beta: 1, c: g.a)
            guard let dx else { continue }
            if l.dropout > 0, scratch.dropoutEnabled {
                // dx += (dt A) ⊙ mask; the mask is still in scratch from adapterInput.
                let through = scratch.dropped.reserve(rows * I)
                BLAS.parallelGemm(transA: true, m: rows, n: I, k: l.rank, a: dtT, lda: rows, b: l.a, c: through)
                let mask = scratch.mask.pointer
                for i in 0..<(rows * I) { dx[i] += through[i] * mask[i] }
            } else {
                BLAS.parallelGemm(transA: true, m: rows, n: I, k: l.rank, a: dtT, lda: rows, b: l.a, beta: 1, c: dx)
            }
        }
    }

    /// dB (out, r) += s · dy_blockᵀ t and dtᵀ (r, rows) = s · Bᵀ dy_blockᵀ by OpenBLAS, for ranks
    /// LoRAOutputGradient does not take.
    private func outputGradientByBLAS(_ l: LoRASlice, _ block: UnsafePointer<Float>, rows: Int, t: UnsafePointer<Float>, ldt: Int,
                                      dtT: UnsafeMutablePointer<Float>, scratch: LinearScratch) {
        let O = outFeatures, dB = l.gradients!.b
        let dBT = scratch.transposedB.reserve(l.rank * l.rows)
        BLAS.parallelGemm(transA: true, m: l.rank, n: l.rows, k: rows, alpha: l.scale, a: t, lda: ldt, b: block, ldb: O, c: dBT)
        for o in 0..<l.rows {
            for j in 0..<l.rank { dB[o * l.rank + j] += dBT[j * l.rows + o] }
        }
        BLAS.parallelGemm(transA: true, transB: true, m: l.rank, n: rows, k: l.rows, alpha: l.scale, a: l.b, lda: l.rank,
                          b: block, ldb: O, c: dtT, ldc: rows)
    }

    /// The slices' A matrices as one (Σr, in) matrix, with their gradients, when they lie back to
    /// back in memory (`TrainableAdapter` stacks them); nil otherwise.
    var stackedA: (values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>?, rank: Int)? {
        guard let first = adapters.first else { return nil }
        var rank = 0
        for l in adapters {
            guard l.a == first.a + rank * inFeatures else { return nil }
            if let g = first.gradients?.a, l.gradients?.a != g + rank * inFeatures { return nil }
            rank += l.rank
        }
        return (first.a, first.gradients?.a, rank)
    }

    /// Whether slice `l` takes PEFT's DoRA-with-dropout path in this pass.
    private func doraDropout(_ l: LoRASlice, _ scratch: LinearScratch) -> Bool {
        l.doraScale != nil && l.dropout > 0 && scratch.dropoutEnabled
    }

    /// Dropout gives each slice its own input, so their products cannot be stacked.
    private func dropoutActive(_ scratch: LinearScratch) -> Bool {
        scratch.dropoutEnabled && adapters.contains { $0.dropout > 0 }
    }

    /// dx = dy · W (rows, in), or dx += dy · W when `adding`, widening W block by block when it
    /// is not float32.
    func inputGradient(_ dy: UnsafePointer<Float>, rows: Int, into dx: UnsafeMutablePointer<Float>, scratch: ScratchBuffer,
                       adding: Bool = false) {
        let (O, I) = (outFeatures, inFeatures)
        forEachWeightBlock(scratch: scratch) { o, n, w in
            BLAS.parallelGemm(m: rows, n: I, k: n, a: dy + o, lda: O, b: w, beta: o == 0 && !adding ? 0 : 1, c: dx)
        }
    }

    /// Whether the adapters' products are written before the frozen ones, which then add onto
    /// them (LowRankProduct): no slice with DoRA, whose scaling needs the frozen product apart.
    /// The callers take this path only for stacked slices (no dropout).
    private var lowRankFirst: Bool {
        !adapters.isEmpty && adapters.allSatisfy { $0.doraScale == nil }
    }

    /// y = s·t·Bᵀ in each slice's columns and 0 in the columns no slice has.
    private func writeSliceOutputs(_ t: UnsafePointer<Float>, ldt: Int, rows: Int, into y: UnsafeMutablePointer<Float>,
                                   scratch: LinearScratch) {
        let O = outFeatures
        var offset = 0
        var covered = [(start: Int, end: Int)]()
        for l in adapters {
            // Bᵀ (r × rows of the slice), so that LowRankProduct reads its rows whole.
            let bT = scratch.transposedB.reserve(l.rank * l.rows)
            for o in 0..<l.rows {
                for j in 0..<l.rank { bT[j * l.rows + o] = l.b[o * l.rank + j] }
            }
            LowRankProduct.write(rows: rows, n: l.rows, k: l.rank, alpha: l.scale, t: t + offset, rowStride: ldt, columnStride: 1,
                                 m: bT, ldm: l.rows, out: y + l.rowOffset, ldo: O)
            covered.append((l.rowOffset, l.rowOffset + l.rows))
            offset += l.rank
        }
        var column = 0
        for range in covered.sorted(by: { $0.start < $1.start }) + [(O, O)] {
            if range.start > column {
                for r in 0..<rows { (y + r * O + column).update(repeating: 0, count: range.start - column) }
            }
            column = max(column, range.end)
        }
    }

    /// The input a slice sees: x, or x with the slice's dropout mask applied (the mask is left in
    /// `scratch.mask` for the backward pass).
    private func adapterInput(_ l: LoRASlice, _ x: UnsafePointer<Float>, rows: Int, scratch: LinearScratch,
                              passSeed: UInt64) -> UnsafePointer<Float> {
        guard l.dropout > 0, scratch.dropoutEnabled else { return x }
        let n = rows * inFeatures
        let mask = scratch.mask.reserve(n), dropped = scratch.dropped.reserve(n)
        Dropout.mask(mask, count: n, p: l.dropout, seed: Dropout.seed(pass: passSeed, slice: l.name))
        for i in 0..<n { dropped[i] = x[i] * mask[i] }
        return UnsafePointer(dropped)
    }
}
