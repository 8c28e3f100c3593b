/// LayerNorm over the last dimension (GPT-2): out = (x − mean) / sqrt(var + eps) · w + b, per row.
///
/// - Parameters: `out`, `x`: (rows, C); `weight`, `bias`: (C).
public func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                             _ bias: UnsafePointer<Float>, rows: Int, C: Int, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * C
        let yr = out + r * C
        let (mean, rstd) = layerNormStatistics(xr, C: C, eps: eps)
        for i in 0..<C { yr[i] = (xr[i] - mean) * rstd * weight[i] + bias[i] }
    }
}

/// The gradient of `layerNormForward` with respect to its input, added to `dx`: with
/// x̂ = (x − mean)·r and g = dy ⊙ w, dx += r · (g − mean(g) − x̂ · mean(g ⊙ x̂)).
///
/// - Parameters: `dx`, `dy`, `x`: (rows, C); `weight`: (C). `dx` may not alias `dy`.
public func layerNormBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                              _ weight: UnsafePointer<Float>, rows: Int, C: Int, eps: Float) {
    let jobs = rows * C >= 1 << 16 ? Parallel.coreCount : 1
    SpinPool.shared.run(jobs: jobs) { job in
        for r in (rows * job / jobs)..<(rows * (job + 1) / jobs) {
            let xr = x + r * C, dyr = dy + r * C, dxr = dx + r * C
            let (mean, rstd) = layerNormStatistics(xr, C: C, eps: eps)
            var sumG: Float = 0, sumGX: Float = 0
            for i in 0..<C {
                let g = dyr[i] * weight[i]
                sumG += g
                sumGX += g * (xr[i] - mean) * rstd
            }
            let meanG = sumG / Float(C), meanGX = sumGX / Float(C)
            for i in 0..<C {
                let xhat = (xr[i] - mean) * rstd
                dxr[i] += rstd * (dyr[i] * weight[i] - meanG - xhat * meanGX)
            }
        }
    }
}

/// The mean and 1/sqrt(variance + eps) of one row, as the forward pass computes them.
@inline(__always)
func layerNormStatistics(_ x: UnsafePointer<Float>, C: Int, eps: Float) -> (mean: Float, rstd: Float) {
    var sum: Float = 0
    for i in 0..<C { sum += x[i] }
    let mean = sum / Float(C)
    var variance: Float = 0
    for i in 0..<C { let d = x[i] - mean; variance += d * d }
    variance /= Float(C)
    return (mean, 1 / (variance + eps).squareRoot())
}

/// Σ over rows of dy ⊙ x̂ and of dy: the gradients of a LayerNorm's weight and bias, added to
/// `dWeight` and `dBias` (for the norms that `--additional-target` trains).
public func layerNormParameterGradient(_ dWeight: UnsafeMutablePointer<Float>, _ dBias: UnsafeMutablePointer<Float>,
                                       _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, C: Int, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * C, dyr = dy + r * C
        let (mean, rstd) = layerNormStatistics(xr, C: C, eps: eps)
        for i in 0..<C {
            dWeight[i] += dyr[i] * ((xr[i] - mean) * rstd)
            dBias[i] += dyr[i]
        }
    }
}
