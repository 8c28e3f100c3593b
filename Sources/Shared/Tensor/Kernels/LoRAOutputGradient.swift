/// The two products LoRA's backward takes of the output gradient dy, in one pass over it:
///
///     dtᵀ (r × rows) = α · (dy · B)ᵀ        B  (out × r)
///     dB  (out × r) += α · dyᵀ · t          t  (rows × r)
///
/// Both do r multiply-adds per value of dy, which is large (rows × out) and read nowhere else
/// afterwards. Done apart (OpenBLAS, or NarrowGemm twice) each product streams dy through the
/// caches on its own and, with only r columns, is bound by reading it: 20–40 GFLOP/s on two
/// cores inside training. Here each value of dy is loaded once, broadcast, and feeds both: four
/// rows at a time keep their dt sums (4 × 16 columns) in registers while B's row and dB's row
/// pass through, so every load of dy does 2 × 16 multiply-adds.
///
/// Each core takes a share of the rows and sums its dB into its own buffer (`partial`: cores ×
/// out × r floats), added into dB at the end in share order.
public enum LoRAOutputGradient {
    /// Whether the rank suits the kernel (whole 8-float vectors).
    public static func takes(_ rank: Int) -> Bool { rank % 8 == 0 && rank > 0 }

    /// - Parameters:
    ///   - dy: row i of the output gradient at `dy + i * ldy` (a slice's columns of a wider dy);
    ///   - b: B (out × rank), row-major, contiguous;
    ///   - t: row i of t = x·Aᵀ at `t + i * ldt`;
    ///   - dB: (out × rank), contiguous, added to;
    ///   - dtT: dt transposed, column j of row i at `dtT[j * ldDt + i]`, overwritten.
    public static func multiply(rows: Int, out: Int, rank: Int, alpha: Float,
                                dy: UnsafePointer<Float>, ldy: Int, b: UnsafePointer<Float>,
                                t: UnsafePointer<Float>, ldt: Int,
                                dB: UnsafeMutablePointer<Float>, dtT: UnsafeMutablePointer<Float>, ldDt: Int,
                                partial: ScratchBuffer) {
        precondition(takes(rank), "LoRAOutputGradient takes a rank that is a multiple of 8")
        guard rows > 0, out > 0 else { return }
        // The shares depend only on the sizes (not on whether the pool is free), so dB's rounding
        // is the same on every run.
        let jobs = rows >= 64 && rows * out * rank >= 1 << 20 ? Parallel.coreCount : 1
        let size = out * rank
        let sums = partial.reserve(jobs * size)
        let share = { (job: Int) in
            let mine = sums + job * size
            mine.initialize(repeating: 0, count: size)
            // Row shares in whole groups of four, so that only the last share has a ragged end.
            let groups = (rows + 3) / 4
            let first = min(rows, 4 * (groups * job / jobs)), last = min(rows, 4 * (groups * (job + 1) / jobs))
            var j = 0
            while j < rank {
                let width = rank - j >= 16 ? 16 : 8
                var i = first
                while i < last {
                    let count = min(4, last - i)
                    if width == 16 {
                        if count == 4 {
                            block16x4(i, j, out: out, rank: rank, dy: dy, ldy: ldy, b: b, t: t, ldt: ldt, sums: mine, alpha: alpha,
                                      dtT: dtT, ldDt: ldDt)
                        } else {
                            for r in i..<(i + count) {
                                block16x1(r, j, out: out, rank: rank, dy: dy, ldy: ldy, b: b, t: t, ldt: ldt, sums: mine,
                                          alpha: alpha, dtT: dtT, ldDt: ldDt)
                            }
                        }
                    } else {
                        for r in i..<(i + count) {
                            block8x1(r, j, out: out, rank: rank, dy: dy, ldy: ldy, b: b, t: t, ldt: ldt, sums: mine, alpha: alpha,
                                     dtT: dtT, ldDt: ldDt)
                        }
                    }
                    i += count
                }
                j += width
            }
        }
        SpinPool.shared.run(jobs: jobs, share)
        for job in 0..<jobs {
            let mine = sums + job * size
            for e in 0..<size { dB[e] += alpha * mine[e] }
        }
    }

    private typealias V = SIMD8<Float>

    /// dt's columns j..<j+8 (transposed) for row i, scaled.
    @inline(__always)
    private static func putDt(_ v: V, row i: Int, column j: Int, alpha: Float, dtT: UnsafeMutablePointer<Float>, ldDt: Int) {
        let scaled = v * alpha
        for lane in 0..<8 { dtT[(j + lane) * ldDt + i] = scaled[lane] }
    }

    /// Rows i..<i+4, columns j..<j+16: 8 registers of dt sums; B's and dB's rows stream past.
    @inline(__always)
    private static func block16x4(_ i: Int, _ j: Int, out: Int, rank: Int, dy: UnsafePointer<Float>, ldy: Int,
                                  b: UnsafePointer<Float>, t: UnsafePointer<Float>, ldt: Int, sums: UnsafeMutablePointer<Float>,
                                  alpha: Float, dtT: UnsafeMutablePointer<Float>, ldDt: Int) {
        let y0 = dy + i * ldy, y1 = y0 + ldy, y2 = y1 + ldy, y3 = y2 + ldy
        let tp = t + i * ldt + j
        let t00 = load8(tp), t01 = load8(tp + 8), t10 = load8(tp + ldt), t11 = load8(tp + ldt + 8)
        let t20 = load8(tp + 2 * ldt), t21 = load8(tp + 2 * ldt + 8), t30 = load8(tp + 3 * ldt), t31 = load8(tp + 3 * ldt + 8)
        var a00 = V(), a01 = V(), a10 = V(), a11 = V(), a20 = V(), a21 = V(), a30 = V(), a31 = V()
        var bp = b + j, gp = sums + j
        for o in 0..<out {
            let b0 = load8(bp), b1 = load8(bp + 8)
            var g0 = load8(gp), g1 = load8(gp + 8)
            var d = V(repeating: y0[o])
            a00 = a00.addingProduct(d, b0); a01 = a01.addingProduct(d, b1)
            g0 = g0.addingProduct(d, t00); g1 = g1.addingProduct(d, t01)
            d = V(repeating: y1[o])
            a10 = a10.addingProduct(d, b0); a11 = a11.addingProduct(d, b1)
            g0 = g0.addingProduct(d, t10); g1 = g1.addingProduct(d, t11)
            d = V(repeating: y2[o])
            a20 = a20.addingProduct(d, b0); a21 = a21.addingProduct(d, b1)
            g0 = g0.addingProduct(d, t20); g1 = g1.addingProduct(d, t21)
            d = V(repeating: y3[o])
            a30 = a30.addingProduct(d, b0); a31 = a31.addingProduct(d, b1)
            g0 = g0.addingProduct(d, t30); g1 = g1.addingProduct(d, t31)
            store8(g0, gp); store8(g1, gp + 8)
            bp += rank; gp += rank
        }
        putDt(a00, row: i, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt); putDt(a01, row: i, column: j + 8, alpha: alpha, dtT: dtT, ldDt: ldDt)
        putDt(a10, row: i + 1, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt); putDt(a11, row: i + 1, column: j + 8, alpha: alpha, dtT: dtT, ldDt: ldDt)
        putDt(a20, row: i + 2, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt); putDt(a21, row: i + 2, column: j + 8, alpha: alpha, dtT: dtT, ldDt: ldDt)
        putDt(a30, row: i + 3, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt); putDt(a31, row: i + 3, column: j + 8, alpha: alpha, dtT: dtT, ldDt: ldDt)
    }

    /// One row, columns j..<j+16 (a share's ragged end).
    @inline(__always)
    private static func block16x1(_ i: Int, _ j: Int, out: Int, rank: Int, dy: UnsafePointer<Float>, ldy: Int,
                                  b: UnsafePointer<Float>, t: UnsafePointer<Float>, ldt: Int, sums: UnsafeMutablePointer<Float>,
                                  alpha: Float, dtT: UnsafeMutablePointer<Float>, ldDt: Int) {
        let y = dy + i * ldy, tp = t + i * ldt + j
        let t0 = load8(tp), t1 = load8(tp + 8)
        var a0 = V(), a1 = V()
        var bp = b + j, gp = sums + j
        for o in 0..<out {
            let d = V(repeating: y[o])
            a0 = a0.addingProduct(d, load8(bp)); a1 = a1.addingProduct(d, load8(bp + 8))
            store8(load8(gp).addingProduct(d, t0), gp); store8(load8(gp + 8).addingProduct(d, t1), gp + 8)
            bp += rank; gp += rank
        }
        putDt(a0, row: i, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt); putDt(a1, row: i, column: j + 8, alpha: alpha, dtT: dtT, ldDt: ldDt)
    }

    /// One row, columns j..<j+8 (a rank that is an odd multiple of 8).
    @inline(__always)
    private static func block8x1(_ i: Int, _ j: Int, out: Int, rank: Int, dy: UnsafePointer<Float>, ldy: Int,
                                 b: UnsafePointer<Float>, t: UnsafePointer<Float>, ldt: Int, sums: UnsafeMutablePointer<Float>,
                                 alpha: Float, dtT: UnsafeMutablePointer<Float>, ldDt: Int) {
        let y = dy + i * ldy, t0 = load8(t + i * ldt + j)
        var a0 = V()
        var bp = b + j, gp = sums + j
        for o in 0..<out {
            let d = V(repeating: y[o])
            a0 = a0.addingProduct(d, load8(bp))
            store8(load8(gp).addingProduct(d, t0), gp)
            bp += rank; gp += rank
        }
        putDt(a0, row: i, column: j, alpha: alpha, dtT: dtT, ldDt: ldDt)
    }
}
