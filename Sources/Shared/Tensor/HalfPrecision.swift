/// Conversions between float32 and the 16-bit formats, bit-exact with torch and ggml.
///
/// bf16 → f32 is a shift; f32 → bf16 rounds to nearest even and keeps NaNs quiet (ggml's
/// `ggml_compute_fp32_to_bf16`, torch's `.to(bfloat16)`). f16 uses Swift's `Float16`, which is IEEE
/// round-to-nearest-even with subnormals (F16C instructions in release builds on x86-64).
public enum HalfPrecision {
    @inlinable @inline(__always)
    public static func bf16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    @inlinable @inline(__always)
    public static func floatToBF16(_ value: Float) -> UInt16 {
        let u = value.bitPattern
        if (u & 0x7FFF_FFFF) > 0x7F80_0000 {
            // NaN: keep the sign and top payload bits, force the quiet bit.
            return UInt16(truncatingIfNeeded: (u >> 16) | 0x40)
        }
        return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
    }

    @inlinable @inline(__always)
    public static func f16ToFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    @inlinable @inline(__always)
    public static func floatToF16(_ value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// Widens `count` bf16 values to float32.
    @inlinable
    public static func widenBF16(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt16>.self)
            let w = SIMD8<UInt32>(truncatingIfNeeded: v) &<< 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: unsafeBitCast(w, to: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = bf16ToFloat(src[i])
            i += 1
        }
    }

    /// Widens `count` f16 values to float32.
    @inlinable
    public static func widenF16(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            dst[i] = f16ToFloat(src[i])
        }
    }

    /// Rounds `count` float32 values to bf16 (nearest even).
    @inlinable
    public static func narrowToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count {
            dst[i] = floatToBF16(src[i])
        }
    }

    /// Rounds `count` float32 values to f16 (nearest even).
    @inlinable
    public static func narrowToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count {
            dst[i] = floatToF16(src[i])
        }
    }
}
