import Foundation
import Shared
import Testing
import TestSupport

/// LoRAOutputGradient against dt = α·dy·B and dB += α·dyᵀ·t written out in double precision: dy
/// a slice of a wider matrix, t with a leading dimension past the rank, ranks that are odd
/// multiples of 8, row counts that leave ragged groups of four and eight, one share or one per
/// core; and every instruction set the machine has giving the portable kernel's bits.
@Suite struct LoRAOutputGradientTests {
    struct Case {
        var rows: Int, out: Int, rank: Int
        var ldy: Int { out + 3 }
        var ldt: Int { rank + 8 }
        var ldDt: Int { rows + 1 }
    }

    static func data(_ c: Case) -> (dy: [Float], b: [Float], t: [Float], dB: [Float]) {
        var rng = SplitMix64(seed: UInt64(c.rows * 1000 + c.out * 10 + c.rank))
        func random() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
        return ((0..<(c.rows * c.ldy)).map { _ in random() }, (0..<(c.out * c.rank)).map { _ in random() },
                (0..<(c.rows * c.ldt)).map { _ in random() }, (0..<(c.out * c.rank)).map { _ in random() })
    }

    static func run(_ c: Case, alpha: Float, _ d: (dy: [Float], b: [Float], t: [Float], dB: [Float]),
                    level: KernelLevel = .current) -> (dB: [Float], dtT: [Float]) {
        var dB = d.dB, dtT = [Float](repeating: -7, count: c.rank * c.ldDt)
        LoRAOutputGradient.multiply(rows: c.rows, out: c.out, rank: c.rank, alpha: alpha, dy: d.dy, ldy: c.ldy, b: d.b, t: d.t,
                                    ldt: c.ldt, dB: &dB, dtT: &dtT, ldDt: c.ldDt, partial: ScratchBuffer(), level: level)
        return (dB, dtT)
    }

    @Test(arguments: [(1, 5, 8), (7, 33, 16), (13, 64, 24), (130, 600, 16), (67, 40, 64), (2048, 96, 8), (577, 200, 32)])
    func matchesTheDefinition(rows: Int, out: Int, rank: Int) {
        let c = Case(rows: rows, out: out, rank: rank), alpha: Float = 0.75
        let d = Self.data(c)
        let (dB, dtT) = Self.run(c, alpha: alpha, d, level: .portable)
        var expectedDB = d.dB
        for o in 0..<out {
            for j in 0..<rank {
                var sum = 0.0
                for i in 0..<rows { sum += Double(d.dy[i * c.ldy + o]) * Double(d.t[i * c.ldt + j]) }
                expectedDB[o * rank + j] += Float(Double(alpha) * sum)
            }
        }
        // dt transposed; the padding column (i == rows) stays untouched.
        var expectedDt = [Float](repeating: -7, count: rank * c.ldDt)
        for i in 0..<rows {
            for j in 0..<rank {
                var sum = 0.0
                for o in 0..<out { sum += Double(d.dy[i * c.ldy + o]) * Double(d.b[o * rank + j]) }
                expectedDt[j * c.ldDt + i] = Float(Double(alpha) * sum)
            }
        }
        checkTensor("dB", actual: dB, expected: expectedDB, atol: 1e-4, rtol: 1e-5)
        checkTensor("dt", actual: dtT, expected: expectedDt, atol: 1e-4, rtol: 1e-5)
        // Every instruction set this machine has: the portable path's bits.
        for level in KernelLevel.allCases where level > .portable && level <= .supported {
            let fast = Self.run(c, alpha: alpha, d, level: level)
            let dBDiffers = dB.indices.first { fast.dB[$0].bitPattern != dB[$0].bitPattern }
            let dtDiffers = dtT.indices.first { fast.dtT[$0].bitPattern != dtT[$0].bitPattern }
            #expect(dBDiffers == nil, "dB at \(level): first different value")
            #expect(dtDiffers == nil, "dt at \(level): first different value")
        }
    }

    @Test func theSameBitsWhetherThePoolIsFreeOrNot() {
        // Called from inside a pool job, the kernel runs its shares on the calling thread: the
        // sums must still be made in the same order.
        let c = Case(rows: 300, out: 500, rank: 16)
        let d = Self.data(c)
        let free = Self.run(c, alpha: 0.5, d)
        var busy: (dB: [Float], dtT: [Float])?
        SpinPool.shared.run(jobs: 2) { job in if job == 0 { busy = Self.run(c, alpha: 0.5, d) } }
        #expect(free.dB == busy?.dB)
        #expect(free.dtT == busy?.dtT)
    }

    @Test func takesWholeVectorsOfEight() {
        #expect([8, 16, 24, 64, 128].allSatisfy(LoRAOutputGradient.takes))
        #expect(![0, 4, 12, 20].contains(where: LoRAOutputGradient.takes))
    }
}
