import Testing
@testable import Shared

@Suite struct TrainableParameterTests {
    @Test func gradientStartsAtZeroAndResets() {
        let values = UnsafeMutablePointer<Float>.allocate(capacity: 6)
        defer { values.deallocate() }
        values.initialize(repeating: 1, count: 6)
        let p = TrainableParameter(name: "w", shape: [2, 3], value: values)
        #expect(p.count == 6)
        #expect((0..<6).allSatisfy { p.gradient[$0] == 0 })
        for i in 0..<6 { p.gradient[i] = Float(i) }
        p.zeroGradient()
        #expect((0..<6).allSatisfy { p.gradient[$0] == 0 })
        #expect((0..<6).allSatisfy { values[$0] == 1 })
    }
}
