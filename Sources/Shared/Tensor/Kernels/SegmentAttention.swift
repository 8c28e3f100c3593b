import Dispatch
import Foundation
import Synchronization

/// A run of rows that attend to each other causally: one document of a (packed) training sequence.
/// Rows of different segments never attend to each other.
public struct AttentionSegment: Sendable, Equatable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }
}

/// Causal softmax attention for training, over the rows of a q|k|v matrix, segment by segment.
/// Besides the output it keeps each row's log-sum-exp per head, from which the backward pass
/// recomputes the probabilities instead of storing T² of them.
///
/// - Parameters:
///   - out: (N, H·hd); lse: (N, H);
///   - qkv: (N, H·hd + 2·KV·hd) rows q | k | v (after RoPE);
///   - window: sliding-window attention (a row sees itself and the `window − 1` before it).
public func segmentAttentionForward(_ out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                                    segments: [AttentionSegment], H: Int, KV: Int, hd: Int, scale: Float, window: Int? = nil) {
    let Q = H * hd, K = KV * hd, stride = Q + 2 * K
    let group = H / KV
    forEachSegmentAndKVHead(segments, KV: KV, buffers: 1) { segment, kv, scratch in
        let L = segment.count
        let scores = scratch[0]
        let base = qkv + segment.start * stride
        let keys = base + Q + kv * hd, values = base + Q + K + kv * hd
        for h in (kv * group)..<((kv + 1) * group) {
            BLAS.gemm(transB: true, m: L, n: L, k: hd, alpha: scale, a: base + h * hd, lda: stride, b: keys, ldb: stride, c: scores, ldc: L)
            for i in 0..<L {
                let row = scores + i * L
                let first = window.map { max(0, i + 1 - $0) } ?? 0
                let top = maxValue(row + first, i + 1 - first)
                let sum = expAndSum(row + first, i + 1 - first, shift: top)
                let inverse = 1 / sum
                for j in 0..<first { row[j] = 0 }
                for j in first...i { row[j] *= inverse }
                for j in (i + 1)..<L { row[j] = 0 }
                lse[(segment.start + i) * H + h] = top + logf(sum)
            }
            BLAS.gemm(m: L, n: hd, k: L, a: scores, lda: L, b: values, ldb: stride, c: out + segment.start * Q + h * hd, ldc: Q)
        }
    }
}

/// The gradient of `segmentAttentionForward` with respect to q, k and v, written into `dqkv`
/// (same layout as `qkv`; every value of it is overwritten). With P recomputed from the saved
/// log-sum-exp, per head: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)),
/// dQ = scale · dS K, dK = scale · dSᵀ Q; the query heads sharing a key/value head add up.
public func segmentAttentionBackward(_ dqkv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
                                     lse: UnsafePointer<Float>, qkv: UnsafePointer<Float>, segments: [AttentionSegment],
                                     H: Int, KV: Int, hd: Int, scale: Float, window: Int? = nil) {
    let Q = H * hd, K = KV * hd, stride = Q + 2 * K
    let group = H / KV
    forEachSegmentAndKVHead(segments, KV: KV, buffers: 2) { segment, kv, scratch in
        let L = segment.count
        let p = scratch[0], dp = scratch[1]
        let base = qkv + segment.start * stride, dBase = dqkv + segment.start * stride
        let keys = base + Q + kv * hd, values = base + Q + K + kv * hd
        let dKeys = dBase + Q + kv * hd, dValues = dBase + Q + K + kv * hd
        for (index, h) in ((kv * group)..<((kv + 1) * group)).enumerated() {
            let queries = base + h * hd
            let dO = dOut + segment.start * Q + h * hd, o = out + segment.start * Q + h * hd
            // P, recomputed.
            BLAS.gemm(transB: true, m: L, n: L, k: hd, alpha: scale, a: queries, lda: stride, b: keys, ldb: stride, c: p, ldc: L)
            for i in 0..<L {
                let row = p + i * L
                let first = window.map { max(0, i + 1 - $0) } ?? 0
                let shift = lse[(segment.start + i) * H + h]
                _ = expAndSum(row + first, i + 1 - first, shift: shift)
                for j in 0..<first { row[j] = 0 }
                for j in (i + 1)..<L { row[j] = 0 }
            }
            let accumulate: Float = index == 0 ? 0 : 1
            // dV (+)= Pᵀ dO
            BLAS.gemm(transA: true, m: L, n: hd, k: L, a: p, lda: L, b: dO, ldb: Q, beta: accumulate, c: dValues, ldc: stride)
            // dP = dO Vᵀ, then dS = P ⊙ (dP − D) in place.
            BLAS.gemm(transB: true, m: L, n: L, k: hd, a: dO, lda: Q, b: values, ldb: stride, c: dp, ldc: L)
            for i in 0..<L {
                let d = dot(dO + i * Q, o + i * Q, hd)
                let pr = p + i * L, dpr = dp + i * L
                for j in 0...i { dpr[j] = pr[j] * (dpr[j] - d) }
                for j in (i + 1)..<L { dpr[j] = 0 }
            }
            // dQ = scale · dS K;  dK (+)= scale · dSᵀ Q
            BLAS.gemm(m: L, n: hd, k: L, alpha: scale, a: dp, lda: L, b: keys, ldb: stride, c: dBase + h * hd, ldc: stride)
            BLAS.gemm(transA: true, m: L, n: hd, k: L, alpha: scale, a: dp, lda: L, b: queries, ldb: stride,
                      beta: accumulate, c: dKeys, ldc: stride)
        }
    }
}

/// Runs `body(segment, kvHead, scratch)` for every (segment, key/value head) pair on all cores,
/// longest segments first, with OpenBLAS single-threaded inside; `scratch` holds `buffers`
/// per-thread buffers of L² floats for the longest segment.
func forEachSegmentAndKVHead(_ segments: [AttentionSegment], KV: Int, buffers: Int,
                             _ body: (AttentionSegment, Int, [UnsafeMutablePointer<Float>]) -> Void) {
    let order = segments.filter { $0.count > 0 }.sorted { $0.count > $1.count }
    guard let longest = order.first?.count else { return }
    let jobCount = order.count * KV
    let threads = min(Parallel.coreCount, jobCount)
    let next = Atomic<Int>(0)
    BLAS.singleThreaded {
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let scratch = (0..<buffers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: longest * longest) }
            defer { for b in scratch { b.deallocate() } }
            while true {
                let job = next.add(1, ordering: .relaxed).oldValue
                guard job < jobCount else { break }
                body(order[job / KV], job % KV, scratch)
            }
        }
    }
}
