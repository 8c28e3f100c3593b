import CBLAS
import Foundation

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
    ///
    /// OpenBLAS's thread count is one global setting, so sections that overlap (two trainings in one
    /// process) count themselves in and out: the first one in sets one thread, the last one out
    /// restores the count. A section that saved and restored the count on its own would turn the
    /// threads back on under another's feet, and OpenBLAS on two threads does not sum exactly as on
    /// one: the other run's results would depend on timing.
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        SingleThreadedSections.enter()
        defer { SingleThreadedSections.leave() }
        return try body()
    }

    /// The number of threads OpenBLAS uses (defaults to every core).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}

/// The open `BLAS.singleThreaded` sections, and the thread count to restore after the last.
private enum SingleThreadedSections {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var open = 0
    nonisolated(unsafe) private static var restore = 1

    static func enter() {
        lock.lock()
        defer { lock.unlock() }
        if open == 0 {
            restore = BLAS.threads
            if restore != 1 { BLAS.threads = 1 }
        }
        open += 1
    }

    static func leave() {
        lock.lock()
        defer { lock.unlock() }
        open -= 1
        if open == 0, restore != 1 { BLAS.threads = restore }
    }
}
