import Foundation

/// The MLP non-linearities, in place over n values, and their gated forms.
public enum Activations {
    @inline(__always) public static func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

    /// GELU with the tanh approximation (gelu_new / gelu_pytorch_tanh).
    @inline(__always) public static func geluTanh(_ x: Float) -> Float {
        let c: Float = 0.7978845608028654  // sqrt(2/pi)
        return 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
    }

    /// Exact GELU: x · Φ(x).
    @inline(__always) public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.7071067811865476)) }

    @inline(__always) public static func apply(_ a: Activation, _ x: Float) -> Float {
        switch a {
        case .silu: silu(x)
        case .geluTanh: geluTanh(x)
        case .gelu: gelu(x)
        case .relu: max(0, x)
        }
    }

    /// x[i] = act(x[i]).
    public static func forward(_ a: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = apply(a, x[i]) }
    }

    /// Gated MLP input: out[r, i] = act(gateUp[r, i]) · gateUp[r, I + i], for rows of [gate | up] (2I wide).
    /// Rows are split over the cores; SiLU runs eight lanes at a time.
    public static func gatedForward(_ a: Activation, _ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>,
                                    rows: Int, intermediate I: Int) {
        let jobs = rows * I >= 1 << 16 ? Parallel.coreCount : 1
        SpinPool.shared.run(jobs: jobs) { job in
            for r in (rows * job / jobs)..<(rows * (job + 1) / jobs) {
                let g = gateUp + r * 2 * I, u = g + I, o = out + r * I
                var i = 0
                if a == .silu {
                    let one = SIMD8<Float>(repeating: 1)
                    while i + 8 <= I {
                        let x = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                        let up = UnsafeRawPointer(u + i).loadUnaligned(as: SIMD8<Float>.self)
                        let silu = x / (one + simdExp(-x))
                        UnsafeMutableRawPointer(o + i).storeBytes(of: silu * up, as: SIMD8<Float>.self)
                        i += 8
                    }
                }
                while i < I { o[i] = apply(a, g[i]) * u[i]; i += 1 }
            }
        }
    }

    // MARK: Backward

    /// d act(x) / dx.
    @inline(__always) public static func derivative(_ a: Activation, _ x: Float) -> Float {
        switch a {
        case .silu:
            let sigmoid = 1 / (1 + expf(-x))
            return sigmoid * (1 + x * (1 - sigmoid))
        case .geluTanh:
            let c: Float = 0.7978845608028654
            let u = c * (x + 0.044715 * x * x * x)
            let t = tanhf(u)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        case .gelu:
            let pdf = expf(-0.5 * x * x) * 0.3989422804014327  // 1/sqrt(2π)
            return 0.5 * (1 + erff(x * 0.7071067811865476)) + x * pdf
        case .relu:
            return x > 0 ? 1 : 0
        }
    }

    /// The gradient of `forward`: dPre[i] = dOut[i] · act'(pre[i]) (`dPre` may alias `dOut`).
    public static func backward(_ a: Activation, _ dPre: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                                _ pre: UnsafePointer<Float>, count: Int) {
        let jobs = count >= 1 << 16 ? Parallel.coreCount : 1
        SpinPool.shared.run(jobs: jobs) { job in
            for i in (count * job / jobs)..<(count * (job + 1) / jobs) { dPre[i] = dOut[i] * derivative(a, pre[i]) }
        }
    }

    /// The gradient of `gatedForward`: for out = act(gate) · up,
    /// dGate = dOut · up · act'(gate) and dUp = dOut · act(gate), written into rows of
    /// [dGate | dUp] (2I wide).
    public static func gatedBackward(_ a: Activation, _ dGateUp: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                                     _ gateUp: UnsafePointer<Float>, rows: Int, intermediate I: Int) {
        let jobs = rows * I >= 1 << 16 ? Parallel.coreCount : 1
        SpinPool.shared.run(jobs: jobs) { job in
            for r in (rows * job / jobs)..<(rows * (job + 1) / jobs) {
                let g = gateUp + r * 2 * I, u = g + I, d = dOut + r * I
                let dg = dGateUp + r * 2 * I, du = dg + I
                var i = 0
                if a == .silu {
                    let one = SIMD8<Float>(repeating: 1)
                    while i + 8 <= I {
                        let x = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                        let up = UnsafeRawPointer(u + i).loadUnaligned(as: SIMD8<Float>.self)
                        let grad = UnsafeRawPointer(d + i).loadUnaligned(as: SIMD8<Float>.self)
                        let sigmoid = one / (one + simdExp(-x))
                        let silu = x * sigmoid
                        let dSilu = sigmoid * (one + x * (one - sigmoid))
                        UnsafeMutableRawPointer(dg + i).storeBytes(of: grad * up * dSilu, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(du + i).storeBytes(of: grad * silu, as: SIMD8<Float>.self)
                        i += 8
                    }
                }
                while i < I {
                    dg[i] = d[i] * u[i] * derivative(a, g[i])
                    du[i] = d[i] * apply(a, g[i])
                    i += 1
                }
            }
        }
    }
}
