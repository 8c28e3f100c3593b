import Dispatch
import Foundation
import Shared

/// Training attention on SmolLM2's shapes (9 query heads, 3 key/value heads, head size 64):
/// useful GFLOP/s of the forward and the backward, causal pairs counted once.
extension LFBench {
    static func attention(sequence: Int, batch: Int) {
        let H = 9, KV = 3, hd = 64
        let Q = H * hd, stride = Q + 2 * KV * hd, N = sequence * batch
        var rng = SplitMix64(seed: 3)
        func random() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let qkv = (0..<(N * stride)).map { _ in random() }
        let dOut = (0..<(N * Q)).map { _ in random() * 0.01 }
        var out = [Float](repeating: 0, count: N * Q), lse = [Float](repeating: 0, count: N * H)
        var dqkv = [Float](repeating: 0, count: N * stride)
        let segments = (0..<batch).map { AttentionSegment(start: $0 * sequence, count: sequence) }
        let scale = 1 / Float(hd).squareRoot()
        let pairs = Double(batch * sequence * (sequence + 1) / 2)
        let forwardFlops = Double(H * hd * 2 * 2) * pairs
        let forward = time(runs: 9) {
            segmentAttentionForward(&out, lse: &lse, qkv: qkv, segments: segments, H: H, KV: KV, hd: hd, scale: scale)
        }
        let backward = time(runs: 9) {
            segmentAttentionBackward(&dqkv, dOut: dOut, out: out, lse: lse, qkv: qkv, segments: segments, H: H, KV: KV, hd: hd,
                                     scale: scale)
        }
        // The same with the probabilities kept by the forward pass (as training does when they fit).
        var probabilities = [Float](repeating: 0, count: AttentionProbabilities.floats(segments: segments, H: H, KV: KV))
        let keptForward = time(runs: 9) {
            segmentAttentionForward(&out, lse: &lse, qkv: qkv, segments: segments, H: H, KV: KV, hd: hd, scale: scale,
                                    probabilities: &probabilities)
        }
        let keptBackward = time(runs: 9) {
            segmentAttentionBackward(&dqkv, dOut: dOut, out: out, lse: lse, qkv: qkv, segments: segments, H: H, KV: KV, hd: hd,
                                     scale: scale, probabilities: probabilities)
        }
        print(String(format: "attention %d x %d (H 9, KV 3, hd 64), useful GFLOP/s (the causal triangle, backward 2x the forward):",
                     batch, sequence))
        for (label, f, b) in [("recomputing P", forward, backward), ("keeping P", keptForward, keptBackward)] {
            print(String(format: "  %@: forward %.1f ms, %.1f GFLOP/s; backward %.1f ms, %.1f GFLOP/s", label,
                         f * 1e3, forwardFlops / f / 1e9, b * 1e3, 2 * forwardFlops / b / 1e9))
        }
    }
}
