import Dispatch

/// Matrix-vector products for decoding (one token: y = W x), where the cost is reading W once:
/// SIMD over the row, four rows at a time so that each load of x serves four rows, rows split
/// over the cores. The bf16 form widens the weights in registers (a shift), so it reads half the
/// bytes of the float32 form.
public enum MatVec {
    /// y[o] = Σ_i W[o, i] · x[i] for W (rows, cols) float32.
    public static func f32(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        split(rows: rows, cols: cols) { lo, hi in
            var o = lo
            while o + 4 <= hi {
                let r0 = UnsafeRawPointer(w + o * cols), r1 = UnsafeRawPointer(w + (o + 1) * cols)
                let r2 = UnsafeRawPointer(w + (o + 2) * cols), r3 = UnsafeRawPointer(w + (o + 3) * cols)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var i = 0
                while i + 8 <= cols {
                    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                    a0.addProduct(r0.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), xv)
                    a1.addProduct(r1.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), xv)
                    a2.addProduct(r2.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), xv)
                    a3.addProduct(r3.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), xv)
                    i += 8
                }
                var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                while i < cols {
                    s0 += w[o * cols + i] * x[i]; s1 += w[(o + 1) * cols + i] * x[i]
                    s2 += w[(o + 2) * cols + i] * x[i]; s3 += w[(o + 3) * cols + i] * x[i]
                    i += 1
                }
                y[o] = s0; y[o + 1] = s1; y[o + 2] = s2; y[o + 3] = s3
                o += 4
            }
            while o < hi {
                y[o] = dot(w + o * cols, x, cols)
                o += 1
            }
        }
    }

    /// y[o] = Σ_i widen(W[o, i]) · x[i] for W (rows, cols) bfloat16.
    public static func bf16(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        @inline(__always) func widen(_ p: UnsafeRawPointer, _ i: Int) -> SIMD8<Float> {
            let h = p.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
            return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
        }
        split(rows: rows, cols: cols) { lo, hi in
            var o = lo
            while o + 4 <= hi {
                let r0 = UnsafeRawPointer(w + o * cols), r1 = UnsafeRawPointer(w + (o + 1) * cols)
                let r2 = UnsafeRawPointer(w + (o + 2) * cols), r3 = UnsafeRawPointer(w + (o + 3) * cols)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var i = 0
                while i + 8 <= cols {
                    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                    a0.addProduct(widen(r0, i), xv)
                    a1.addProduct(widen(r1, i), xv)
                    a2.addProduct(widen(r2, i), xv)
                    a3.addProduct(widen(r3, i), xv)
                    i += 8
                }
                var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                while i < cols {
                    s0 += HalfPrecision.bf16ToFloat(w[o * cols + i]) * x[i]
                    s1 += HalfPrecision.bf16ToFloat(w[(o + 1) * cols + i]) * x[i]
                    s2 += HalfPrecision.bf16ToFloat(w[(o + 2) * cols + i]) * x[i]
                    s3 += HalfPrecision.bf16ToFloat(w[(o + 3) * cols + i]) * x[i]
                    i += 1
                }
                y[o] = s0; y[o + 1] = s1; y[o + 2] = s2; y[o + 3] = s3
                o += 4
            }
            while o < hi {
                var s: Float = 0
                for i in 0..<cols { s += HalfPrecision.bf16ToFloat(w[o * cols + i]) * x[i] }
                y[o] = s
                o += 1
            }
        }
    }

    /// Splits rows over the cores in blocks of multiples of 4 (small products stay on one thread).
    @inline(__always)
    static func split(rows: Int, cols: Int, _ body: (Int, Int) -> Void) {
        let jobs = rows * cols >= 1 << 16 ? min(Parallel.coreCount, max(1, rows / 4)) : 1
        if jobs == 1 { body(0, rows); return }
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            let lo = (rows * j / jobs) & ~3
            let hi = j == jobs - 1 ? rows : (rows * (j + 1) / jobs) & ~3
            body(lo, hi)
        }
    }
}
