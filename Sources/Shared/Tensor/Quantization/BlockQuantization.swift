import Dispatch

/// What the block formats share: integer → float32 widening in registers, and quantisation split
/// over the cores.
enum BlockQuantization {
    /// 8 signed bytes as floats. Done as (q ^ 0x80) placed in the low mantissa bits of 2^23, minus
    /// 2^23 + 128: integer ops and one subtraction, which vectorise at any SIMD level (exact for
    /// every int8).
    @inline(__always)
    static func widen(_ q: SIMD8<Int8>) -> SIMD8<Float> {
        let u = SIMD8<UInt32>(truncatingIfNeeded: SIMD8<UInt8>(truncatingIfNeeded: q) ^ 0x80)
        return unsafeBitCast(u | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_736
    }

    /// 8 values 0…2^23 as floats, as `widen`.
    @inline(__always)
    static func widen(_ u: SIMD8<UInt32>) -> SIMD8<Float> {
        unsafeBitCast(u | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
    }

    /// A q4 block's 16 bytes, zero-extended to 32 bits in two halves (bytes 0–7, 8–15): the low
    /// nibbles are elements 0–15, the high nibbles 16–31. Masking and shifting in 32-bit lanes
    /// avoids byte-vector shuffles, which Swift's SIMD16<UInt8> halves compiled to scalar code.
    @inline(__always)
    static func nibbleBytes(_ q: UnsafeRawPointer) -> (SIMD8<UInt32>, SIMD8<UInt32>) {
        (SIMD8<UInt32>(truncatingIfNeeded: q.loadUnaligned(as: SIMD8<UInt8>.self)),
         SIMD8<UInt32>(truncatingIfNeeded: q.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self)))
    }

    /// Calls `body(row)` for every row, rows split over the cores (quantising a model's matrices
    /// is a one-off but touches every weight).
    static func forEachRow(rows: Int, cols: Int, _ body: (Int) -> Void) {
        let jobs = rows * cols >= 1 << 16 ? min(Parallel.coreCount, rows) : 1
        if jobs == 1 {
            for r in 0..<rows { body(r) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            for r in (rows * j / jobs)..<(rows * (j + 1) / jobs) { body(r) }
        }
    }
}
