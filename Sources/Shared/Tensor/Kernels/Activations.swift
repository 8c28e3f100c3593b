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
    public static func gatedForward(_ a: Activation, _ out: UnsafeMutablePointer<Float>, _ gateUp: UnsafePointer<Float>,
                                    rows: Int, intermediate I: Int) {
        for r in 0..<rows {
            let g = gateUp + r * 2 * I, u = g + I, o = out + r * I
            for i in 0..<I { o[i] = apply(a, g[i]) * u[i] }
        }
    }
}
