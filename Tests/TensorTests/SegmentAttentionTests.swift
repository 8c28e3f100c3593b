import Foundation
import Shared
import Testing
import TestSupport

/// Training attention (blocked, causal, per segment, GQA, optional window) against a plain
/// double-precision implementation written from the definition, forward and backward.
@Suite struct SegmentAttentionTests {
    struct Shape { let H = 4, KV = 2, hd = 8 }

    /// out[i] = Σ_j softmax_j(scale · q_i·k_j) v_j over j in the segment, j ≤ i, i − j < window;
    /// and the gradients for a given dOut.
    static func reference(qkv: [Float], dOut: [Float], segments: [AttentionSegment], window: Int?, scale: Double)
        -> (out: [Double], dqkv: [Double]) {
        let s = Shape()
        let Q = s.H * s.hd, K = s.KV * s.hd, stride = Q + 2 * K
        let N = qkv.count / stride
        var out = [Double](repeating: 0, count: N * Q), dqkv = [Double](repeating: 0, count: N * stride)
        for seg in segments {
            for h in 0..<s.H {
                let kv = h / (s.H / s.KV)
                func q(_ i: Int, _ d: Int) -> Double { Double(qkv[i * stride + h * s.hd + d]) }
                func k(_ j: Int, _ d: Int) -> Double { Double(qkv[j * stride + Q + kv * s.hd + d]) }
                func v(_ j: Int, _ d: Int) -> Double { Double(qkv[j * stride + Q + K + kv * s.hd + d]) }
                for i in seg.start..<(seg.start + seg.count) {
                    let first = max(seg.start, window.map { i + 1 - $0 } ?? seg.start)
                    let js = Array(first...i)
                    let scores = js.map { j in scale * (0..<s.hd).reduce(0) { $0 + q(i, $1) * k(j, $1) } }
                    let top = scores.max()!
                    let e = scores.map { exp($0 - top) }
                    let z = e.reduce(0, +)
                    let p = e.map { $0 / z }
                    for d in 0..<s.hd { out[i * Q + h * s.hd + d] = zip(js, p).reduce(0) { $0 + $1.1 * v($1.0, d) } }
                    // Backward of this row.
                    let dO = (0..<s.hd).map { Double(dOut[i * Q + h * s.hd + $0]) }
                    let dP = js.map { j in (0..<s.hd).reduce(0) { $0 + dO[$1] * v(j, $1) } }
                    let D = zip(p, dP).reduce(0) { $0 + $1.0 * $1.1 }
                    for (n, j) in js.enumerated() {
                        let dS = p[n] * (dP[n] - D)
                        for d in 0..<s.hd {
                            dqkv[j * stride + Q + K + kv * s.hd + d] += p[n] * dO[d]
                            dqkv[i * stride + h * s.hd + d] += scale * dS * k(j, d)
                            dqkv[j * stride + Q + kv * s.hd + d] += scale * dS * q(i, d)
                        }
                    }
                }
            }
        }
        return (out, dqkv)
    }

    // [70, 48]: the 48-row segment is one block, with more scores than a 32-row block of the longer one.
    @Test(arguments: [(nil, [200]), (nil, [70, 1, 150, 33]), (37, [200]), (64, [130, 90]), (nil, [130, 96]), (nil, [70, 48])] as [(Int?, [Int])])
    func matchesTheDefinition(window: Int?, lengths: [Int]) throws {
        try check(window: window, lengths: lengths, keepingProbabilities: false)
    }

    /// The same with the forward pass keeping the probabilities and the backward reading them;
    /// the forward writes exactly `AttentionProbabilities.floats` of them (guards around them
    /// stay untouched) and the backward only reads them.
    @Test(arguments: [(nil, [200]), (nil, [70, 1, 150, 33]), (37, [200]), (64, [130, 90]), (nil, [130, 96]), (nil, [70, 48])] as [(Int?, [Int])])
    func matchesTheDefinitionKeepingProbabilities(window: Int?, lengths: [Int]) throws {
        try check(window: window, lengths: lengths, keepingProbabilities: true)
    }

    private func check(window: Int?, lengths: [Int], keepingProbabilities: Bool) throws {
        let s = Shape()
        let Q = s.H * s.hd, stride = Q + 4 * s.hd
        var segments: [AttentionSegment] = []
        var start = 0
        for n in lengths { segments.append(AttentionSegment(start: start, count: n)); start += n }
        let N = start
        var rng = SplitMix64(seed: 11)
        func random() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let qkv = (0..<(N * stride)).map { _ in random() }
        let dOut = (0..<(N * Q)).map { _ in random() }
        let scale = 1 / Float(s.hd).squareRoot()
        var out = [Float](repeating: 0, count: N * Q), lse = [Float](repeating: 0, count: N * s.H)
        var dqkv = [Float](repeating: .nan, count: N * stride)
        if keepingProbabilities {
            let count = AttentionProbabilities.floats(segments: segments, H: s.H, KV: s.KV, window: window)
            let guardFloats = 64
            var kept = [Float](repeating: .nan, count: count + 2 * guardFloats)
            kept.withUnsafeMutableBufferPointer { k in
                segmentAttentionForward(&out, lse: &lse, qkv: qkv, segments: segments, H: s.H, KV: s.KV, hd: s.hd, scale: scale,
                                        window: window, probabilities: k.baseAddress! + guardFloats)
            }
            #expect(kept[guardFloats..<(guardFloats + count)].allSatisfy { !$0.isNaN }, "every kept probability written")
            #expect(kept[..<guardFloats].allSatisfy(\.isNaN) && kept[(guardFloats + count)...].allSatisfy(\.isNaN),
                    "nothing written outside them")
            let before = kept
            kept.withUnsafeBufferPointer { k in
                segmentAttentionBackward(&dqkv, dOut: dOut, out: out, lse: lse, qkv: qkv, segments: segments, H: s.H, KV: s.KV,
                                         hd: s.hd, scale: scale, window: window, probabilities: k.baseAddress! + guardFloats)
            }
            #expect(zip(kept, before).allSatisfy { $0.bitPattern == $1.bitPattern }, "the backward leaves them as they were")
        } else {
            segmentAttentionForward(&out, lse: &lse, qkv: qkv, segments: segments, H: s.H, KV: s.KV, hd: s.hd, scale: scale,
                                    window: window)
            segmentAttentionBackward(&dqkv, dOut: dOut, out: out, lse: lse, qkv: qkv, segments: segments, H: s.H, KV: s.KV,
                                     hd: s.hd, scale: scale, window: window)
        }
        let expected = Self.reference(qkv: qkv, dOut: dOut, segments: segments, window: window, scale: Double(scale))
        checkTensor("out", actual: out, expected: expected.out.map { Float($0) }, atol: 1e-5)
        checkTensor("dqkv", actual: dqkv, expected: expected.dqkv.map { Float($0) }, atol: 1e-4)
    }
}
