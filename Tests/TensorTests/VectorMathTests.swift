import Foundation
import Shared
import Testing

@Suite struct VectorMathTests {
    /// Distance in units in the last place between two positive finite floats.
    static func ulps(_ a: Float, _ b: Float) -> Int {
        abs(Int(a.bitPattern) - Int(b.bitPattern))
    }

    @Test func expIsWithinTwoUlpsOverSoftmaxsRange() {
        // Softmax and SiLU feed it anything in [-87, 87]; every 2^-12 of that range, lane by lane.
        var worst = 0, worstAt: Float = 0
        var x: Float = -87
        while x <= 87 {
            var lanes = SIMD8<Float>()
            for i in 0..<8 { lanes[i] = x + Float(i) / 4096 }
            let e = simdExp(lanes)
            for i in 0..<8 where abs(lanes[i]) <= 87 {
                let reference = Float(Foundation.exp(Double(lanes[i])))
                let d = Self.ulps(e[i], reference)
                if d > worst { (worst, worstAt) = (d, lanes[i]) }
            }
            x += 8.0 / 4096
        }
        #expect(worst <= 2, "exp(\(worstAt)) is \(worst) ulps off")
    }

    @Test func expAtTheEdges() {
        let e = simdExp(SIMD8<Float>(0, 1, -1, -1000, 1000, -.infinity, 88.5, -87.5))
        #expect(e[0] == 1)
        #expect(Self.ulps(e[1], Float(M_E)) <= 2)
        #expect(Self.ulps(e[2], Float(1 / M_E)) <= 2)
        // Clamped, never a NaN: tiny below (−∞ from a masked score gives ~0), +∞ above ~88.
        #expect(e[3] >= 0 && e[3] < 1e-37)
        #expect(e[4] == .infinity)
        #expect(e[5] >= 0 && e[5] < 1e-37)
        #expect(e[6] > 1e38)
        #expect(e[7] > 0 && e[7] < 1e-37)
    }
}
