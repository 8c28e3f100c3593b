import Foundation
@testable import Shared
import Testing

/// Q8Matrix and Q4Matrix: values on a format's grid come back exactly, others within half a step;
/// the SIMD paths (row dequantisation, matvec) agree with the one-value-at-a-time definition,
/// including the padded last block of rows whose length is not a multiple of 32.
@Suite struct QuantizationTests {
    enum Format: String, CaseIterable { case q8, q4 }

    /// (rows, cols) Gaussian values, deterministic.
    static func gaussian(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { (Double(rng.next() >> 11) + 0.5) / Double(1 << 53) }
        return (0..<(rows * cols)).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) * 0.02 }
    }

    /// A quantised matrix with the arena that holds its storage (the matrix is a view into it).
    struct Quantized {
        let matrix: WeightMatrix
        let arena: Arena

        func matVec(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
            withExtendedLifetime(arena) { matrix.matVec(y, x, rows: rows, cols: cols) }
        }
    }

    static func quantize(_ format: Format, _ w: [Float], rows: Int, cols: Int, arena: Arena = Arena()) -> Quantized {
        let matrix: WeightMatrix = w.withUnsafeBufferPointer { p in
            switch format {
            case .q8: .q8(Q8Matrix(quantizing: p.baseAddress!, rows: rows, cols: cols, arena: arena))
            case .q4: .q4(Q4Matrix(quantizing: p.baseAddress!, rows: rows, cols: cols, arena: arena))
            }
        }
        return Quantized(matrix: matrix, arena: arena)
    }

    static func value(_ m: Quantized, _ r: Int, _ c: Int) -> Float {
        withExtendedLifetime(m.arena) {
            switch m.matrix {
            case .q8(let q): q.value(row: r, col: c)
            case .q4(let q): q.value(row: r, col: c)
            default: .nan
            }
        }
    }

    static func widen(_ m: Quantized, _ o: Int, _ n: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: n * cols)
        withExtendedLifetime(m.arena) {
            out.withUnsafeMutableBufferPointer { m.matrix.widenRows(o, n, cols: cols, into: $0.baseAddress!) }
        }
        return out
    }

    /// Each block k · d with |k| ≤ 127 (one ±127), d a power of two: exact. Also across a padded tail.
    @Test(arguments: [64, 70, 33])
    func q8IsExactOnItsGrid(cols: Int) {
        let rows = 5
        var rng = SplitMix64(seed: 1)
        var w = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for start in stride(from: 0, to: cols, by: 32) {
                let d = Float(sign: .plus, exponent: -4 - Int(rng.next() % 8), significand: 1)
                for c in start..<min(cols, start + 32) { w[r * cols + c] = Float(Int(rng.next() % 255) - 127) * d }
                w[r * cols + start] = (rng.next() & 1 == 0 ? 127 : -127) * d
            }
        }
        let m = Self.quantize(.q8, w, rows: rows, cols: cols)
        #expect(Self.widen(m, 0, rows, cols: cols) == w)
    }

    /// Each block m + k · d with k in 0…15 (both ends present), m and d float16: exact.
    @Test(arguments: [64, 70, 33])
    func q4IsExactOnItsGrid(cols: Int) {
        let rows = 5
        var rng = SplitMix64(seed: 2)
        var w = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for start in stride(from: 0, to: cols, by: 32) {
                let d = Float(sign: .plus, exponent: -5 - Int(rng.next() % 6), significand: 1)
                let m = Float(Int(rng.next() % 64) - 32) * 0x1p-7
                let end = min(cols, start + 32)
                for c in start..<end { w[r * cols + c] = m + Float(rng.next() % 16) * d }
                w[r * cols + start] = m
                if end - start > 1 { w[r * cols + end - 1] = m + 15 * d }
            }
        }
        let m = Self.quantize(.q4, w, rows: rows, cols: cols)
        #expect(Self.widen(m, 0, rows, cols: cols) == w)
    }

    /// Off the grid every q8 value is within half a step of its block (plus the float16 rounding of
    /// the scale), every q4 value within a step of min/max's (the least-squares fit may clamp the
    /// extremes), and the RMS relative error on Gaussian weights is what
    /// scripts/bench/quant_formats.py measures (q8 0.54%, q4 6.9%; bounds 0.6% and 7.3%).
    @Test(arguments: Format.allCases)
    func errorIsWithinHalfAStep(format: Format) {
        let (rows, cols) = (48, 200)
        let w = Self.gaussian(rows: rows, cols: cols, seed: 3)
        let m = Self.quantize(format, w, rows: rows, cols: cols)
        let back = Self.widen(m, 0, rows, cols: cols)
        var squared: Double = 0, norm: Double = 0, worst: Float = 0
        // q4's least-squares (d, m) may clamp a block's extremes by more than half a min/max step.
        let bound: Float = format == .q8 ? 0.5 * 1.01 : 1
        for r in 0..<rows {
            for start in stride(from: 0, to: cols, by: 32) {
                let block = (start..<min(cols, start + 32)).map { w[r * cols + $0] }
                let (lo, hi) = (block.min()!, block.max()!)
                let amax = max(-lo, hi)
                let step = format == .q8 ? amax / 127 : (hi - lo) / 15
                for c in start..<min(cols, start + 32) {
                    let e = abs(back[r * cols + c] - w[r * cols + c])
                    worst = max(worst, e / step)
                    #expect(e <= bound * step + 0x1p-11 * amax, "[\(r), \(c)] \(w[r * cols + c]) → \(back[r * cols + c])")
                    squared += Double(e * e)
                    norm += Double(w[r * cols + c] * w[r * cols + c])
                }
            }
        }
        let relative = (squared / norm).squareRoot()
        #expect(relative <= (format == .q8 ? 0.006 : 0.073), "RMS relative error \(relative)")
        #expect(worst > 0.4, "some value should be near half a step off")
    }

    /// Row ranges starting and ending anywhere, rows with a padded last block: the SIMD rows
    /// equal the one-value-at-a-time dequantisation.
    @Test(arguments: Format.allCases)
    func widenRowsEqualsElementwise(format: Format) {
        for cols in [32, 96, 70, 45, 1] {
            let rows = 9
            let w = Self.gaussian(rows: rows, cols: cols, seed: UInt64(cols))
            let m = Self.quantize(format, w, rows: rows, cols: cols)
            for (o, n) in [(0, 9), (3, 1), (2, 5), (8, 1)] {
                let expected = (o..<(o + n)).flatMap { r in (0..<cols).map { Self.value(m, r, $0) } }
                #expect(Self.widen(m, o, n, cols: cols) == expected, "cols \(cols), rows \(o)..<\(o + n)")
            }
        }
    }

    /// The direct matvec (blocks · x) against the dequantised rows · x, on both cores and on one.
    @Test(arguments: Format.allCases)
    func matVecEqualsTheDequantisedProduct(format: Format) {
        for (rows, cols) in [(300, 256), (5, 70), (64, 1000)] {
            let w = Self.gaussian(rows: rows, cols: cols, seed: 9)
            let x = Self.gaussian(rows: 1, cols: cols, seed: 10).map { $0 * 50 }
            let m = Self.quantize(format, w, rows: rows, cols: cols)
            let wide = Self.widen(m, 0, rows, cols: cols)
            var y = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { m.matVec($0.baseAddress!, xp.baseAddress!, rows: rows, cols: cols) }
            }
            for r in 0..<rows {
                var expected: Double = 0, scale: Double = 0
                for c in 0..<cols {
                    expected += Double(wide[r * cols + c]) * Double(x[c])
                    scale += abs(Double(wide[r * cols + c]) * Double(x[c]))
                }
                #expect(abs(Double(y[r]) - expected) <= 1e-5 * scale + 1e-7, "\(rows)x\(cols) row \(r): \(y[r]) vs \(expected)")
            }
        }
    }

    /// 34 bytes per 32 values for q8, 20 for q4 (a padded block counts whole), drawn from the arena.
    @Test func storageSizes() {
        #expect(Q8Matrix.byteCount(rows: 10, cols: 64) == 10 * 2 * 34)
        #expect(Q4Matrix.byteCount(rows: 10, cols: 64) == 10 * 2 * 20)
        #expect(Q8Matrix.byteCount(rows: 3, cols: 33) == 3 * 2 * 34)
        #expect(Q4Matrix.byteCount(rows: 3, cols: 70) == 3 * 3 * 20)
        for format in Format.allCases {
            let arena = Self.quantize(format, [Float](repeating: 1, count: 7 * 96), rows: 7, cols: 96).arena
            #expect(arena.bytes == (format == .q8 ? Q8Matrix.byteCount(rows: 7, cols: 96) : Q4Matrix.byteCount(rows: 7, cols: 96)))
        }
    }

    /// Zero rows come back exactly in both formats; constant blocks (d = 0) too in q4, whose
    /// minimum is the value.
    @Test(arguments: Format.allCases)
    func flatBlocksComeBackExactly(format: Format) {
        let cols = 40
        let w = (0..<(3 * cols)).map { i in i < cols || format == .q8 ? Float(0) : i < 2 * cols ? Float(-0.75) : Float(1.5) }
        let m = Self.quantize(format, w, rows: 3, cols: cols)
        #expect(Self.widen(m, 0, 3, cols: cols) == w)
    }
}
