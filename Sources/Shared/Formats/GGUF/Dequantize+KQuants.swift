// The K-quants: 256-element super-blocks split into sub-blocks that each have a quantized scale
// (and, for Q4_K/Q5_K, a quantized minimum) relative to the super-block's f16 `d` (and `dmin`).
// Arithmetic as ggml writes it, in float32, rounded after each operation:
//   Q4_K/Q5_K: d1 = d · sc, m1 = dmin · m, value = d1 · q − m1
//   Q6_K:      value = (d · sc) · q

/// The 6-bit scale and minimum of sub-block `j` (0…7) of a Q4_K/Q5_K super-block, packed in 12 bytes:
/// sub-blocks 0–3 keep 6 bits in bytes j (scale) and j+4 (min); sub-blocks 4–7 keep their low 4 bits
/// in byte j+4 (scale low nibble, min high nibble) and their top 2 bits in the top bits of bytes
/// j−4 (scale) and j (min). ggml's `get_scale_min_k4`.
@inline(__always)
func kQuantScaleMin(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (q[j] & 63, q[j + 4] & 63)
    }
    return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
}

/// Q4_K — 144 bytes per 256 elements, 8 sub-blocks of 32:
/// ```
/// 0   f16    d       super-block scale of the sub-block scales
/// 2   f16    dmin    super-block scale of the sub-block minimums
/// 4   u8×12  scales  6-bit scale and min per sub-block (see kQuantScaleMin)
/// 16  u8×128 qs      nibbles: bytes 32i…32i+31 hold sub-block 2i (low nibbles) and 2i+1 (high nibbles)
/// ```
/// value = (d · sc) · nibble − dmin · m
func dequantizeQ4K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 256
    for b in 0 ..< blocks {
        let block = src + b * 144
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
        var q = (block + 16).assumingMemoryBound(to: UInt8.self)
        var y = dst + b * 256
        for pair in 0 ..< 4 {
            let (sc1, m1q) = kQuantScaleMin(2 * pair, scales)
            let (sc2, m2q) = kQuantScaleMin(2 * pair + 1, scales)
            let d1 = d * Float(sc1), m1 = dmin * Float(m1q)
            let d2 = d * Float(sc2), m2 = dmin * Float(m2q)
            for l in 0 ..< 32 { y[l] = d1 * Float(q[l] & 0x0F) - m1 }
            for l in 0 ..< 32 { y[l + 32] = d2 * Float(q[l] >> 4) - m2 }
            q += 32
            y += 64
        }
    }
}

/// Q5_K — 176 bytes per 256 elements, 8 sub-blocks of 32:
/// ```
/// 0   f16    d       super-block scale of the sub-block scales
/// 2   f16    dmin    super-block scale of the sub-block minimums
/// 4   u8×12  scales  6-bit scale and min per sub-block (see kQuantScaleMin)
/// 16  u8×32  qh      fifth bits: bit k of qh[l] belongs to element l of sub-block k
/// 48  u8×128 qs      low nibbles, laid out as in Q4_K
/// ```
/// value = (d · sc) · (nibble + 16 · fifth bit) − dmin · m
func dequantizeQ5K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 256
    for b in 0 ..< blocks {
        let block = src + b * 176
        let d = loadF16(block, 0)
        let dmin = loadF16(block, 2)
        let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
        var ql = (block + 48).assumingMemoryBound(to: UInt8.self)
        var y = dst + b * 256
        var u1: UInt8 = 1, u2: UInt8 = 2
        for pair in 0 ..< 4 {
            let (sc1, m1q) = kQuantScaleMin(2 * pair, scales)
            let (sc2, m2q) = kQuantScaleMin(2 * pair + 1, scales)
            let d1 = d * Float(sc1), m1 = dmin * Float(m1q)
            let d2 = d * Float(sc2), m2 = dmin * Float(m2q)
            for l in 0 ..< 32 { y[l] = d1 * Float((ql[l] & 0x0F) + (qh[l] & u1 != 0 ? 16 : 0)) - m1 }
            for l in 0 ..< 32 { y[l + 32] = d2 * Float((ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - m2 }
            ql += 32
            y += 64
            u1 <<= 2
            u2 <<= 2
        }
    }
}

/// Q6_K — 210 bytes per 256 elements, 16 sub-blocks of 16:
/// ```
/// 0    u8×128 ql      low 4 bits
/// 128  u8×64  qh      high 2 bits
/// 192  i8×16  scales  one signed 8-bit scale per 16 elements
/// 208  f16    d       super-block scale
/// ```
/// Each half (128 elements) uses 64 bytes of ql, 32 of qh and 8 scales: for l < 32, element l takes
/// ql[l] low | qh[l] bits 0–1, element l+32 ql[l+32] low | bits 2–3, element l+64 ql[l] high |
/// bits 4–5, element l+96 ql[l+32] high | bits 6–7; q is that 6-bit number − 32, and
/// value = (d · scale) · q with scale = scales[l/16 + 0, 2, 4, 6] respectively.
func dequantizeQ6K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 256
    for b in 0 ..< blocks {
        let block = src + b * 210
        var ql = block.assumingMemoryBound(to: UInt8.self)
        var qh = (block + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (block + 192).assumingMemoryBound(to: Int8.self)
        let d = loadF16(block, 208)
        var y = dst + b * 256
        for _ in 0 ..< 2 {
            // Elements l < 16 use scales 0, 2, 4, 6 and l ≥ 16 scales 1, 3, 5, 7 (ggml's is = l/16);
            // ggml's `d * sc[is] * q` is (d · sc) · q, so the products d · sc are hoisted unchanged.
            for part in 0 ..< 2 {
                let d1 = d * Float(sc[part]), d2 = d * Float(sc[part + 2])
                let d3 = d * Float(sc[part + 4]), d4 = d * Float(sc[part + 6])
                for l in part * 16 ..< part * 16 + 16 {
                    let a = ql[l], b = ql[l + 32], h = qh[l]
                    y[l] = d1 * Float(Int32((a & 0x0F) | ((h & 3) << 4)) - 32)
                    y[l + 32] = d2 * Float(Int32((b & 0x0F) | (((h >> 2) & 3) << 4)) - 32)
                    y[l + 64] = d3 * Float(Int32((a >> 4) | (((h >> 4) & 3) << 4)) - 32)
                    y[l + 96] = d4 * Float(Int32((b >> 4) | (((h >> 6) & 3) << 4)) - 32)
                }
            }
            y += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
