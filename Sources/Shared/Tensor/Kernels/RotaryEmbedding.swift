import Foundation

/// Rotary position embeddings as transformers computes them: inverse frequencies for the rotated
/// dimensions (all of a head, or the first `rotaryDim` for partial rotary), scaled as the config's
/// `rope_type` says, angles `position · inv_freq` in float32, and cos/sin (× the attention factor of
/// LongRoPE/YaRN) applied in the rotate_half layout: dimension i pairs with i + rotaryDim/2.
public struct RotaryEmbedding: Sendable {
    public let rotaryDim: Int
    let config: RoPEConfig
    /// For every scaling but dynamic and LongRoPE, the one set of inverse frequencies.
    private let fixed: [Float]
    /// LongRoPE: the short and long sets.
    private let short: [Float]
    private let long: [Float]
    private let attentionFactor: Float

    public init(_ config: RoPEConfig) {
        self.config = config
        rotaryDim = config.rotaryDim
        let d = rotaryDim
        let theta = Float(config.theta)
        // base^(2i/d) in float32, as torch computes `base ** (arange(0, d, 2).float() / d)`.
        let powers: [Float] = stride(from: 0, to: d, by: 2).map { powf(theta, Float($0) / Float(d)) }
        switch config.scaling {
        case .none, .dynamic:
            fixed = powers.map { 1 / $0 }
            short = []; long = []
            attentionFactor = 1
        case .linear(let factor):
            fixed = powers.map { 1 / $0 / Float(factor) }
            short = []; long = []
            attentionFactor = 1
        case .llama3(let p):
            let lowWavelength = Double(p.originalMaxPositions) / p.lowFreqFactor
            let highWavelength = Double(p.originalMaxPositions) / p.highFreqFactor
            fixed = powers.map { power in
                let invFreq = 1 / power
                let wavelength = 2 * Double.pi / Double(invFreq)
                if wavelength < highWavelength { return invFreq }
                if wavelength > lowWavelength { return invFreq / Float(p.factor) }
                let smooth = (Double(p.originalMaxPositions) / wavelength - p.lowFreqFactor) / (p.highFreqFactor - p.lowFreqFactor)
                return Float((1 - smooth) * Double(invFreq) / p.factor + smooth * Double(invFreq))
            }
            short = []; long = []
            attentionFactor = 1
        case .longrope(let p):
            fixed = []
            short = zip(powers, p.shortFactor).map { 1 / (Float($1) * $0) }
            long = zip(powers, p.longFactor).map { 1 / (Float($1) * $0) }
            attentionFactor = Float(p.attentionFactor)
        case .yarn(let p):
            let dim = Double(d), base = config.theta
            func correctionDim(_ rotations: Double) -> Double {
                dim * log(Double(p.originalMaxPositions) / (rotations * 2 * Double.pi)) / (2 * log(base))
            }
            var low = correctionDim(p.betaFast), high = correctionDim(p.betaSlow)
            if p.truncate { low = floor(low); high = ceil(high) }
            low = max(low, 0)
            high = min(high, dim - 1)
            if low == high { high += 0.001 }
            fixed = powers.enumerated().map { i, power in
                let ramp = Float(min(max((Double(i) - low) / (high - low), 0), 1))
                let extrapolation = 1 - ramp
                let interpolated = 1 / (Float(p.factor) * power), extrapolated = 1 / power
                return interpolated * (1 - extrapolation) + extrapolated * extrapolation
            }
            short = []; long = []
            attentionFactor = Float(p.attentionFactor)
        }
    }

    /// The inverse frequencies for a forward pass whose positions reach `sequenceLength` (the
    /// largest position + 1): LongRoPE switches to its long factors, dynamic NTK grows θ, beyond the
    /// original context.
    public func inverseFrequencies(sequenceLength: Int) -> [Float] {
        switch config.scaling {
        case .longrope(let p):
            return sequenceLength > p.originalMaxPositions ? long : short
        case .dynamic(let factor, let original):
            let seq = Double(max(sequenceLength, original))
            let d = Double(rotaryDim)
            let base = config.theta * pow(factor * seq / Double(original) - (factor - 1), d / (d - 2))
            return stride(from: 0, to: rotaryDim, by: 2).map { 1 / powf(Float(base), Float($0) / Float(rotaryDim)) }
        default:
            return fixed
        }
    }

    /// cos and sin (rotaryDim/2 each) at `position`.
    public func cosSin(position: Int, inverseFrequencies invFreq: [Float], cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        for i in 0..<(rotaryDim / 2) {
            let angle = Float(position) * invFreq[i]
            cos[i] = cosf(angle) * attentionFactor
            sin[i] = sinf(angle) * attentionFactor
        }
    }
}

/// Rotates `heads` vectors of `headDim` in place: x'[i] = x[i]·cos − x[i+h]·sin,
/// x'[i+h] = x[i+h]·cos + x[i]·sin for i < h = rotaryDim/2; dimensions ≥ rotaryDim unchanged.
///
/// - Parameters: `x`: (heads, headDim); `cos`, `sin`: (rotaryDim/2).
public func ropeForward(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, rotaryDim: Int,
                        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = rotaryDim / 2
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<half {
            let x1 = v[i], x2 = v[i + half]
            v[i] = x1 * cos[i] - x2 * sin[i]
            v[i + half] = x2 * cos[i] + x1 * sin[i]
        }
    }
}

/// The gradient of `ropeForward`, in place: each pair is rotated back by the same angle
/// (the transpose of the rotation): d[i] = d'[i]·cos + d'[i+h]·sin, d[i+h] = d'[i+h]·cos − d'[i]·sin.
public func ropeBackward(_ d: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, rotaryDim: Int,
                         cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
    let half = rotaryDim / 2
    for h in 0..<heads {
        let v = d + h * headDim
        for i in 0..<half {
            let d1 = v[i], d2 = v[i + half]
            v[i] = d1 * cos[i] + d2 * sin[i]
            v[i + half] = d2 * cos[i] - d1 * sin[i]
        }
    }
}
