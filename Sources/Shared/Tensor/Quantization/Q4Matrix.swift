/// A frozen matrix (rows, cols) in 4 bits a weight, as llama.cpp's Q4_1: each row cut into blocks of
/// 32, each block a float16 scale d, a float16 minimum m and 32 nibbles q, w ≈ q · d + m. 5 bits a
/// weight.
///
/// Why scale + minimum: on SmolLM2's matrices and on Gaussian and t(5) noise, blocks of 32 with
/// (d, m) from min/max gave an RMS relative error of 7.4–9.0%, symmetric Q4_0 8.6–11.1% and NF4
/// 8.7–9.3%, and with the least-squares refit below 6.1–8.2% (scripts/bench/quant_formats.py);
/// the half bit more buys the lowest error, and dequantisation is one multiply-add where NF4 needs
/// a table lookup per value. SmolLM2 ships as Q4_1, so this format keeps its loss exactly; with
/// blocks shifted 16 columns off that grid its loss (3.396 on 9k tokens) rose by 0.147 with the
/// refit, 0.213 with min/max alone, 0.204 with Q4_0 and 0.187 with NF4.
///
/// Nibble order is llama.cpp's: byte j of a block holds element j (low nibble) and element j + 16
/// (high nibble), so one 16-byte load gives the whole block. When cols is not a multiple of 32 the
/// last block of a row is padded; the padding takes no part in the block's min and max.
public struct Q4Matrix: @unchecked Sendable {
    public static let blockSize = 32
    public let rows: Int
    public let cols: Int
    /// ⌈cols / 32⌉
    public let blocksPerRow: Int
    /// (rows, blocksPerRow · 16) packed nibbles
    let quants: UnsafeMutablePointer<UInt8>
    /// (rows, blocksPerRow, 2) float16 bits: d, m
    let parameters: UnsafeMutablePointer<UInt16>

    /// Quantises `source` (rows, cols) float32 into storage taken from `arena` (the matrix is a
    /// view into it, valid while the arena lives), rows split over the cores.
    public init(quantizing source: UnsafePointer<Float>, rows: Int, cols: Int, arena: Arena) {
        self.rows = rows
        self.cols = cols
        blocksPerRow = (cols + Self.blockSize - 1) / Self.blockSize
        quants = arena.byteBuffer(rows * blocksPerRow * Self.blockSize / 2)
        parameters = arena.halves(rows * blocksPerRow * 2)
        let (quants, parameters, blocksPerRow) = (quants, parameters, blocksPerRow)
        BlockQuantization.forEachRow(rows: rows, cols: cols) { r in
            for b in 0..<blocksPerRow {
                let start = b * Self.blockSize
                let block = r * blocksPerRow + b
                Self.quantizeBlock(source + r * cols + start, count: min(Self.blockSize, cols - start),
                                   quants: quants + block * Self.blockSize / 2, parameters: parameters + 2 * block)
            }
        }
    }

    /// Bytes held for a (rows, cols) matrix.
    public static func byteCount(rows: Int, cols: Int) -> Int {
        let blocks = rows * ((cols + blockSize - 1) / blockSize)
        return blocks * (blockSize / 2 + 4)
    }

    /// First m = min and d = (max − m) / 15, both rounded to float16, q = round((w − m) / d)
    /// clamped to 0…15; a block of values m + k · d (k in 0…15, both ends present, m and d
    /// float16) comes back exactly. Then, as llama.cpp's make_qkx2_quants, five other step sizes
    /// (range / (15 ± 0.5, 0.25, 0)) each give an assignment q whose least-squares (d, m) is tried,
    /// and the (d, m) with the smallest squared error is kept: 9–18% lower RMS error than min/max
    /// alone on SmolLM2's matrices and Gaussian noise, for 6× the (one-off) quantisation work.
    static func quantizeBlock(_ w: UnsafePointer<Float>, count: Int, quants q: UnsafeMutablePointer<UInt8>,
                              parameters p: UnsafeMutablePointer<UInt16>) {
        var lo = w[0], hi = w[0]
        for i in 1..<count {
            lo = min(lo, w[i])
            hi = max(hi, w[i])
        }
        /// Σ (w − (round((w − m) / d) · d + m))² with q clamped to 0…15 (in vectors for a full
        /// block: this runs six times per block and dominated quantisation as a scalar loop).
        func error(_ d: Float, _ m: Float) -> Float {
            if count == blockSize, d > 0 {
                let raw = UnsafeRawPointer(w)
                let (dv, mv, inverse) = (SIMD8<Float>(repeating: d), SIMD8<Float>(repeating: m), SIMD8<Float>(repeating: 1 / d))
                var e = SIMD8<Float>()
                for k in 0..<4 {
                    let x = raw.loadUnaligned(fromByteOffset: k * 32, as: SIMD8<Float>.self)
                    let q = ((x - mv) * inverse).rounded(.toNearestOrAwayFromZero).clamped(lowerBound: .zero, upperBound: SIMD8(repeating: 15))
                    let r = x - (q * dv + mv)
                    e += r * r
                }
                return e.sum()
            }
            var e: Float = 0
            for i in 0..<count {
                let k = d > 0 ? max(0, min(15, ((w[i] - m) / d).rounded())) : 0
                let r = w[i] - (k * d + m)
                e += r * r
            }
            return e
        }
        var m = Float16(lo)
        var d = Float16((hi - Float(m)) / 15)
        if hi > lo {
            var best = error(Float(d), Float(m))
            for step: Float in [-0.5, -0.25, 0, 0.25, 0.5] {
                let inverse = (15 + step) / (hi - lo)
                var (sq, sqq, sx, sqx): (Float, Float, Float, Float) = (0, 0, 0, 0)
                for i in 0..<count {
                    let k = max(0, min(15, ((w[i] - lo) * inverse).rounded()))
                    sq += k; sqq += k * k; sx += w[i]; sqx += k * w[i]
                }
                let n = Float(count), det = n * sqq - sq * sq
                guard det > 0 else { continue }
                let dFit = (n * sqx - sq * sx) / det
                let mFit = (sx - dFit * sq) / n
                let (d16, m16) = (Float16(dFit), Float16(mFit))
                guard d16 > 0 else { continue }
                let e = error(Float(d16), Float(m16))
                if e < best {
                    best = e
                    (d, m) = (d16, m16)
                }
            }
        }
        p[0] = d.bitPattern
        p[1] = m.bitPattern
        q.initialize(repeating: 0, count: blockSize / 2)
        let (df, mf) = (Float(d), Float(m))
        guard df > 0 else { return }
        for i in 0..<count {
            let k = UInt8(max(0, min(15, ((w[i] - mf) / df).rounded())))
            q[i & 15] |= i < 16 ? k : k << 4
        }
    }

    /// Element i (< blockSize) of the block whose nibbles start at `q`.
    @inline(__always)
    static func nibble(_ q: UnsafePointer<UInt8>, _ i: Int) -> UInt8 {
        i < 16 ? q[i] & 0x0F : q[i - 16] >> 4
    }

    /// w[r, c], one value at a time (the reference the vector paths are tested against).
    public func value(row r: Int, col c: Int) -> Float {
        let block = r * blocksPerRow + c / Self.blockSize
        let d = Float(Float16(bitPattern: parameters[2 * block])), m = Float(Float16(bitPattern: parameters[2 * block + 1]))
        return Float(Self.nibble(quants + block * Self.blockSize / 2, c % Self.blockSize)) * d + m
    }

    /// Rows o..<o+n as float32 (n × cols values).
    public func dequantizeRows(_ o: Int, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        let full = cols / Self.blockSize
        for r in o..<(o + n) {
            let q = UnsafeRawPointer(quants + r * blocksPerRow * Self.blockSize / 2)
            let p = parameters + 2 * r * blocksPerRow
            let y = UnsafeMutableRawPointer(out + (r - o) * cols)
            for b in 0..<full {
                let d = SIMD8<Float>(repeating: Float(Float16(bitPattern: p[2 * b])))
                let m = SIMD8<Float>(repeating: Float(Float16(bitPattern: p[2 * b + 1])))
                let (v0, v1) = BlockQuantization.nibbleBytes(q + b * 16)
                let yb = y + b * Self.blockSize * 4
                yb.storeBytes(of: BlockQuantization.widen(v0 & 0x0F) * d + m, as: SIMD8<Float>.self)
                (yb + 32).storeBytes(of: BlockQuantization.widen(v1 & 0x0F) * d + m, as: SIMD8<Float>.self)
                (yb + 64).storeBytes(of: BlockQuantization.widen(v0 &>> 4) * d + m, as: SIMD8<Float>.self)
                (yb + 96).storeBytes(of: BlockQuantization.widen(v1 &>> 4) * d + m, as: SIMD8<Float>.self)
            }
            if full < blocksPerRow {
                let d = Float(Float16(bitPattern: p[2 * full])), m = Float(Float16(bitPattern: p[2 * full + 1]))
                let qb = quants + (r * blocksPerRow + full) * Self.blockSize / 2
                let yr = out + (r - o) * cols
                for i in (full * Self.blockSize)..<cols { yr[i] = Float(Self.nibble(qb, i - full * Self.blockSize)) * d + m }
            }
        }
    }

    /// y[o] = Σ_i w[o, i] · x[i] straight from the blocks (decoding): per block
    /// d · Σ q·x + m · Σ x, with Σ x per block computed once for all rows.
    public func matVec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>) {
        let full = cols / Self.blockSize
        let (quants, parameters, blocksPerRow, cols) = (quants, parameters, blocksPerRow, cols)
        let blockSums = UnsafeMutablePointer<Float>.allocate(capacity: blocksPerRow)
        defer { blockSums.deallocate() }
        for b in 0..<blocksPerRow {
            var s: Float = 0
            for i in (b * Self.blockSize)..<min(cols, (b + 1) * Self.blockSize) { s += x[i] }
            blockSums[b] = s
        }
        let xr = UnsafeRawPointer(x)
        MatVec.split(rows: rows, cols: cols) { lo, hi in
            for r in lo..<hi {
                let q = UnsafeRawPointer(quants + r * blocksPerRow * Self.blockSize / 2)
                let p = parameters + 2 * r * blocksPerRow
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
                var offsets: Float = 0
                for b in 0..<full {
                    let (v0, v1) = BlockQuantization.nibbleBytes(q + b * 16)
                    let xb = b * Self.blockSize * 4
                    var s = BlockQuantization.widen(v0 & 0x0F) * xr.loadUnaligned(fromByteOffset: xb, as: SIMD8<Float>.self)
                    var s1 = BlockQuantization.widen(v1 & 0x0F) * xr.loadUnaligned(fromByteOffset: xb + 32, as: SIMD8<Float>.self)
                    s.addProduct(BlockQuantization.widen(v0 &>> 4), xr.loadUnaligned(fromByteOffset: xb + 64, as: SIMD8<Float>.self))
                    s1.addProduct(BlockQuantization.widen(v1 &>> 4), xr.loadUnaligned(fromByteOffset: xb + 96, as: SIMD8<Float>.self))
                    let d = SIMD8<Float>(repeating: Float(Float16(bitPattern: p[2 * b])))
                    if b & 1 == 0 { a0.addProduct(s + s1, d) } else { a1.addProduct(s + s1, d) }
                    offsets += Float(Float16(bitPattern: p[2 * b + 1])) * blockSums[b]
                }
                var sum = (a0 + a1).sum() + offsets
                if full < blocksPerRow {
                    let d = Float(Float16(bitPattern: p[2 * full])), m = Float(Float16(bitPattern: p[2 * full + 1]))
                    let qb = quants + (r * blocksPerRow + full) * Self.blockSize / 2
                    var t: Float = 0
                    for i in (full * Self.blockSize)..<cols { t += Float(Self.nibble(qb, i - full * Self.blockSize)) * x[i] }
                    sum += t * d + m * blockSums[full]
                }
                y[r] = sum
            }
        }
    }
}
