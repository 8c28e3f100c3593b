import Foundation

/// torch.optim.AdamW, one parameter group, on float32 parameters, reproducing the float operations
/// torch performs on the CPU (`_single_tensor_adam` with decoupled weight decay; the foreach path
/// runs the same per-tensor ops). For step t, with g the (clipped) gradient:
///
///     p ← p·(1 − lr·wd)                          (only for parameters that decay)
///     m ← lerp(m, g, 1 − β1)                     m + (1−β1)·(g − m), fused as torch's vector lerp
///     v ← v·β2 + (1−β2)·g·g                      the add fused with the last product, as torch's
///                                                vectorised addcmul compiles
///     p ← p + (−lr/(1−β1ᵗ))·m / (sqrt(v)/sqrt(1−β2ᵗ) + eps)
///
/// Scalars are formed in Double (Python floats) and rounded to float32 where the tensor op takes
/// them; element arithmetic is float32. Against the fixtures' two steps this matches torch to
/// ≤ 6e-8, with m and v bit for bit when the gradients were not clipped (lf's Double gradient norm
/// can differ from torch's float32 one in the last bit). 5–8% of the parameter values still come
/// out one float32 rounding away from torch's; where that rounding differs is not known.
///
/// m and v live in one arena each (STYLE.md #2), laid out in parameter order.
public final class AdamW: Optimizer {
    public let kind = OptimizerKind.adamw
    public let parameters: [TrainableParameter]
    public private(set) var stepCount = 0
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double

    /// (Σ count) first moments (torch's `exp_avg`), parameter after parameter.
    private let m: UnsafeMutablePointer<Float>
    /// (Σ count) second moments (`exp_avg_sq`).
    private let v: UnsafeMutablePointer<Float>
    /// Where each parameter's slice of `m` and `v` starts.
    private let offsets: [Int]
    private let total: Int

    /// torch's defaults except `weightDecay`, which is torch AdamW's 0.01 too.
    public init(parameters: [TrainableParameter], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 0.01) throws {
        try checkHyperparameter("AdamW beta1", betas.0, 0...1, open: true)
        try checkHyperparameter("AdamW beta2", betas.1, 0...1, open: true)
        try checkHyperparameter("AdamW eps", eps, 0...Double.greatestFiniteMagnitude)
        try checkHyperparameter("AdamW weight decay", weightDecay, 0...Double.greatestFiniteMagnitude)
        self.parameters = parameters
        beta1 = betas.0
        beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        let (offsets, total) = stateOffsets(parameters)
        self.offsets = offsets
        self.total = total
        m = .allocate(capacity: max(total, 1))
        m.initialize(repeating: 0, count: total)
        v = .allocate(capacity: max(total, 1))
        v.initialize(repeating: 0, count: total)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    public func step(learningRate lr: Double) {
        stepCount += 1
        let t = Double(stepCount)
        // The scalars as torch forms them in Python, then as float32 the way each op receives them.
        let decay = Float(1 - lr * weightDecay)
        let lerpWeight = Float(1 - beta1)
        let b2 = Float(beta2)
        let oneMinusB2 = Float(1 - beta2)
        let stepSize = Float(-(lr / (1 - pow(beta1, t))))
        let bc2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let epsF = Float(eps)
        // torch's lerp takes the form that is exact at its end: from m when the weight is small.
        let smallWeight = abs(lerpWeight) < 0.5
        let lerpLarge = lerpWeight - 1

        let x8 = (decay: SIMD8(repeating: decay), lerp: SIMD8(repeating: lerpWeight), lerpLarge: SIMD8(repeating: lerpLarge),
                  b2: SIMD8(repeating: b2), oneMinusB2: SIMD8(repeating: oneMinusB2), stepSize: SIMD8(repeating: stepSize),
                  bc2Sqrt: SIMD8(repeating: bc2Sqrt), eps: SIMD8(repeating: epsF))
        let mState = m, vState = v
        forEachShare(of: parameters, offsets: offsets, total: total) { index, range in
            let p = parameters[index]
            let x = p.value, g = p.gradient
            let m = mState + offsets[index], v = vState + offsets[index]
            let decays = p.decays && weightDecay != 0
            // Eight at a time, then one at a time: the same float operations either way (fused
            // where the scalar code fuses, IEEE square root and division), so the same bits.
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                var xi = load8(x + i)
                if decays { xi *= x8.decay }
                let gi = load8(g + i), mOld = load8(m + i)
                let mi = smallWeight ? mOld.addingProduct(x8.lerp, gi - mOld) : gi.addingProduct(x8.lerpLarge, gi - mOld)
                let vi = (load8(v + i) * x8.b2).addingProduct(x8.oneMinusB2 * gi, gi)
                store8(mi, m + i)
                store8(vi, v + i)
                let denominator = vi.squareRoot() / x8.bc2Sqrt + x8.eps
                store8(xi + (x8.stepSize * mi) / denominator, x + i)
                i += 8
            }
            while i < range.upperBound {
                var xi = x[i]
                if decays { xi *= decay }
                let gi = g[i]
                let mi = smallWeight ? m[i].addingProduct(lerpWeight, gi - m[i]) : gi.addingProduct(lerpLarge, gi - m[i])
                let vi = (v[i] * b2).addingProduct(oneMinusB2 * gi, gi)
                m[i] = mi
                v[i] = vi
                let denominator = vi.squareRoot() / bc2Sqrt + epsF
                x[i] = xi + (stepSize * mi) / denominator
                i += 1
            }
        }
    }

    public func stateTensors() -> [OptimizerStateTensor] {
        var out: [OptimizerStateTensor] = []
        for (index, p) in parameters.enumerated() {
            let o = offsets[index]
            out.append((p.name + ".exp_avg", p.shape, Array(UnsafeBufferPointer(start: m + o, count: p.count))))
            out.append((p.name + ".exp_avg_sq", p.shape, Array(UnsafeBufferPointer(start: v + o, count: p.count))))
        }
        return out
    }

    public func restore(state: [OptimizerStateTensor], stepCount: Int) throws {
        let slots = try matchState(state, slots: ["exp_avg", "exp_avg_sq"], stepCount: stepCount)
        for index in parameters.indices {
            let o = offsets[index]
            copy(slots[0][index], to: m + o)
            copy(slots[1][index], to: v + o)
        }
        self.stepCount = stepCount
    }
}
