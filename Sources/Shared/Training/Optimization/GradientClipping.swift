import Foundation

/// The L2 norm of all the gradients taken together: sqrt(Σ g²) over every element of every
/// parameter (torch's `clip_grad_norm_` total with norm_type 2).
///
/// The squares are summed in Double, so the result does not depend on the order or on how many
/// parameters there are. torch sums in float32 and its norm can differ from this one in the last
/// bit (≈1e-7 relative); what follows from that is far below the optimizer tolerances.
public func globalGradientNorm(_ parameters: [TrainableParameter]) -> Double {
    var sum = 0.0
    for p in parameters {
        let g = p.gradient
        for i in 0..<p.count {
            let x = Double(g[i])
            sum += x * x
        }
    }
    return sum.squareRoot()
}

/// Clips the gradients in place to a global L2 norm of at most `maxNorm`, as torch's
/// `clip_grad_norm_(parameters, maxNorm)` does, and returns the norm before clipping and the factor
/// the gradients were multiplied by (1 when they were left alone).
///
/// - The factor is maxNorm / (norm + 1e-6), computed in float32 the way torch computes it from its
///   float32 norm (`max_norm / t` is `t.reciprocal() * max_norm`), and applied only when it is
///   below 1 (torch multiplies by the factor clamped to 1, which is the same thing).
/// - `maxNorm <= 0` turns clipping off, as HF's Trainer does for `max_grad_norm` 0 (torch itself
///   would zero the gradients).
/// - A NaN or infinite norm is returned with the gradients untouched: the caller stops on it, and
///   there is nothing meaningful to scale (torch would spread the NaN into every gradient).
@discardableResult
public func clipGradients(_ parameters: [TrainableParameter], maxNorm: Double) -> (norm: Double, coefficient: Double) {
    let norm = globalGradientNorm(parameters)
    guard maxNorm > 0, norm.isFinite else { return (norm, 1) }
    let coefficient = (1 / (Float(norm) + Float(1e-6))) * Float(maxNorm)
    guard coefficient < 1 else { return (norm, 1) }
    for p in parameters {
        let g = p.gradient
        for i in 0..<p.count { g[i] *= coefficient }
    }
    return (norm, Double(coefficient))
}
