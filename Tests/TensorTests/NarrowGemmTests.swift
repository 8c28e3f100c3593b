import Foundation
import Shared
import Testing
import TestSupport

/// NarrowGemm against the product written out in double precision, for every layout LoRA's
/// backward uses: A read by rows or as a transposed view, C plain or transposed, written or
/// added to, widths 8 to 64, row counts that leave partial 6-row panels, one core or both.
@Suite struct NarrowGemmTests {
    @Test(arguments: [(1, 8, 5), (7, 16, 33), (13, 24, 64), (130, 16, 576), (61, 64, 40), (2048, 8, 96), (577, 32, 200)])
    func matchesTheDefinition(m: Int, n: Int, k: Int) {
        var rng = SplitMix64(seed: UInt64(m * 1000 + n * 10 + k))
        func random() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let alpha: Float = 0.75
        // A stored (k, m + 3): element (i, p) at p * (m + 3) + i, read as a transposed view;
        // and the same values stored by rows (m, k + 2).
        let ldaT = m + 3, lda = k + 2
        var aT = [Float](repeating: .nan, count: k * ldaT), aRows = [Float](repeating: .nan, count: m * lda)
        for i in 0..<m {
            for p in 0..<k {
                let v = random()
                aT[p * ldaT + i] = v
                aRows[i * lda + p] = v
            }
        }
        let ldb = n + 5
        let b = (0..<(k * ldb)).map { _ in random() }
        let initial = (0..<(m * n)).map { _ in random() }
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(aRows[i * lda + p]) * Double(b[p * ldb + j]) }
                expected[i * n + j] = Float(Double(alpha) * sum)
            }
        }
        // By rows, C written.
        var c = [Float](repeating: .nan, count: m * n)
        NarrowGemm.multiply(m: m, n: n, k: k, alpha: alpha, a: aRows, rowStride: lda, columnStride: 1, b: b, ldb: ldb,
                            accumulate: false, c: &c, ldc: n)
        checkTensor("rows", actual: c, expected: expected, atol: 1e-4, rtol: 1e-5)
        // Transposed view of A, C added to.
        c = initial
        NarrowGemm.multiply(m: m, n: n, k: k, alpha: alpha, a: aT, rowStride: 1, columnStride: ldaT, b: b, ldb: ldb,
                            accumulate: true, c: &c, ldc: n)
        checkTensor("transposed A, accumulated", actual: c, expected: zip(expected, initial).map { $0 + $1 }, atol: 1e-4, rtol: 1e-5)
        // C transposed (n, m + 1); the padding column stays untouched.
        var cT = [Float](repeating: -7, count: n * (m + 1))
        NarrowGemm.multiply(m: m, n: n, k: k, alpha: alpha, a: aRows, rowStride: lda, columnStride: 1, b: b, ldb: ldb,
                            accumulate: false, c: &cT, ldc: m + 1, transposeC: true)
        let transposed = (0..<(n * (m + 1))).map { at -> Float in
            let (j, i) = (at / (m + 1), at % (m + 1))
            return i == m ? -7 : expected[i * n + j]
        }
        checkTensor("transposed C", actual: cT, expected: transposed, atol: 1e-4, rtol: 1e-5)
    }

    @Test func takesMultiplesOfEightUpTo64() {
        #expect([8, 16, 24, 64].allSatisfy(NarrowGemm.takes))
        #expect(![4, 12, 72, 128].contains(where: NarrowGemm.takes))
    }
}
