/// exp over SIMD lanes (Cephes' expf: range reduction by ln 2 in two parts and a degree-5
/// polynomial), within 2 ulp of the correctly rounded result for |x| ≤ 87 (+∞ from about 88.03, a
/// little before float's own overflow) — softmax calls it once per attention score, where libm's
/// scalar expf was a tenth of the decoding time.
@inline(__always)
public func simdExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Lane-wise selects and plain arithmetic only: SIMD's `clamped`, `rounded` and integer
    // conversions are not vectorised by the compiler and made this slower than scalar expf, and
    // the stdlib's pointwiseMin/Max were left as calls (a tenth of the training time in them).
    let clamped = lanewiseMin(lanewiseMax(x, SIMD8(repeating: -87.3)), SIMD8(repeating: 88.7))
    // n = round(x / ln 2) with the 1.5·2^23 trick (the integer lands in the low mantissa bits);
    // r = x − n·ln 2, with ln 2 split so that n·ln2_hi is exact.
    // Fused multiply-adds throughout (`addingProduct`, one vfmadd each; Swift does not fuse
    // `a * b + c` by itself).
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = magic.addingProduct(clamped, SIMD8(repeating: 1.442_695_04))
    let n = t - magic
    var r = clamped.addingProduct(n, SIMD8(repeating: -0.693_359_375))
    r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
    p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
    p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
    p = SIMD8(repeating: 1.666_666_5e-1).addingProduct(p, r)
    p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
    let e = r.addingProduct(p, r * r) + 1
    // 2^n from the exponent bits.
    let bits = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return e * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// max(a, b) per lane, as one compare and blend.
@inline(__always)
public func lanewiseMax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: a .< b) }

/// min(a, b) per lane, as one compare and blend.
@inline(__always)
public func lanewiseMin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .< a) }

/// row[i] = exp(row[i] − shift) for n values; returns their sum.
@inline(__always)
public func expAndSum(_ row: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var sum = SIMD8<Float>()
    var i = 0
    let raw = UnsafeMutableRawPointer(row)
    let s = SIMD8<Float>(repeating: shift)
    while i + 8 <= n {
        let e = simdExp(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - s)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
        sum += e
        i += 8
    }
    var total = sum.sum()
    while i < n {
        var lane = SIMD8<Float>(repeating: 0)
        lane[0] = row[i] - shift
        let e = simdExp(lane)[0]
        row[i] = e
        total += e
        i += 1
    }
    return total
}

/// The largest of n values.
@inline(__always)
public func maxValue(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n {
        m = lanewiseMax(m, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        i += 8
    }
    var result = m.max()
    while i < n { result = max(result, x[i]); i += 1 }
    return result
}
