import Foundation
import Shared
import Testing
import TestSupport

/// LowRankProduct against out = α·T·M written out in double precision: T row-major with a leading
/// dimension past k (LoRA's forward t) or stored transposed (the backward's dt), output rows
/// inside a wider matrix whose other columns must stay untouched, row counts that leave ragged
/// groups of six and eight, column counts that are not multiples of 16 or 32, one share or one per
/// core; and every instruction set the machine has giving the portable kernel's bits.
@Suite struct LowRankProductTests {
    static func random(_ count: Int, seed: Int) -> [Float] {
        var rng = SplitMix64(seed: UInt64(seed))
        return (0..<count).map { _ in Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
    }

    @Test(arguments: [(1, 5, 8), (7, 33, 16), (13, 64, 48), (130, 600, 16), (67, 40, 3), (2048, 96, 32), (577, 200, 16)])
    func matchesTheDefinition(rows: Int, n: Int, k: Int) {
        let alpha: Float = 0.75
        let ldm = n + 5, ldo = n + 7
        let m = Self.random(k * ldm, seed: rows * 31 + n)
        for transposed in [false, true] {
            // T[i, j] at i·ti + j·tj: row-major (ld k + 2), or transposed (ld rows + 1).
            let (ti, tj) = transposed ? (1, rows + 1) : (k + 2, 1)
            let t = Self.random(transposed ? k * (rows + 1) : rows * (k + 2), seed: rows + n * 7 + k)
            var out = [Float](repeating: -7, count: rows * ldo)
            LowRankProduct.write(rows: rows, n: n, k: k, alpha: alpha, t: t, rowStride: ti, columnStride: tj, m: m, ldm: ldm,
                                 out: &out, ldo: ldo, level: .portable)
            var expected = [Float](repeating: -7, count: rows * ldo)
            for i in 0..<rows {
                for c in 0..<n {
                    var sum = 0.0
                    for j in 0..<k { sum += Double(t[i * ti + j * tj]) * Double(m[j * ldm + c]) }
                    expected[i * ldo + c] = Float(Double(alpha) * sum)
                }
            }
            checkTensor(transposed ? "out (T transposed)" : "out", actual: out, expected: expected, atol: 1e-5, rtol: 1e-5)
            // Every instruction set this machine has: the portable path's bits.
            for level in KernelLevel.allCases where level > .portable && level <= .supported {
                var fast = [Float](repeating: -7, count: rows * ldo)
                LowRankProduct.write(rows: rows, n: n, k: k, alpha: alpha, t: t, rowStride: ti, columnStride: tj, m: m, ldm: ldm,
                                     out: &fast, ldo: ldo, level: level)
                let differs = fast.indices.first { fast[$0].bitPattern != out[$0].bitPattern }
                #expect(differs == nil, "\(level), T \(transposed ? "transposed" : "row-major"): first different value")
            }
        }
    }

    @Test func zeroRankWritesZeros() {
        var out = [Float](repeating: -7, count: 3 * 10)
        LowRankProduct.write(rows: 3, n: 8, k: 0, alpha: 1, t: [], rowStride: 0, columnStride: 0, m: [], ldm: 8, out: &out, ldo: 10)
        for i in 0..<3 {
            #expect(Array(out[(i * 10)..<(i * 10 + 8)]) == [Float](repeating: 0, count: 8))
            #expect(Array(out[(i * 10 + 8)..<(i * 10 + 10)]) == [-7, -7])
        }
    }

    @Test func theSameBitsWhetherThePoolIsFreeOrNot() {
        // Inside a pool job the shares run in turn on the calling thread: each value is still
        // summed whole, in the same order.
        let (rows, n, k) = (300, 640, 16)
        let t = Self.random(rows * k, seed: 1), m = Self.random(k * n, seed: 2)
        var free = [Float](repeating: 0, count: rows * n), busy = free
        LowRankProduct.write(rows: rows, n: n, k: k, alpha: 2, t: t, rowStride: k, columnStride: 1, m: m, ldm: n, out: &free, ldo: n)
        SpinPool.shared.run(jobs: 2) { job in
            guard job == 0 else { return }
            LowRankProduct.write(rows: rows, n: n, k: k, alpha: 2, t: t, rowStride: k, columnStride: 1, m: m, ldm: n,
                                 out: &busy, ldo: n)
        }
        #expect(free == busy)
    }
}
