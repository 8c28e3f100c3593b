import Dispatch
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
    let jobs = min(Parallel.coreCount, H)
    if T == 1 {
        // Decoding: a dot product per cached position, split over heads.
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: S)
            defer { scores.deallocate() }
            var h = job
            while h < H {
                let kv = h / group
                let qh = q + h * hd
                let first = window.map { max(0, S - $0) } ?? 0
                var maxScore = -Float.infinity
                for s in first..<S {
                    let v = dot(qh, keys + (s * KV + kv) * hd, hd) * scale
                    scores[s] = v
                    maxScore = max(maxScore, v)
                }
                var sum: Float = 0
                for s in first..<S { scores[s] = expf(scores[s] - maxScore); sum += scores[s] }
                let o = out + h * hd
                for i in 0..<hd { o[i] = 0 }
                let inv = 1 / sum
                for s in first..<S {
                    let p = scores[s] * inv
                    let vs = values + (s * KV + kv) * hd
                    for i in 0..<hd { o[i] += p * vs[i] }
                }
                h += jobs
            }
        }
        return
    }
    // Prompts: per head, scores = Q Kᵀ and out = P V with BLAS, heads split over the cores.
    BLAS.singleThreaded {
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
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

/// In-place softmax of row[from..<to]; the rest of the row (0..<length) is set to 0.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, from: Int, to: Int, length: Int) {
    var maxValue = -Float.infinity
    for j in from..<to { maxValue = max(maxValue, row[j]) }
    var sum: Float = 0
    for j in from..<to { let e = expf(row[j] - maxValue); row[j] = e; sum += e }
    let inv = 1 / sum
    for j in 0..<from { row[j] = 0 }
    for j in from..<to { row[j] *= inv }
    for j in to..<length { row[j] = 0 }
}
