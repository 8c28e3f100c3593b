/// Large products split over lf's worker pool, each part a single-threaded OpenBLAS call.
///
/// OpenBLAS's own threads spin (sched_yield) for a long while after each product; in training,
/// where products alternate with lf's own parallel kernels (attention, norms, activations),
/// that spinning took a tenth of the machine from them. Split here, every core runs one thread
/// of lf's pool and nothing spins. It is also faster on the layer shapes: on 2048 × 960 × 576,
/// 172 GFLOP/s split by rows against 149 with OpenBLAS's two threads (`lf-bench sgemm`).
extension BLAS {
    /// `gemm`, with C's rows (or, when C is wider than tall, its columns) split over the cores.
    /// Small products run as one call.
    public static func parallelGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                                    a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
                                    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
        let pool = SpinPool.shared
        let jobs = min(Parallel.coreCount, pool.threads)
        guard jobs > 1, max(m, n) >= 128 * jobs, 2 * m * n * k >= 1 << 24 else {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let part = { (job: Int) in
            if m >= n {
                let r0 = m * job / jobs, r1 = m * (job + 1) / jobs
                gemm(transA: transA, transB: transB, m: r1 - r0, n: n, k: k, alpha: alpha, a: a + (transA ? r0 : r0 * lda), lda: lda,
                     b: b, ldb: ldb, beta: beta, c: c + r0 * ldc, ldc: ldc)
            } else {
                let c0 = n * job / jobs, c1 = n * (job + 1) / jobs
                gemm(transA: transA, transB: transB, m: m, n: c1 - c0, k: k, alpha: alpha, a: a, lda: lda,
                     b: b + (transB ? c0 * ldb : c0), ldb: ldb, beta: beta, c: c + c0, ldc: ldc)
            }
        }
        // Always these parts, even when the pool is busy and runs them in turn: OpenBLAS may sum a
        // part differently from the whole product.
        singleThreaded { pool.run(jobs: jobs, part) }
    }
}
