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
            // Causal: a block of query rows needs only the keys up to its last row (and, with a
            // window, from its first row's window start), so the products skip the upper triangle.
            for (i0, i1) in causalBlocks(L) {
                let j0 = window.map { max(0, i0 + 1 - $0) } ?? 0
                let n = i1 - j0, ldc = n
                BLAS.gemm(transB: true, m: i1 - i0, n: n, k: hd, alpha: scale, a: base + i0 * stride + h * hd, lda: stride,
                          b: keys + j0 * stride, ldb: stride, c: scores, ldc: ldc)
                for i in i0..<i1 {
                    let row = scores + (i - i0) * ldc
                    let first = (window.map { max(0, i + 1 - $0) } ?? 0) - j0
                    let last = i - j0  // inclusive
                    let top = maxValue(row + first, last + 1 - first)
                    let sum = expAndSum(row + first, last + 1 - first, shift: top)
                    let inverse = 1 / sum
                    for j in 0..<first { row[j] = 0 }
                    for j in first...last { row[j] *= inverse }
                    for j in (last + 1)..<n { row[j] = 0 }
                    lse[(segment.start + i) * H + h] = top + logf(sum)
                }
                BLAS.gemm(m: i1 - i0, n: hd, k: n, a: scores, lda: ldc, b: values + j0 * stride, ldb: stride,
                          c: out + (segment.start + i0) * Q + h * hd, ldc: Q)
            }
        }
    }
}

/// The gradient of `segmentAttentionForward` with respect to q, k and v, written into `dqkv`
/// (same layout as `qkv`; every value of it is overwritten). With P recomputed from the saved
/// log-sum-exp, per head: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)),
/// dQ = scale · dS K, dK = scale · dSᵀ Q; the query heads sharing a key/value head add up.
/// Like the forward it works on blocks of query rows and the keys they see.
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
        for r in 0..<L {
            (dKeys + r * stride).update(repeating: 0, count: hd)
            (dValues + r * stride).update(repeating: 0, count: hd)
        }
        for h in (kv * group)..<((kv + 1) * group) {
            for (i0, i1) in causalBlocks(L) {
                let j0 = window.map { max(0, i0 + 1 - $0) } ?? 0
                let b = i1 - i0, n = i1 - j0
                let queries = base + i0 * stride + h * hd
                let dO = dOut + (segment.start + i0) * Q + h * hd, o = out + (segment.start + i0) * Q + h * hd
                // P, recomputed from the log-sum-exp.
                BLAS.gemm(transB: true, m: b, n: n, k: hd, alpha: scale, a: queries, lda: stride, b: keys + j0 * stride, ldb: stride,
                          c: p, ldc: n)
                for i in i0..<i1 {
                    let row = p + (i - i0) * n
                    let first = (window.map { max(0, i + 1 - $0) } ?? 0) - j0
                    let last = i - j0
                    _ = expAndSum(row + first, last + 1 - first, shift: lse[(segment.start + i) * H + h])
                    for j in 0..<first { row[j] = 0 }
                    for j in (last + 1)..<n { row[j] = 0 }
                }
                // dV += Pᵀ dO
                BLAS.gemm(transA: true, m: n, n: hd, k: b, a: p, lda: n, b: dO, ldb: Q, beta: 1, c: dValues + j0 * stride, ldc: stride)
                // dP = dO Vᵀ, then dS = P ⊙ (dP − D) in place.
                BLAS.gemm(transB: true, m: b, n: n, k: hd, a: dO, lda: Q, b: values + j0 * stride, ldb: stride, c: dp, ldc: n)
                for i in 0..<b {
                    let d = dot(dO + i * Q, o + i * Q, hd)
                    let pr = p + i * n, dpr = dp + i * n
                    for j in 0..<n { dpr[j] = pr[j] * (dpr[j] - d) }
                }
                // dQ = scale · dS K;  dK += scale · dSᵀ Q
                BLAS.gemm(m: b, n: hd, k: n, alpha: scale, a: dp, lda: n, b: keys + j0 * stride, ldb: stride,
                          c: dBase + i0 * stride + h * hd, ldc: stride)
                BLAS.gemm(transA: true, m: n, n: hd, k: b, alpha: scale, a: dp, lda: n, b: queries, ldb: stride,
                          beta: 1, c: dKeys + j0 * stride, ldc: stride)
            }
        }
    }
}

/// Row blocks [i0, i1) of an L-row segment: whole when short, else 64 rows at a time (the
/// products stay large enough for BLAS while skipping most of the masked upper triangle).
@inline(__always)
func causalBlocks(_ L: Int) -> [(Int, Int)] {
    let block = L <= 96 ? L : 64
    return stride(from: 0, to: L, by: block).map { ($0, min(L, $0 + block)) }
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
    AttentionScratch.shared.withBuffers(threads: threads, buffers: buffers, floats: longest * longest) { scratch in
        BLAS.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                while true {
                    let job = next.add(1, ordering: .relaxed).oldValue
                    guard job < jobCount else { break }
                    body(order[job / KV], job % KV, scratch[thread])
                }
            }
        }
    }
}

/// Per-thread L² score buffers kept between calls: training calls attention twice per layer per
/// micro-batch, and fresh megabyte allocations would be fresh pages (page faults) every time.
final class AttentionScratch: @unchecked Sendable {
    static let shared = AttentionScratch()
    private let lock = NSLock()
    private var pointers: [[UnsafeMutablePointer<Float>]] = []
    private var capacity = 0

    /// Runs `body` with `threads` sets of `buffers` buffers of at least `floats` floats each; the
    /// buffers are the caller's until it returns (concurrent callers take turns).
    func withBuffers(threads: Int, buffers: Int, floats: Int, _ body: ([[UnsafeMutablePointer<Float>]]) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if floats > capacity || pointers.count < threads || (pointers.first?.count ?? 0) < buffers {
            for set in pointers { for p in set { p.deallocate() } }
            capacity = max(floats, capacity)
            let sets = max(threads, pointers.count), perSet = max(buffers, pointers.first?.count ?? 0)
            pointers = (0..<sets).map { _ in (0..<perSet).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: capacity) } }
        }
        body(pointers)
    }
}
