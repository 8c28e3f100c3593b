/// C (m × n) = α · A (m × k) · B (k × n) (+ C), for narrow C: n a multiple of 8 up to 64 (a LoRA
/// rank), A read through two strides so that it may be a transposed view.
///
/// LoRA's backward makes dt = s · dy · B (rows × r) and dB = s · dyᵀ · t (out × r); OpenBLAS
/// packs the whole of dy for each such product and then does only r multiply-adds per packed
/// value: timed inside training they ran at 35–40 GFLOP/s on two cores (in `lf-bench sgemm`,
/// with dy hot in the cache, 90–120). This kernel reads A in place, keeping 6 rows × 16 columns
/// of C in registers; a SmolLM2 pass (`lf-bench train`, paired with `farm-bench --vs`) took
/// 0.98× the time with it for dt and 0.94× for dt and dB, though `lf-bench narrow` shows it no
/// faster than OpenBLAS on a hot cache.
public enum NarrowGemm {
    /// Whether C's width suits the kernel.
    public static func takes(_ n: Int) -> Bool { n % 8 == 0 && n <= 64 }

    /// - Parameters:
    ///   - a: element (i, p) at `a[i * rowStride + p * columnStride]`;
    ///   - b: row-major (k × n), leading dimension `ldb`;
    ///   - c: element (i, j) at `c[i * ldc + j]`, or with `transposeC` at `c[j * ldc + i]`.
    public static func multiply(m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                                b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                c: UnsafeMutablePointer<Float>, ldc: Int, transposeC: Bool = false) {
        precondition(n % 8 == 0 && n <= 64, "NarrowGemm takes n a multiple of 8 up to 64")
        let jobs = m * n * k >= 1 << 20 && m >= 64 && !SpinPool.shared.isBusy ? Parallel.coreCount : 1
        SpinPool.shared.run(jobs: jobs) { job in
            let i0 = m * job / jobs, i1 = m * (job + 1) / jobs
            var j = 0
            while j < n {
                let width = n - j >= 16 ? 16 : 8
                var i = i0
                while i < i1 {
                    let rows = min(6, i1 - i)
                    if width == 16 {
                        panel16(rows: rows, k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride, columnStride: columnStride,
                                b: b + j, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, row: i, column: j, transposeC: transposeC)
                    } else {
                        panel8(rows: rows, k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride, columnStride: columnStride,
                               b: b + j, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, row: i, column: j, transposeC: transposeC)
                    }
                    i += rows
                }
                j += width
            }
        }
    }

    /// Up to 6 rows × 16 columns of C, in 12 registers.
    @inline(__always)
    private static func panel16(rows: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                                b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                c: UnsafeMutablePointer<Float>, ldc: Int, row: Int, column: Int, transposeC: Bool) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        let raw = UnsafeRawPointer(b)
        // Rows past `rows` read row 0 again (their sums are dropped): one loop for every count.
        let r1 = rows > 1 ? rowStride : 0, r2 = rows > 2 ? 2 * rowStride : 0, r3 = rows > 3 ? 3 * rowStride : 0
        let r4 = rows > 4 ? 4 * rowStride : 0, r5 = rows > 5 ? 5 * rowStride : 0
        for p in 0..<k {
            let b0 = raw.loadUnaligned(fromByteOffset: p * ldb * 4, as: V.self)
            let b1 = raw.loadUnaligned(fromByteOffset: (p * ldb + 8) * 4, as: V.self)
            let ap = a + p * columnStride
            var x = V(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: ap[r1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: ap[r2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V(repeating: ap[r3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V(repeating: ap[r4])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V(repeating: ap[r5])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        }
        // Row by row, no array of sums: this runs once per panel, thousands of times per product.
        func put(_ r: Int, _ left: V, _ right: V) {
            guard r < rows else { return }
            store(left, alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, row: row + r, column: column, transposeC: transposeC)
            store(right, alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, row: row + r, column: column + 8, transposeC: transposeC)
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21); put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
    }

    /// Up to 6 rows × 8 columns of C.
    @inline(__always)
    private static func panel8(rows: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                               b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                               c: UnsafeMutablePointer<Float>, ldc: Int, row: Int, column: Int, transposeC: Bool) {
        typealias V = SIMD8<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        let raw = UnsafeRawPointer(b)
        let r1 = rows > 1 ? rowStride : 0, r2 = rows > 2 ? 2 * rowStride : 0, r3 = rows > 3 ? 3 * rowStride : 0
        let r4 = rows > 4 ? 4 * rowStride : 0, r5 = rows > 5 ? 5 * rowStride : 0
        for p in 0..<k {
            let b0 = raw.loadUnaligned(fromByteOffset: p * ldb * 4, as: V.self)
            let ap = a + p * columnStride
            c0 = c0.addingProduct(V(repeating: ap[0]), b0)
            c1 = c1.addingProduct(V(repeating: ap[r1]), b0)
            c2 = c2.addingProduct(V(repeating: ap[r2]), b0)
            c3 = c3.addingProduct(V(repeating: ap[r3]), b0)
            c4 = c4.addingProduct(V(repeating: ap[r4]), b0)
            c5 = c5.addingProduct(V(repeating: ap[r5]), b0)
        }
        func put(_ r: Int, _ sum: V) {
            guard r < rows else { return }
            store(sum, alpha: alpha, accumulate: accumulate, c: c, ldc: ldc, row: row + r, column: column, transposeC: transposeC)
        }
        put(0, c0); put(1, c1); put(2, c2); put(3, c3); put(4, c4); put(5, c5)
    }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, alpha: Float, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                              row: Int, column: Int, transposeC: Bool) {
        let scaled = v * alpha
        for lane in 0..<8 {
            let at = transposeC ? (column + lane) * ldc + row : row * ldc + column + lane
            c[at] = accumulate ? c[at] + scaled[lane] : scaled[lane]
        }
    }
}
