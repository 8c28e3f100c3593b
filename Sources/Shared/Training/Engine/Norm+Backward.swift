extension Norm {
    /// dx += the gradient of `forward` with respect to its input (the norm's weights are frozen).
    func backward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, C: Int) {
        switch kind {
        case .rms: rmsNormBackward(dx, dy, x, weight, rows: rows, C: C, eps: eps)
        case .rmsOnePlusWeight: rmsNormBackward(dx, dy, x, weight, rows: rows, C: C, eps: eps, offset: 1)
        case .layerNorm: layerNormBackward(dx, dy, x, weight, rows: rows, C: C, eps: eps)
        }
    }
}
