import Foundation
import Shared
import Testing

@Suite struct HalfPrecisionTests {
    @Test func bf16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly half-way between two bf16 values (1 and 1 + 2^-7): ties go to even (1).
        #expect(HalfPrecision.floatToBF16(1 + 0x1p-8) == 0x3F80)
        // 1 + 3·2^-8 is half-way between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to even.
        #expect(HalfPrecision.floatToBF16(1 + 3 * 0x1p-8) == 0x3F82)
        #expect(HalfPrecision.floatToBF16(-2.5) == 0xC020)
        #expect(HalfPrecision.bf16ToFloat(0xC020) == -2.5)
        // Overflow rounds to infinity, like torch.
        #expect(HalfPrecision.floatToBF16(Float.greatestFiniteMagnitude) == 0x7F80)
    }

    @Test func bf16KeepsNaNQuiet() {
        let nan = Float(bitPattern: 0x7F80_0001)  // a signalling NaN with a low payload bit
        let bits = HalfPrecision.floatToBF16(nan)
        #expect(HalfPrecision.bf16ToFloat(bits).isNaN)
        #expect(bits == 0x7FC0)
    }

    @Test func f16KeepsSubnormals() {
        let tiny: Float = 0x1p-24  // smallest f16 subnormal
        #expect(HalfPrecision.floatToF16(tiny) == 0x0001)
        #expect(HalfPrecision.f16ToFloat(0x0001) == tiny)
        #expect(HalfPrecision.floatToF16(65520) == 0x7C00)  // rounds to +inf
        #expect(HalfPrecision.f16ToFloat(0x3C00) == 1)
    }

    @Test func widenBF16MatchesScalarOnOddLengths() {
        let values: [Float] = (0..<19).map { Float($0) * -0.37 + 0.125 }
        let bits = values.map(HalfPrecision.floatToBF16)
        var out = [Float](repeating: .nan, count: bits.count)
        bits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                HalfPrecision.widenBF16(src.baseAddress!, dst.baseAddress!, count: bits.count)
            }
        }
        #expect(out == bits.map(HalfPrecision.bf16ToFloat))
    }
}
