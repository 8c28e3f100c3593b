/// LayerNorm over the last dimension (GPT-2): out = (x − mean) / sqrt(var + eps) · w + b, per row.
///
/// - Parameters: `out`, `x`: (rows, C); `weight`, `bias`: (C).
public func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                             _ bias: UnsafePointer<Float>, rows: Int, C: Int, eps: Float) {
    for r in 0..<rows {
        let xr = x + r * C
        let yr = out + r * C
        var sum: Float = 0
        for i in 0..<C { sum += xr[i] }
        let mean = sum / Float(C)
        var variance: Float = 0
        for i in 0..<C { let d = xr[i] - mean; variance += d * d }
        variance /= Float(C)
        let rstd = 1 / (variance + eps).squareRoot()
        for i in 0..<C { yr[i] = (xr[i] - mean) * rstd * weight[i] + bias[i] }
    }
}
