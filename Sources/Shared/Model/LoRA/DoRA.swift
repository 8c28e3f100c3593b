extension LoRASlice {
    /// Recomputes DoRA's ‖W + s·B·A‖ per output row and the scale m / ‖…‖ from the current A, B
    /// and m (when the adapter is attached, and after every optimiser step in training).
    public func refreshDoRA(of linear: Linear) {
        guard let magnitude, let weightNorm, let doraScale else { return }
        let I = inFeatures
        let block = max(1, min(rows, (1 << 18) / I))
        let wide = UnsafeMutablePointer<Float>.allocate(capacity: block * I)
        defer { wide.deallocate() }
        var o = 0
        while o < rows {
            let n = min(block, rows - o)
            linear.weight.widenRows(rowOffset + o, n, cols: I, into: wide)
            // W[block] += s · B[block] · A
            BLAS.gemm(m: n, n: I, k: rank, alpha: scale, a: b + o * rank, b: a, beta: 1, c: wide)
            for j in 0..<n {
                let norm = sumOfSquares(wide + j * I, I).squareRoot()
                weightNorm[o + j] = norm
                doraScale[o + j] = magnitude[o + j] / norm
            }
            o += n
        }
    }
}
