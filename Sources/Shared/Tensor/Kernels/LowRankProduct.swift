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
/// Four rows at a time keep 4 × 16 sums in registers while M's rows stream past; each value is
/// computed whole on one core (no sums across cores), so the result does not depend on the split.
public enum LowRankProduct {
    /// - Parameters:
    ///   - t: T[i, j] at `t[i * rowStride + j * columnStride]` (t row-major, or dt stored transposed);
    ///   - m: row j of M at `m + j * ldm`, its n values contiguous;
    ///   - out: row i at `out + i * ldo`, its n values overwritten.
    public static func write(rows: Int, n: Int, k: Int, alpha: Float,
                             t: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                             m: UnsafePointer<Float>, ldm: Int,
                             out: UnsafeMutablePointer<Float>, ldo: Int) {
        guard rows > 0, n > 0 else { return }
        guard k > 0 else {
            for i in 0..<rows { (out + i * ldo).update(repeating: 0, count: n) }
            return
        }
        let jobs = rows >= 64 && rows * n * k >= 1 << 20 ? Parallel.coreCount : 1
        let groups = (rows + 3) / 4
        SpinPool.shared.run(jobs: jobs) { job in
            let first = min(rows, 4 * (groups * job / jobs)), last = min(rows, 4 * (groups * (job + 1) / jobs))
            var i = first
            while i < last {
                let count = min(4, last - i)
                var c = 0
                if count == 4 {
                    while c + 16 <= n {
                        block4x16(i, c, k: k, alpha: alpha, t: t, ti: rowStride, tj: columnStride, m: m, ldm: ldm, out: out, ldo: ldo)
                        c += 16
                    }
                }
                // The ragged columns (and rows) one value at a time: n is a multiple of 16 in
                // every model lf knows but the tiny test ones.
                for r in i..<(i + count) {
                    for column in (count == 4 ? c : 0)..<n {
                        var sum: Float = 0
                        for j in 0..<k { sum += t[r * rowStride + j * columnStride] * m[j * ldm + column] }
                        out[r * ldo + column] = alpha * sum
                    }
                }
                i += count
            }
        }
    }

    private typealias V = SIMD8<Float>

    /// Rows i..<i+4, columns c..<c+16.
    @inline(__always)
    private static func block4x16(_ i: Int, _ c: Int, k: Int, alpha: Float, t: UnsafePointer<Float>, ti: Int, tj: Int,
                                  m: UnsafePointer<Float>, ldm: Int, out: UnsafeMutablePointer<Float>, ldo: Int) {
        var a00 = V(), a01 = V(), a10 = V(), a11 = V(), a20 = V(), a21 = V(), a30 = V(), a31 = V()
        let t0 = t + i * ti, t1 = t0 + ti, t2 = t1 + ti, t3 = t2 + ti
        var mp = m + c
        for j in 0..<k {
            let m0 = load8(mp), m1 = load8(mp + 8)
            let o = j * tj
            var d = V(repeating: t0[o])
            a00 = a00.addingProduct(d, m0); a01 = a01.addingProduct(d, m1)
            d = V(repeating: t1[o])
            a10 = a10.addingProduct(d, m0); a11 = a11.addingProduct(d, m1)
            d = V(repeating: t2[o])
            a20 = a20.addingProduct(d, m0); a21 = a21.addingProduct(d, m1)
            d = V(repeating: t3[o])
            a30 = a30.addingProduct(d, m0); a31 = a31.addingProduct(d, m1)
            mp += ldm
        }
        let s = V(repeating: alpha)
        let o0 = out + i * ldo + c, o1 = o0 + ldo, o2 = o1 + ldo, o3 = o2 + ldo
        store8(a00 * s, o0); store8(a01 * s, o0 + 8)
        store8(a10 * s, o1); store8(a11 * s, o1 + 8)
        store8(a20 * s, o2); store8(a21 * s, o2 + 8)
        store8(a30 * s, o3); store8(a31 * s, o3 + 8)
    }
}
