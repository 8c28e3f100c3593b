/// LoRA dropout masks that need no storage: each element's keep/drop decision is a hash of
/// (pass seed, slice, element index), so the backward pass regenerates the forward's mask.
enum Dropout {
    /// mask[i] = 0 with probability p, else 1 / (1 − p) (inverted dropout, as torch).
    static func mask(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Float, seed: UInt64) {
        let keep = 1 / (1 - p)
        // Compare 24 random bits with p·2²⁴: exact for the probabilities people use.
        let threshold = UInt64((Double(p) * Double(1 << 24)).rounded())
        for i in 0..<count {
            mask[i] = mix(seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 40 < threshold ? 0 : keep
        }
    }

    /// The seed of one slice in one pass.
    static func seed(pass: UInt64, slice name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a: stable across runs, unlike hashValue
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return mix(pass ^ h)
    }

    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
