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
/// recomputes the probabilities; or, given `probabilities` (`AttentionProbabilities.floats` of
/// them), it keeps the probabilities themselves there and the backward pass reads them, one
/// product and the exponentials fewer (15–18% of the backward's time) for the memory of the
/// causal blocks' scores.
///
/// - Parameters:
///   - out: (N, H·hd); lse: (N, H);
///   - qkv: (N, H·hd + 2·KV·hd) rows q | k | v (after RoPE);
///   - window: sliding-window attention (a row sees itself and the `window − 1` before it).
public func segmentAttentionForward(_ out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                                    segments: [AttentionSegment], H: Int, KV: Int, hd: Int, scale: Float, window: Int? = nil,
                                    probabilities: UnsafeMutablePointer<Float>? = nil) {
    let Q = H * hd, K = KV * hd, stride = Q + 2 * K
    let group = H / KV
    let kept = probabilities.map { AttentionProbabilities(segments: segments, KV: KV, group: group, window: window, at: $0) }
    forEachSegmentAndKVHead(segments, KV: KV, group: group, hd: hd, buffers: 3) { segment, kv, scratch in
        let queries = scratch[1], outputs = scratch[2]
        let base = qkv + segment.start * stride
        let keys = base + Q + kv * hd, values = base + Q + K + kv * hd
        let heads = Heads(first: kv * group, count: group, hd: hd)
        var next = kept?.start(of: segment, kv: kv)
        // Causal: a block of query rows needs only the keys up to its last row (and, with a
        // window, from its first row's window start), so the products skip the upper triangle.
        for (i0, i1) in causalBlocks(segment.count) {
            let j0 = window.map { max(0, i0 + 1 - $0) } ?? 0
            let b = i1 - i0, n = i1 - j0
            let scores = next ?? scratch[0]
            next = next.map { $0 + group * b * n }
            // The query heads that share this key/value head, stacked: one product against the keys.
            heads.gather(queries, from: base + i0 * stride, ld: stride, rows: b)
            BLAS.gemm(transB: true, m: group * b, n: n, k: hd, alpha: scale, a: queries, lda: hd, b: keys + j0 * stride, ldb: stride,
                      c: scores, ldc: n)
            for r in 0..<(group * b) {
                let i = i0 + r % b, h = heads.first + r / b
                let row = scores + r * n
                let first = (window.map { max(0, i + 1 - $0) } ?? 0) - j0
                let last = i - j0  // inclusive
                let top = maxValue(row + first, last + 1 - first)
                let sum = expAndSum(row + first, last + 1 - first, shift: top)
                scaleInPlace(row + first, last + 1 - first, by: 1 / sum)
                row.update(repeating: 0, count: first)
                (row + last + 1).update(repeating: 0, count: n - last - 1)
                lse[(segment.start + i) * H + h] = top + logf(sum)
            }
            BLAS.gemm(m: group * b, n: hd, k: n, a: scores, lda: n, b: values + j0 * stride, ldb: stride, c: outputs, ldc: hd)
            heads.scatter(outputs, to: out + (segment.start + i0) * Q, ld: Q, rows: b)
        }
    }
}

/// The gradient of `segmentAttentionForward` with respect to q, k and v, written into `dqkv`
/// (same layout as `qkv`; every value of it is overwritten). With P recomputed from the saved
/// log-sum-exp, per head: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ O)),
/// dQ = scale · dS K, dK = scale · dSᵀ Q; the query heads sharing a key/value head are stacked,
/// so their dV and dK add up inside one product each.
/// Like the forward it works on blocks of query rows and the keys they see.
public func segmentAttentionBackward(_ dqkv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
                                     lse: UnsafePointer<Float>, qkv: UnsafePointer<Float>, segments: [AttentionSegment],
                                     H: Int, KV: Int, hd: Int, scale: Float, window: Int? = nil,
                                     probabilities: UnsafePointer<Float>? = nil) {
    let Q = H * hd, K = KV * hd, stride = Q + 2 * K
    let group = H / KV
    let kept = probabilities.map { AttentionProbabilities(segments: segments, KV: KV, group: group, window: window,
                                                          at: UnsafeMutablePointer(mutating: $0)) }
    forEachSegmentAndKVHead(segments, KV: KV, group: group, hd: hd, buffers: 5) { segment, kv, scratch in
        let L = segment.count
        let dp = scratch[1], queries = scratch[2], dO = scratch[3], dQ = scratch[4]
        var next = kept?.start(of: segment, kv: kv)
        let base = qkv + segment.start * stride, dBase = dqkv + segment.start * stride
        let keys = base + Q + kv * hd, values = base + Q + K + kv * hd
        let dKeys = dBase + Q + kv * hd, dValues = dBase + Q + K + kv * hd
        let heads = Heads(first: kv * group, count: group, hd: hd)
        for r in 0..<L {
            (dKeys + r * stride).update(repeating: 0, count: hd)
            (dValues + r * stride).update(repeating: 0, count: hd)
        }
        for (i0, i1) in causalBlocks(L) {
            let j0 = window.map { max(0, i0 + 1 - $0) } ?? 0
            let b = i1 - i0, n = i1 - j0, rows = group * b
            heads.gather(queries, from: base + i0 * stride, ld: stride, rows: b)
            heads.gather(dO, from: dOut + (segment.start + i0) * Q, ld: Q, rows: b)
            // P, kept by the forward pass or recomputed from the log-sum-exp.
            let p = next ?? scratch[0]
            if let stored = next {
                next = stored + rows * n
            } else {
                BLAS.gemm(transB: true, m: rows, n: n, k: hd, alpha: scale, a: queries, lda: hd, b: keys + j0 * stride, ldb: stride,
                          c: p, ldc: n)
                for r in 0..<rows {
                    let i = i0 + r % b, h = heads.first + r / b
                    let row = p + r * n
                    let first = (window.map { max(0, i + 1 - $0) } ?? 0) - j0
                    let last = i - j0
                    _ = expAndSum(row + first, last + 1 - first, shift: lse[(segment.start + i) * H + h])
                    row.update(repeating: 0, count: first)
                    (row + last + 1).update(repeating: 0, count: n - last - 1)
                }
            }
            // dV += Pᵀ dO
            BLAS.gemm(transA: true, m: n, n: hd, k: rows, a: p, lda: n, b: dO, ldb: hd, beta: 1, c: dValues + j0 * stride, ldc: stride)
            // dP = dO Vᵀ, then dS = P ⊙ (dP − D) in place.
            BLAS.gemm(transB: true, m: rows, n: n, k: hd, a: dO, lda: hd, b: values + j0 * stride, ldb: stride, c: dp, ldc: n)
            for r in 0..<rows {
                let i = i0 + r % b, h = heads.first + r / b
                let o = out + (segment.start + i) * Q + h * hd
                softmaxGradient(dp + r * n, p + r * n, n, rowDot: dot(dO + r * hd, o, hd))
            }
            // dQ = scale · dS K;  dK += scale · dSᵀ Q
            BLAS.gemm(m: rows, n: hd, k: n, alpha: scale, a: dp, lda: n, b: keys + j0 * stride, ldb: stride, c: dQ, ldc: hd)
            heads.scatter(dQ, to: dBase + i0 * stride, ld: stride, rows: b)
            BLAS.gemm(transA: true, m: n, n: hd, k: rows, alpha: scale, a: dp, lda: n, b: queries, ldb: hd,
                      beta: 1, c: dKeys + j0 * stride, ldc: stride)
        }
    }
}

/// Where the forward pass keeps the probabilities when asked to: per segment (in the order
/// given) and key/value head, its causal blocks one after another, each the (group · block rows
/// × keys) matrix of the stacked query heads, zero outside the rows' causal (or window) range.
public struct AttentionProbabilities {
    /// Floats the probabilities of these segments take.
    public static func floats(segments: [AttentionSegment], H: Int, KV: Int, window: Int? = nil) -> Int {
        KV * segments.reduce(0) { $0 + perHead($1.count, group: H / KV, window: window) }
    }

    /// Floats one key/value head's blocks take in a segment of L rows.
    private static func perHead(_ L: Int, group: Int, window: Int?) -> Int {
        causalBlocks(L).reduce(0) { sum, block in
            let j0 = window.map { max(0, block.0 + 1 - $0) } ?? 0
            return sum + group * (block.1 - block.0) * (block.1 - j0)
        }
    }

    /// Per segment (by its first row): where its blocks begin, and the floats of one key/value head's.
    private let blocks: [Int: (start: UnsafeMutablePointer<Float>, perHead: Int)]

    init(segments: [AttentionSegment], KV: Int, group: Int, window: Int?, at base: UnsafeMutablePointer<Float>) {
        var blocks: [Int: (start: UnsafeMutablePointer<Float>, perHead: Int)] = [:]
        var offset = 0
        for segment in segments where segment.count > 0 {
            let floats = Self.perHead(segment.count, group: group, window: window)
            blocks[segment.start] = (base + offset, floats)
            offset += KV * floats
        }
        self.blocks = blocks
    }

    /// Where the blocks of `segment` and key/value head `kv` begin.
    func start(of segment: AttentionSegment, kv: Int) -> UnsafeMutablePointer<Float> {
        let own = blocks[segment.start]!
        return own.start + kv * own.perHead
    }
}

/// The query heads that share one key/value head, as columns [first·hd, (first + count)·hd) of a
/// row-major matrix; `gather` stacks their `rows` rows head after head into a (count·rows, hd)
/// block, `scatter` puts such a block back.
struct Heads {
    let first: Int, count: Int, hd: Int

    @inline(__always)
    func gather(_ block: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, ld: Int, rows: Int) {
        for h in 0..<count {
            for i in 0..<rows {
                (block + (h * rows + i) * hd).update(from: source + i * ld + (first + h) * hd, count: hd)
            }
        }
    }

    @inline(__always)
    func scatter(_ block: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, ld: Int, rows: Int) {
        for h in 0..<count {
            for i in 0..<rows {
                (target + i * ld + (first + h) * hd).update(from: block + (h * rows + i) * hd, count: hd)
            }
        }
    }
}

/// dS = P ⊙ (dP − D) in place over dP, D being the row's Σ dO ⊙ O.
@inline(__always)
func softmaxGradient(_ dp: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ n: Int, rowDot d: Float) {
    let rd = UnsafeMutableRawPointer(dp), rp = UnsafeRawPointer(p)
    let dv = SIMD8<Float>(repeating: d)
    var j = 0
    while j + 8 <= n {
        let v = rp.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            * (rd.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - dv)
        rd.storeBytes(of: v, toByteOffset: j * 4, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { dp[j] = p[j] * (dp[j] - d); j += 1 }
}

/// Row blocks [i0, i1) of an L-row segment: whole when short, else 32 rows at a time (the
/// products stay large enough for BLAS while skipping most of the masked upper triangle: on
/// SmolLM2's 512-token sequences 32 rows trained 0.4–0.9% faster than 64 and 0.9–1.6% faster
/// than 16, in step-parity A/Bs of scripts/bench/train.sh's text).
@inline(__always)
func causalBlocks(_ L: Int) -> [(Int, Int)] {
    let block = causalBlockRows(L)
    return stride(from: 0, to: L, by: block).map { ($0, min(L, $0 + block)) }
}

@inline(__always)
func causalBlockRows(_ L: Int) -> Int { L <= 48 ? L : 32 }

/// Runs `body(segment, kvHead, scratch)` for every (segment, key/value head) pair on all cores,
/// longest segments first, with OpenBLAS single-threaded inside; `scratch` holds `buffers`
/// per-thread buffers, each large enough for a block's stacked scores (group · block rows × keys)
/// or stacked head rows (group · block rows × hd) in any of the segments.
func forEachSegmentAndKVHead(_ segments: [AttentionSegment], KV: Int, group: Int, hd: Int, buffers: Int,
                             _ body: (AttentionSegment, Int, [UnsafeMutablePointer<Float>]) -> Void) {
    let order = segments.filter { $0.count > 0 }.sorted { $0.count > $1.count }
    // Not the longest segment's need alone: a segment of 48 rows is one block, one of 49 is 32-row blocks.
    guard let floats = order.map({ group * causalBlockRows($0.count) * max($0.count, hd) }).max() else { return }
    let jobCount = order.count * KV
    // On lf's pool, whose workers are awake from the products before: Dispatch's threads ran
    // beside a worker still spinning there, two busy threads sharing a core.
    let threads = min(Parallel.coreCount, jobCount)
    let next = Atomic<Int>(0)
    AttentionScratch.shared.withBuffers(threads: threads, buffers: buffers, floats: floats) { scratch in
        BLAS.singleThreaded {
            SpinPool.shared.run(jobs: threads) { thread in
                while true {
                    let job = next.add(1, ordering: .relaxed).oldValue
                    guard job < jobCount else { break }
                    body(order[job / KV], job % KV, scratch[thread])
                }
            }
        }
    }
}

/// Per-thread score buffers kept between calls: training calls attention twice per layer per
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
