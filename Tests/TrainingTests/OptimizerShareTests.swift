import Shared
import Testing

/// The optimisers update a large parameter set in shares, one per core, eight values at a time:
/// the result must be the bits of updating each parameter on its own.
@Suite struct OptimizerShareTests {
    /// 69143 values: above the size at which the update is split over the cores, with the cut
    /// (on two cores) inside the first parameter at an offset that is not a multiple of 8, and
    /// lengths that leave ragged ends.
    static let shapes: [(String, [Int])] = [("layer.lora_A.weight", [123, 301]), ("layer.lora_B.weight", [97, 331]), ("norm", [13])]

    @Test(arguments: [0, 1, 2])
    func sharesGiveTheBitsOfOneParameterAtATime(maker: Int) throws {
        let (label, make) = OptimizerStateTests.makers[maker]
        let together = OptimizerStateTests.parameters(shapes: Self.shapes)
        let apart = OptimizerStateTests.copy(together)
        let whole = try make(together.parameters)
        let single = try apart.parameters.map { try make([$0]) }
        for step in 0..<3 {
            OptimizerStateTests.setGradients(together, step: step)
            OptimizerStateTests.setGradients(apart, step: step)
            let learningRate = 1e-2 * Double(step + 1)
            whole.step(learningRate: learningRate)
            for optimizer in single { optimizer.step(learningRate: learningRate) }
        }
        // Counts of differing values, not the arrays: a failure should read in one line.
        #expect(Self.differences(together.bits, apart.bits) == 0, "\(label): parameters")
        let wholeState = OptimizerStateTests.stateBits(whole)
        let singleState = single.reduce(into: [String: [UInt32]]()) { $0.merge(OptimizerStateTests.stateBits($1)) { a, _ in a } }
        #expect(wholeState.keys.sorted() == singleState.keys.sorted(), "\(label): state tensors")
        for (name, bits) in wholeState {
            #expect(Self.differences([bits], [singleState[name] ?? []]) == 0, "\(label): \(name)")
        }
    }

    /// Values that differ (or are missing) between two lists of bit patterns.
    static func differences(_ a: [[UInt32]], _ b: [[UInt32]]) -> Int {
        guard a.count == b.count else { return Int.max }
        return zip(a, b).reduce(0) { sum, pair in
            sum + abs(pair.0.count - pair.1.count) + zip(pair.0, pair.1).filter { $0 != $1 }.count
        }
    }
}
