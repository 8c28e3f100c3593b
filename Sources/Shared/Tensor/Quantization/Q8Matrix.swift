import Dispatch

/// A frozen matrix (rows, cols) held as llama.cpp's Q8_0 holds it: each row cut into blocks of 32,
/// each block 32 int8 values q and one float16 scale d = max|w| / 127, w ≈ q · d. 8.5 bits a
/// weight; RMS relative error ~0.55% on SmolLM2's matrices (scripts/bench/quant_formats.py).
///
/// Quants and scales are kept in two arrays (not llama.cpp's interleaved 34-byte blocks) so that
/// every load is a plain aligned vector load. When cols is not a multiple of 32 the last block of a
/// row is padded with zeros, which quantise to q = 0 and are never written out.
public struct Q8Matrix: @unchecked Sendable {
    public static let blockSize = 32
    public let rows: Int
    public let cols: Int
    /// ⌈cols / 32⌉
    public let blocksPerRow: Int
    /// (rows, blocksPerRow · 32)
    let quants: UnsafeMutablePointer<Int8>
    /// (rows, blocksPerRow) float16 bits
    let scales: UnsafeMutablePointer<UInt16>

    /// Quantises `source` (rows, cols) float32 into storage taken from `arena` (the matrix is a
    /// view into it, valid while the arena lives), rows split over the cores.
    public init(quantizing source: UnsafePointer<Float>, rows: Int, cols: Int, arena: Arena) {
        self.rows = rows
        self.cols = cols
        blocksPerRow = (cols + Self.blockSize - 1) / Self.blockSize
        quants = UnsafeMutableRawPointer(arena.byteBuffer(rows * blocksPerRow * Self.blockSize)).bindMemory(to: Int8.self, capacity: rows * blocksPerRow * Self.blockSize)
        scales = arena.halves(rows * blocksPerRow)
        let (quants, scales, blocksPerRow) = (quants, scales, blocksPerRow)
        BlockQuantization.forEachRow(rows: rows, cols: cols) { r in
            for b in 0..<blocksPerRow {
                let start = b * Self.blockSize
                Self.quantizeBlock(source + r * cols + start, count: min(Self.blockSize, cols - start),
                                   quants: quants + (r * blocksPerRow + b) * Self.blockSize, scale: scales + r * blocksPerRow + b)
            }
        }
    }

    /// Bytes held for a (rows, cols) matrix.
    public static func byteCount(rows: Int, cols: Int) -> Int {
        let blocks = rows * ((cols + blockSize - 1) / blockSize)
        return blocks * (blockSize + 2)
    }

    /// d = max|w| / 127 rounded to float16, q = round(w / d): a block of values k · d (|k| ≤ 127,
    /// one of them ±127, d a float16) comes back exactly.
    @inline(__always)
    static func quantizeBlock(_ w: UnsafePointer<Float>, count: Int, quants q: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<UInt16>) {
        var amax: Float = 0
        for i in 0..<count { amax = max(amax, abs(w[i])) }
        let d = Float(Float16(amax / 127))
        scale.pointee = Float16(amax / 127).bitPattern
        q.initialize(repeating: 0, count: blockSize)
        guard d > 0 else { return }
        for i in 0..<count {
            q[i] = Int8(max(-127, min(127, (w[i] / d).rounded())))
        }
    }

    /// w[r, c], one value at a time (the reference the vector paths are tested against).
    public func value(row r: Int, col c: Int) -> Float {
        let b = c / Self.blockSize
        let d = Float(Float16(bitPattern: scales[r * blocksPerRow + b]))
        return Float(quants[(r * blocksPerRow + b) * Self.blockSize + c % Self.blockSize]) * d
    }

    /// Rows o..<o+n as float32 (n × cols values).
    public func dequantizeRows(_ o: Int, _ n: Int, into out: UnsafeMutablePointer<Float>) {
        let full = cols / Self.blockSize
        for r in o..<(o + n) {
            let q = UnsafeRawPointer(quants + r * blocksPerRow * Self.blockSize)
            let s = scales + r * blocksPerRow
            let y = UnsafeMutableRawPointer(out + (r - o) * cols)
            for b in 0..<full {
                let d = SIMD8<Float>(repeating: Float(Float16(bitPattern: s[b])))
                let qb = q + b * Self.blockSize, yb = y + b * Self.blockSize * 4
                yb.storeBytes(of: BlockQuantization.widen(qb.loadUnaligned(as: SIMD8<Int8>.self)) * d, as: SIMD8<Float>.self)
                (yb + 32).storeBytes(of: BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 8, as: SIMD8<Int8>.self)) * d, as: SIMD8<Float>.self)
                (yb + 64).storeBytes(of: BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int8>.self)) * d, as: SIMD8<Float>.self)
                (yb + 96).storeBytes(of: BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 24, as: SIMD8<Int8>.self)) * d, as: SIMD8<Float>.self)
            }
            if full < blocksPerRow {
                let d = Float(Float16(bitPattern: s[full]))
                let qb = quants + (r * blocksPerRow + full) * Self.blockSize
                let yr = out + (r - o) * cols
                for i in (full * Self.blockSize)..<cols { yr[i] = Float(qb[i - full * Self.blockSize]) * d }
            }
        }
    }

    /// y[o] = Σ_i w[o, i] · x[i] straight from the blocks (decoding: one token, so the cost is
    /// reading the matrix once): per block Σ q·x in float32, times d.
    public func matVec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>) {
        let full = cols / Self.blockSize
        let (quants, scales, blocksPerRow, cols) = (quants, scales, blocksPerRow, cols)
        let xr = UnsafeRawPointer(x)
        MatVec.split(rows: rows, cols: cols) { lo, hi in
            for r in lo..<hi {
                let q = UnsafeRawPointer(quants + r * blocksPerRow * Self.blockSize)
                let s = scales + r * blocksPerRow
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
                for b in 0..<full {
                    let qb = q + b * Self.blockSize, xb = b * Self.blockSize * 4
                    var p = BlockQuantization.widen(qb.loadUnaligned(as: SIMD8<Int8>.self)) * xr.loadUnaligned(fromByteOffset: xb, as: SIMD8<Float>.self)
                    var p1 = BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 8, as: SIMD8<Int8>.self)) * xr.loadUnaligned(fromByteOffset: xb + 32, as: SIMD8<Float>.self)
                    p.addProduct(BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int8>.self)), xr.loadUnaligned(fromByteOffset: xb + 64, as: SIMD8<Float>.self))
                    p1.addProduct(BlockQuantization.widen(qb.loadUnaligned(fromByteOffset: 24, as: SIMD8<Int8>.self)), xr.loadUnaligned(fromByteOffset: xb + 96, as: SIMD8<Float>.self))
                    let d = SIMD8<Float>(repeating: Float(Float16(bitPattern: s[b])))
                    // Two accumulators, alternating blocks, so that consecutive FMAs do not wait on each other.
                    if b & 1 == 0 { a0.addProduct(p + p1, d) } else { a1.addProduct(p + p1, d) }
                }
                var sum = (a0 + a1).sum()
                if full < blocksPerRow {
                    let d = Float(Float16(bitPattern: s[full]))
                    let qb = quants + (r * blocksPerRow + full) * Self.blockSize
                    var t: Float = 0
                    for i in (full * Self.blockSize)..<cols { t += Float(qb[i - full * Self.blockSize]) * x[i] }
                    sum += t * d
                }
                y[r] = sum
            }
        }
    }
}
