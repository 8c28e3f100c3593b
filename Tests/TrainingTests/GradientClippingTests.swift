import Foundation
import Shared
import Testing

/// torch `clip_grad_norm_` semantics, on gradients small enough to check by hand.
@Suite struct GradientClippingTests {
    /// Two parameters whose gradients are (3, 0) and (0, 4): global norm 5.
    static func threeFour() -> ParameterSet {
        let set = ParameterSet([("a", [2], [1, 1]), ("b", [1, 2], [1, 1])])
        set.setGradients { $0.name == "a" ? [3, 0] : [0, 4] }
        return set
    }

    @Test func normIsOverEveryTensor() {
        let set = Self.threeFour()
        #expect(globalGradientNorm(set.parameters) == 5)
        #expect(globalGradientNorm([]) == 0)
    }

    @Test func clipsToMaxNorm() {
        let set = Self.threeFour()
        let (norm, coefficient) = clipGradients(set.parameters, maxNorm: 1)
        #expect(norm == 5)
        // torch: (1 / (5 + 1e-6)) · 1 in float32.
        let expected = (1 / (Float(5) + Float(1e-6))) * 1
        #expect(coefficient == Double(expected))
        #expect(abs(coefficient - 1 / (5 + 1e-6)) < 1e-7)
        #expect(set.gradient(set.parameters[0]) == [3 * expected, 0])
        #expect(set.gradient(set.parameters[1]) == [0, 4 * expected])
        #expect(abs(globalGradientNorm(set.parameters) - 1) < 1e-6)
        // Parameter values are not touched.
        #expect(set.values(set.parameters[0]) == [1, 1])
    }

    @Test func maxNormAboveTheNormLeavesGradientsAlone() {
        let set = Self.threeFour()
        let (norm, coefficient) = clipGradients(set.parameters, maxNorm: 10)
        #expect(norm == 5 && coefficient == 1)
        #expect(set.gradient(set.parameters[1]) == [0, 4])
        // maxNorm equal to the norm: the factor 5/(5+1e-6) is below 1, as in torch.
        #expect(clipGradients(Self.threeFour().parameters, maxNorm: 5).coefficient < 1)
    }

    @Test(arguments: [0.0, -1.0])
    func maxNormZeroOrNegativeTurnsClippingOff(maxNorm: Double) {
        let set = Self.threeFour()
        let (norm, coefficient) = clipGradients(set.parameters, maxNorm: maxNorm)
        #expect(norm == 5 && coefficient == 1)
        #expect(set.gradient(set.parameters[0]) == [3, 0])
        #expect(set.gradient(set.parameters[1]) == [0, 4])
    }

    @Test(arguments: [Float.nan, Float.infinity, -Float.infinity])
    func nonFiniteGradientsAreReportedAndLeftAlone(bad: Float) {
        let set = Self.threeFour()
        set.setGradients { $0.name == "a" ? [3, bad] : [0, 4] }
        let (norm, coefficient) = clipGradients(set.parameters, maxNorm: 1)
        #expect(!norm.isFinite)
        if bad.isNaN { #expect(norm.isNaN) } else { #expect(norm == .infinity) }
        #expect(coefficient == 1)
        #expect(set.gradient(set.parameters[0])[0] == 3)
        #expect(set.gradient(set.parameters[0])[1].bitPattern == bad.bitPattern)
        #expect(set.gradient(set.parameters[1]) == [0, 4])
    }

    /// Squares summed in Double: a norm whose float32 sum would lose the small terms.
    @Test func normAccumulatesInDouble() {
        let n = 1 << 20
        let set = ParameterSet([("big", [1], [0]), ("small", [n], [Float](repeating: 0, count: n))])
        set.setGradients { $0.name == "big" ? [4096] : [Float](repeating: 1, count: n) }
        // 4096² + 2²⁰ = 2²⁴ + 2²⁰; in float32, adding 1 to 2²⁴ would be lost every time.
        #expect(globalGradientNorm(set.parameters) == (Double(1 << 24) + Double(n)).squareRoot())
    }
}
