import CKernels

/// The two products LoRA's backward takes of the output gradient dy, in one pass over it:
///
///     dtᵀ (r × rows) = α · (dy · B)ᵀ        B  (out × r)
///     dB  (out × r) += α · dyᵀ · t          t  (rows × r)
///
/// Both do r multiply-adds per value of dy, which is large (rows × out) and read nowhere else
/// afterwards. Done apart (OpenBLAS, or NarrowGemm twice) each product streams dy through the
/// caches on its own and, with only r columns, is bound by reading it: 20–40 GFLOP/s on two
/// cores inside training. Here each value of dy is loaded once, broadcast, and feeds both: a few
/// rows at a time keep their dt sums in registers while B's row and dB's row pass through, so
/// every load of dy does 2 × 16 multiply-adds. The kernel is C's (lf_lora_output_gradient: eight
/// rows at a time with AVX-512, four with AVX2, chosen at run time; the same bits either way).
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
    ///   - dtT: dt transposed, column j of row i at `dtT[j * ldDt + i]`, overwritten;
    ///   - level: the kernel's instruction set (any gives the same bits; capped at `KernelLevel.supported`).
    public static func multiply(rows: Int, out: Int, rank: Int, alpha: Float,
                                dy: UnsafePointer<Float>, ldy: Int, b: UnsafePointer<Float>,
                                t: UnsafePointer<Float>, ldt: Int,
                                dB: UnsafeMutablePointer<Float>, dtT: UnsafeMutablePointer<Float>, ldDt: Int,
                                partial: ScratchBuffer, level: KernelLevel = .current) {
        precondition(takes(rank), "LoRAOutputGradient takes a rank that is a multiple of 8")
        guard rows > 0, out > 0 else { return }
        // The shares depend only on the sizes (not on whether the pool is free), so dB's rounding
        // is the same on every run.
        let jobs = rows >= 64 && rows * out * rank >= 1 << 20 ? Parallel.coreCount : 1
        let size = out * rank
        let sums = partial.reserve(jobs * size)
        let level = min(level, KernelLevel.supported)  // a higher one would not run here
        let share = { (job: Int) in
            let mine = sums + job * size
            mine.initialize(repeating: 0, count: size)
            // Row shares in whole groups of eight, the AVX-512 kernel's tile.
            let groups = (rows + 7) / 8
            let first = min(rows, 8 * (groups * job / jobs)), last = min(rows, 8 * (groups * (job + 1) / jobs))
            lf_lora_output_gradient(level.c, first, last, out, rank, alpha, dy, ldy, b, t, ldt, mine, dtT, ldDt)
        }
        SpinPool.shared.run(jobs: jobs, share)
        for job in 0..<jobs {
            let mine = sums + job * size
            for e in 0..<size { dB[e] += alpha * mine[e] }
        }
    }
}
