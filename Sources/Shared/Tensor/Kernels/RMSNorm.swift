/// RMSNorm over the last dimension: out = x / sqrt(mean(x²) + eps) · (w + offset), per row of C.
/// `offset` is 0 for Llama-style norms and 1 for Gemma's (weights stored as offsets from 1).
///
/// - Parameters: `out`, `x`: (rows, C); `weight`: (C).
public func rmsNormForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           rows: Int, C: Int, eps: Float, offset: Float = 0) {
    let jobs = rows * C >= 1 << 16 ? Parallel.coreCount : 1
    SpinPool.shared.run(jobs: jobs) { job in
        rmsNormRows(out, x, weight, from: rows * job / jobs, to: rows * (job + 1) / jobs, C: C, eps: eps, offset: offset)
    }
}

@inline(__always)
func rmsNormRows(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                 from: Int, to: Int, C: Int, eps: Float, offset: Float) {
    for r in from..<to {
        let xr = x + r * C
        let yr = out + r * C
        let meanSquare = sumOfSquares(xr, C) / Float(C)
        let scale = 1 / (meanSquare + eps).squareRoot()
        // transformers computes (x * rsqrt) and then multiplies by the weight, in float32.
        for i in 0..<C { yr[i] = (xr[i] * scale) * (weight[i] + offset) }
    }
}

/// Σ x² with SIMD and several accumulators.
@inline(__always)
public func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 16 <= n {
        let v0 = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        let v1 = raw.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
        a0 += v0 * v0
        a1 += v1 * v1
        i += 16
    }
    var s = (a0 + a1).sum()
    while i < n { s += x[i] * x[i]; i += 1 }
    return s
}

/// Σ x·y with SIMD and several accumulators.
@inline(__always)
public func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var i = 0
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    while i + 16 <= n {
        a0 += rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        a1 += rx.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) * ry.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
        i += 16
    }
    var s = (a0 + a1).sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

/// The gradient of `rmsNormForward` with respect to its input, added to `dx`:
/// with r = 1/sqrt(mean(x²) + eps) and g = dy ⊙ (w + offset),
/// dx += r·g − x · r³ · Σ(g ⊙ x) / C. The weight is frozen, so it gets no gradient here.
///
/// - Parameters: `dx`, `dy`, `x`: (rows, C); `weight`: (C). `dx` may not alias `dy`.
public func rmsNormBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                            _ weight: UnsafePointer<Float>, rows: Int, C: Int, eps: Float, offset: Float = 0) {
    let jobs = rows * C >= 1 << 16 ? Parallel.coreCount : 1
    SpinPool.shared.run(jobs: jobs) { job in
        let from = rows * job / jobs, to = rows * (job + 1) / jobs
        rmsNormRowsBackward(dx + from * C, dy + from * C, x + from * C, weight, rows: to - from, C: C, eps: eps, offset: offset)
    }
}

/// `rmsNormBackward` on the calling thread.
@inline(__always)
func rmsNormRowsBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                         _ weight: UnsafePointer<Float>, rows: Int, C: Int, eps: Float, offset: Float = 0) {
    for r in 0..<rows {
        let xr = x + r * C, dyr = dy + r * C, dxr = dx + r * C
        let rstd = 1 / (sumOfSquares(xr, C) / Float(C) + eps).squareRoot()
        var gx: Float = 0
        for i in 0..<C { gx += dyr[i] * (weight[i] + offset) * xr[i] }
        let k = rstd * rstd * rstd * gx / Float(C)
        for i in 0..<C { dxr[i] += rstd * dyr[i] * (weight[i] + offset) - xr[i] * k }
    }
}

/// Σ over rows of dy ⊙ x̂ (x̂ = x · r): the gradient of an RMSNorm's weight, added to `dWeight`
/// (for the norms that `--additional-target norm` trains).
public func rmsNormWeightGradient(_ dWeight: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                  rows: Int, C: Int, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * C, dyr = dy + r * C
        let rstd = 1 / (sumOfSquares(xr, C) / Float(C) + eps).squareRoot()
        for i in 0..<C { dWeight[i] += dyr[i] * (xr[i] * rstd) }
    }
}
