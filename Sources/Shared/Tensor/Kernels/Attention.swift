import Foundation

/// Causal softmax attention of T new queries against the key/value cache, GQA-aware: query head h
/// reads key/value head h / (H / KV). Scores are scaled by `scale` (1/√hd), masked to the causal
/// window (and to `window` positions with sliding-window attention), soft-maxed in float32 and
/// applied to the values.
///
/// - Parameters:
///   - out: (T, H, hd); q: (T, H, hd) for positions start..<start+T;
///   - keys, values: (S, KV, hd) with S ≥ start + T, positions 0..<start+T filled.
public func attentionForward(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                             values: UnsafePointer<Float>, T: Int, start: Int, H: Int, KV: Int, hd: Int, scale: Float,
                             window: Int? = nil) {
    let S = start + T
    let group = H / KV
    if T == 1 {
        decodeAttention(out, q: q, keys: keys, values: values, S: S, H: H, KV: KV, hd: hd, scale: scale, window: window)
        return
    }
    // Prompts: per head, scores = Q Kᵀ and out = P V with BLAS, heads split over the cores of lf's
    // pool (Dispatch's threads ran beside a pool worker still spinning after the products before).
    let jobs = min(Parallel.coreCount, H)
    BLAS.singleThreaded {
        SpinPool.shared.run(jobs: jobs) { job in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: T * S)
            defer { scores.deallocate() }
            var h = job
            while h < H {
                let kv = h / group
                BLAS.gemm(transB: true, m: T, n: S, k: hd, alpha: scale, a: q + h * hd, lda: H * hd,
                          b: keys + kv * hd, ldb: KV * hd, c: scores, ldc: S)
                for t in 0..<T {
                    let row = scores + t * S
                    let position = start + t
                    let first = window.map { max(0, position + 1 - $0) } ?? 0
                    softmaxRow(row, from: first, to: position + 1, length: S)
                }
                BLAS.gemm(m: T, n: hd, k: S, a: scores, lda: S, b: values + kv * hd, ldb: KV * hd,
                          c: out + h * hd, ldc: H * hd)
                h += jobs
            }
        }
    }
}

/// One query position against the cache, split over the cores by positions (each core covers a
/// range of cached positions for every head, with its own running max and sum; the parts are
/// merged at the end, as flash-decoding does). The query heads that share a key/value head are
/// handled together, up to four at a time: each cached key and value is loaded once for all of
/// them, and the value sums stay in registers (one 8-wide chunk of the head at a time).
func decodeAttention(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
                     values: UnsafePointer<Float>, S: Int, H: Int, KV: Int, hd: Int, scale: Float, window: Int?) {
    let first = window.map { max(0, S - $0) } ?? 0
    let n = S - first
    let group = H / KV
    let jobs = n >= 128 ? Parallel.coreCount : 1
    let stride = KV * hd
    // Per job: partial outputs (H, hd), maxima (H) and sums (H).
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: jobs * H * (hd + 2))
    defer { partial.deallocate() }
    SpinPool.shared.run(jobs: jobs) { job in
        let lo = first + n * job / jobs, hi = first + n * (job + 1) / jobs
        let m = hi - lo
        let base = partial + job * H * (hd + 2)
        let outs = base, maxima = base + H * hd, sums = maxima + H
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(1, 4 * m))
        defer { scores.deallocate() }
        for kv in 0..<KV {
            var g0 = 0
            while g0 < group {
                let width = min(4, group - g0)
                let h0 = kv * group + g0
                // Unused lanes repeat the first head; their results are not stored.
                let q0 = q + h0 * hd
                let q1 = q + (h0 + min(1, width - 1)) * hd, q2 = q + (h0 + min(2, width - 1)) * hd
                let q3 = q + (h0 + min(3, width - 1)) * hd
                let k0 = keys + lo * stride + kv * hd
                for s in 0..<m {
                    let k = UnsafeRawPointer(k0 + s * stride)
                    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                    var c = 0
                    while c + 8 <= hd {
                        let kc = k.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                        a0.addProduct(UnsafeRawPointer(q0 + c).loadUnaligned(as: SIMD8<Float>.self), kc)
                        a1.addProduct(UnsafeRawPointer(q1 + c).loadUnaligned(as: SIMD8<Float>.self), kc)
                        a2.addProduct(UnsafeRawPointer(q2 + c).loadUnaligned(as: SIMD8<Float>.self), kc)
                        a3.addProduct(UnsafeRawPointer(q3 + c).loadUnaligned(as: SIMD8<Float>.self), kc)
                        c += 8
                    }
                    var d0 = a0.sum(), d1 = a1.sum(), d2 = a2.sum(), d3 = a3.sum()
                    let kp = k0 + s * stride
                    while c < hd { d0 += q0[c] * kp[c]; d1 += q1[c] * kp[c]; d2 += q2[c] * kp[c]; d3 += q3[c] * kp[c]; c += 1 }
                    scores[s] = d0 * scale; scores[m + s] = d1 * scale; scores[2 * m + s] = d2 * scale; scores[3 * m + s] = d3 * scale
                }
                for g in 0..<width {
                    let row = scores + g * m
                    let mx = m > 0 ? maxValue(row, m) : -.infinity
                    maxima[h0 + g] = mx
                    sums[h0 + g] = m > 0 ? expAndSum(row, m, shift: mx) : 0
                }
                // Σ p·v, one 8-wide chunk of the head at a time with the sums in registers.
                let v0 = values + lo * stride + kv * hd
                var c = 0
                while c + 8 <= hd {
                    var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
                    for s in 0..<m {
                        let vc = UnsafeRawPointer(v0 + s * stride + c).loadUnaligned(as: SIMD8<Float>.self)
                        o0.addProduct(SIMD8(repeating: scores[s]), vc)
                        o1.addProduct(SIMD8(repeating: scores[m + s]), vc)
                        o2.addProduct(SIMD8(repeating: scores[2 * m + s]), vc)
                        o3.addProduct(SIMD8(repeating: scores[3 * m + s]), vc)
                    }
                    for g in 0..<width {
                        let o = g == 0 ? o0 : g == 1 ? o1 : g == 2 ? o2 : o3
                        UnsafeMutableRawPointer(outs + (h0 + g) * hd + c).storeBytes(of: o, as: SIMD8<Float>.self)
                    }
                    c += 8
                }
                while c < hd {
                    for g in 0..<width {
                        var acc: Float = 0
                        for s in 0..<m { acc += scores[g * m + s] * v0[s * stride + c] }
                        outs[(h0 + g) * hd + c] = acc
                    }
                    c += 1
                }
                g0 += width
            }
        }
    }
    for h in 0..<H {
        var mx = -Float.infinity
        for j in 0..<jobs { mx = max(mx, partial[j * H * (hd + 2) + H * hd + h]) }
        var total: Float = 0
        let o = out + h * hd
        for i in 0..<hd { o[i] = 0 }
        for j in 0..<jobs {
            let base = partial + j * H * (hd + 2)
            let sum = base[H * hd + H + h]
            guard sum > 0 else { continue }
            let w = expf(base[H * hd + h] - mx)
            total += w * sum
            axpy(w, base + h * hd, o, hd)
        }
        let inv = 1 / total
        for i in 0..<hd { o[i] *= inv }
    }
}

/// y += a · x over n values.
@inline(__always)
func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    while i + 8 <= n {
        var v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        v.addProduct(av, rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += a * x[i]; i += 1 }
}

/// In-place softmax of row[from..<to]; the rest of the row (0..<length) is set to 0.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, from: Int, to: Int, length: Int) {
    let top = maxValue(row + from, to - from)
    let sum = expAndSum(row + from, to - from, shift: top)
    let inv = 1 / sum
    for j in 0..<from { row[j] = 0 }
    for j in from..<to { row[j] *= inv }
    for j in to..<length { row[j] = 0 }
}
