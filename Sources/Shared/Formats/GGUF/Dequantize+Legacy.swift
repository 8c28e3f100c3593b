// The legacy 32-element block quants. In every type, element j of a block (j < 16) comes from the
// low nibble of qs[j] and element j + 16 from its high nibble; the 5-bit types take the fifth bit
// of element j from bit j of the little-endian uint32 qh. Results are float32, as ggml writes them:
// `Float(q) * d` or `Float(q) * d + m`, rounded after each operation.

/// Q4_0 — 18 bytes per 32 elements:
/// ```
/// 0  f16   d        scale
/// 2  u8×16 qs       nibbles; value = (nibble − 8) · d
/// ```
func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 32
    for b in 0 ..< blocks {
        let block = src + b * 18
        let d = loadF16(block, 0)
        let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
        let y = dst + b * 32
        for j in 0 ..< 16 {
            let q = qs[j]
            y[j] = Float(Int32(q & 0x0F) - 8) * d
            y[j + 16] = Float(Int32(q >> 4) - 8) * d
        }
    }
}

/// Q4_1 — 20 bytes per 32 elements:
/// ```
/// 0  f16   d        scale
/// 2  f16   m        minimum
/// 4  u8×16 qs       nibbles; value = nibble · d + m
/// ```
func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 32
    for b in 0 ..< blocks {
        let block = src + b * 20
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
        let y = dst + b * 32
        for j in 0 ..< 16 {
            let q = qs[j]
            y[j] = Float(q & 0x0F) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }
}

/// Q5_0 — 22 bytes per 32 elements:
/// ```
/// 0  f16   d        scale
/// 2  u8×4  qh       fifth bits (uint32 LE; bit j → element j)
/// 6  u8×16 qs       nibbles; value = ((nibble | fifth bit << 4) − 16) · d
/// ```
func dequantizeQ5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 32
    for b in 0 ..< blocks {
        let block = src + b * 22
        let d = loadF16(block, 0)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
        let y = dst + b * 32
        for j in 0 ..< 16 {
            let q = qs[j]
            let h0 = Int32(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = Int32(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = Float((Int32(q & 0x0F) | h0) - 16) * d
            y[j + 16] = Float((Int32(q >> 4) | h1) - 16) * d
        }
    }
}

/// Q5_1 — 24 bytes per 32 elements:
/// ```
/// 0  f16   d        scale
/// 2  f16   m        minimum
/// 4  u8×4  qh       fifth bits (uint32 LE; bit j → element j)
/// 8  u8×16 qs       nibbles; value = (nibble | fifth bit << 4) · d + m
/// ```
func dequantizeQ5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 32
    for b in 0 ..< blocks {
        let block = src + b * 24
        let d = loadF16(block, 0)
        let m = loadF16(block, 2)
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
        let y = dst + b * 32
        for j in 0 ..< 16 {
            let q = qs[j]
            let h0 = Int32(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let h1 = Int32(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            y[j] = Float(Int32(q & 0x0F) | h0) * d + m
            y[j + 16] = Float(Int32(q >> 4) | h1) * d + m
        }
    }
}

/// Q8_0 — 34 bytes per 32 elements:
/// ```
/// 0  f16   d        scale
/// 2  i8×32 qs       value = q · d
/// ```
func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    let blocks = count / 32
    for b in 0 ..< blocks {
        let block = src + b * 34
        let d = loadF16(block, 0)
        let qs = (block + 2).assumingMemoryBound(to: Int8.self)
        let y = dst + b * 32
        for j in 0 ..< 32 {
            y[j] = Float(qs[j]) * d
        }
    }
}
