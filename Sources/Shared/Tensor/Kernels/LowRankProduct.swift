import CKernels

/// A product whose inner dimension is a LoRA rank, written rather than added:
///
///     out (rows × n) = α · T (rows × k) · M (k × n)        k small (8–64)
///
/// LoRA adds such a product to a frozen one: s·t·Bᵀ to y = x·Wᵀ in the forward pass, dt·A to
/// dx = dy·W in the backward. Done after the frozen product (OpenBLAS, beta 1) it is a pass that
/// reads and writes the whole output for only k multiply-adds per value, and the frozen product
/// before it (beta 0) has OpenBLAS zero the output first: three passes over a matrix of megabytes
/// for the work of one. Written first, here, it takes the zeroing pass's place, and the frozen
/// product then adds onto it (beta 1): one pass fewer each way.
///
/// The kernel is C's (lf_low_rank_write, at the machine's level: 8 × 32 sums in AVX-512 registers,
/// 6 × 16 in AVX2 ones, while M's rows stream past). Each value is computed whole on one core (no
/// sums across cores), so the result does not depend on the split.
public enum LowRankProduct {
    /// - Parameters:
    ///   - t: T[i, j] at `t[i * rowStride + j * columnStride]` (t row-major, or dt stored transposed);
    ///   - m: row j of M at `m + j * ldm`, its n values contiguous;
    ///   - out: row i at `out + i * ldo`, its n values overwritten;
    ///   - level: the kernel's instruction set (any gives the same bits; capped at `KernelLevel.supported`).
    public static func write(rows: Int, n: Int, k: Int, alpha: Float,
                             t: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                             m: UnsafePointer<Float>, ldm: Int,
                             out: UnsafeMutablePointer<Float>, ldo: Int, level: KernelLevel = .current) {
        guard rows > 0, n > 0 else { return }
        guard k > 0 else {
            for i in 0..<rows { (out + i * ldo).update(repeating: 0, count: n) }
            return
        }
        let jobs = rows >= 64 && rows * n * k >= 1 << 20 ? Parallel.coreCount : 1
        let level = min(level, KernelLevel.supported)  // a higher one would not run here
        let groups = (rows + 7) / 8
        SpinPool.shared.run(jobs: jobs) { job in
            let first = min(rows, 8 * (groups * job / jobs)), last = min(rows, 8 * (groups * (job + 1) / jobs))
            lf_low_rank_write(level.c, first, last, n, k, alpha, t, rowStride, columnStride, m, ldm, out, ldo)
        }
    }
}
