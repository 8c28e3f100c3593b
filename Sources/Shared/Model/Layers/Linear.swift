import Foundation

/// A low-rank adapter on a block of a linear layer's output rows (a whole layer, or q/k/v inside a
/// fused q|k|v projection): y[rows] += s · (x Aᵀ) Bᵀ; with DoRA the block becomes
/// (m / ‖W + s·B·A‖) ⊙ (x Wᵀ + s · x Aᵀ Bᵀ), the norm per output row and fixed (detached).
public final class LoRASlice: @unchecked Sendable {
    public let name: String
    /// First output row of the block, and its height.
    public let rowOffset: Int
    public let rows: Int
    public let rank: Int
    public let inFeatures: Int
    public let scale: Float
    /// (rank, in)
    public internal(set) var a: UnsafeMutablePointer<Float>
    /// (rows, rank)
    public let b: UnsafeMutablePointer<Float>
    /// DoRA: m / ‖W + s·B·A‖ per output row (rows), computed when the adapter is attached
    /// (and, in training, after every optimiser step).
    public var doraScale: UnsafeMutablePointer<Float>?
    /// DoRA: the magnitude vector m (rows), and ‖W + s·B·A‖ per row (treated as a constant by the
    /// gradient, as PEFT detaches it).
    public var magnitude: UnsafeMutablePointer<Float>?
    public var weightNorm: UnsafeMutablePointer<Float>?
    /// Training only: dropout on the adapter's input, and where the gradients of A, B and m go.
    public var dropout: Float = 0
    public var gradients: LoRAGradients?

    init(name: String, rowOffset: Int, rows: Int, rank: Int, inFeatures: Int, scale: Float,
         a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>) {
        self.name = name
        self.rowOffset = rowOffset
        self.rows = rows
        self.rank = rank
        self.inFeatures = inFeatures
        self.scale = scale
        self.a = a
        self.b = b
    }
}

/// Where backpropagation adds the gradients of a LoRA slice's tensors (same shapes as the tensors).
public struct LoRAGradients: @unchecked Sendable {
    public var a: UnsafeMutablePointer<Float>
    public var b: UnsafeMutablePointer<Float>
    public var magnitude: UnsafeMutablePointer<Float>?

    public init(a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, magnitude: UnsafeMutablePointer<Float>?) {
        self.a = a
        self.b = b
        self.magnitude = magnitude
    }
}

/// y = x Wᵀ + b with W [out, in], plus any LoRA slices.
public final class Linear: @unchecked Sendable {
    public let name: String
    public let outFeatures: Int
    public let inFeatures: Int
    public let weight: WeightMatrix
    /// (out) or nil
    public let bias: UnsafeMutablePointer<Float>?
    public internal(set) var adapters: [LoRASlice] = []

    init(name: String, outFeatures: Int, inFeatures: Int, weight: WeightMatrix, bias: UnsafeMutablePointer<Float>?) {
        self.name = name
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.weight = weight
        self.bias = bias
    }

    /// y (rows, out) = x (rows, in) · Wᵀ (+ adapters) (+ bias).
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: ScratchBuffer) {
        baseProduct(x, rows: rows, into: y, scratch: scratch)
        for adapter in adapters {
            applyAdapter(adapter, x, rows: rows, y: y, scratch: scratch)
        }
        addBias(y, rows: rows)
    }

    /// y = x · Wᵀ, the frozen part alone; y += x · Wᵀ when `adding`.
    func baseProduct(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: ScratchBuffer,
                     adding: Bool = false) {
        let (O, I) = (outFeatures, inFeatures)
        if rows == 1, !adding {
            weight.matVec(y, x, rows: O, cols: I)
            return
        }
        forEachWeightBlock(scratch: scratch) { o, n, w in
            BLAS.parallelGemm(transB: true, m: rows, n: n, k: I, a: x, b: w, beta: adding ? 1 : 0, c: y + o, ldc: O)
        }
    }

    /// Runs `body(o, n, w)` over blocks of W's output rows [o, o + n) as float32: all of W at once
    /// when it is stored so, else `widenBlockRows` rows at a time widened into `scratch` (the
    /// float32 copy stays small).
    func forEachWeightBlock(scratch: ScratchBuffer, _ body: (_ o: Int, _ n: Int, _ w: UnsafePointer<Float>) -> Void) {
        let block = weight.float32 != nil ? outFeatures : widenBlockRows
        var o = 0
        while o < outFeatures {
            let n = min(block, outFeatures - o)
            withWeightRows(o, n, scratch: scratch) { body(o, n, $0) }
            o += n
        }
    }

    /// Runs `body` with rows [o, o + n) of W as float32 (widened into `scratch` when stored
    /// narrower).
    func withWeightRows(_ o: Int, _ n: Int, scratch: ScratchBuffer, _ body: (UnsafePointer<Float>) -> Void) {
        if let w = weight.float32 {
            body(w + o * inFeatures)
        } else {
            let wide = scratch.reserve(n * inFeatures)
            weight.widenRows(o, n, cols: inFeatures, into: wide)
            body(wide)
        }
    }

    /// How many rows of W are widened to float32 at a time (about 4 MiB of them).
    var widenBlockRows: Int { max(1, min(outFeatures, (1 << 20) / inFeatures)) }

    func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int) {
        guard let bias else { return }
        let O = outFeatures
        for r in 0..<rows {
            let yr = y + r * O
            for o in 0..<O { yr[o] += bias[o] }
        }
    }

    private func applyAdapter(_ l: LoRASlice, _ x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, scratch: ScratchBuffer) {
        // t = x Aᵀ (rows, r), in a scratch of its own (the main scratch may hold widened weights).
        let t = UnsafeMutablePointer<Float>.allocate(capacity: rows * l.rank)
        defer { t.deallocate() }
        BLAS.gemm(transB: true, m: rows, n: l.rank, k: l.inFeatures, a: x, b: l.a, c: t)
        let block = y + l.rowOffset
        if let d = l.doraScale {
            // y_block = d ⊙ (y_block + s · t Bᵀ)
            BLAS.gemm(transB: true, m: rows, n: l.rows, k: l.rank, alpha: l.scale, a: t, b: l.b, beta: 1, c: block, ldc: outFeatures)
            for r in 0..<rows {
                let yr = block + r * outFeatures
                for o in 0..<l.rows { yr[o] *= d[o] }
            }
        } else {
            BLAS.gemm(transB: true, m: rows, n: l.rows, k: l.rank, alpha: l.scale, a: t, b: l.b, beta: 1, c: block, ldc: outFeatures)
        }
    }

    /// Row `o` of W as float32 (for DoRA norms and tests).
    func weightRow(_ o: Int, into out: UnsafeMutablePointer<Float>) {
        weight.widenRows(o, 1, cols: inFeatures, into: out)
    }
}
