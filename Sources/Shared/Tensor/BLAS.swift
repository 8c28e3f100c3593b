import CBLAS

/// Row-major matrix products through OpenBLAS: every matrix product in lf goes through here.
public enum BLAS {
    /// C[M, N] = alpha · op(A) · op(B) + beta · C, row-major; op(X) = X or Xᵀ.
    /// `lda`/`ldb`/`ldc` default to the packed row lengths.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        guard m > 0, n > 0 else { return }
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc ?? n))
    }

    /// y[M] = alpha · A[M, N] · x + beta · y (row-major A).
    @inline(__always)
    public static func gemv(m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil, x: UnsafePointer<Float>,
                            beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        guard m > 0 else { return }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda ?? n), x, 1, beta, y, 1)
    }

    /// Runs `body` with OpenBLAS on one thread: for code that already splits work over the cores
    /// and calls BLAS from each of them.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = threads
        if previous != 1 { threads = 1 }
        defer { if previous != 1 { threads = previous } }
        return try body()
    }

    /// The number of threads OpenBLAS uses (defaults to every core).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
