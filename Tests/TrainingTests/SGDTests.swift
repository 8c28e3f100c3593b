import Foundation
import Shared
import Testing

/// torch.optim.SGD against steps worked out by hand.
@Suite struct SGDTests {
    /// p = [1, −2], g = [0.5, 0.25] every step, lr 0.1.
    static func make() -> ParameterSet {
        let set = ParameterSet([("w", [2], [1, -2])])
        set.setGradients { _ in [0.5, 0.25] }
        return set
    }

    @Test func plainStep() throws {
        let set = Self.make()
        let sgd = try SGD(parameters: set.parameters)
        sgd.step(learningRate: 0.1)
        // p − lr·g = [1 − 0.05, −2 − 0.025]
        #expect(set.values(set.parameters[0]) == [0.95, -2.025])
        #expect(sgd.stepCount == 1)
        #expect(sgd.stateTensors().isEmpty)
    }

    @Test func momentumAndWeightDecay() throws {
        let set = Self.make()
        let sgd = try SGD(parameters: set.parameters, momentum: 0.9, weightDecay: 0.1)
        // Step 1: g' = g + 0.1·p = [0.6, 0.05]; b = g' (the first buffer is the gradient itself);
        //         p = p − 0.1·b = [0.94, −2.005].
        sgd.step(learningRate: 0.1)
        expectClose(set.values(set.parameters[0]), [0.94, -2.005])
        expectClose(sgd.stateTensors()[0].values, [0.6, 0.05])
        // Step 2: g' = [0.5 + 0.094, 0.25 − 0.2005] = [0.594, 0.0495];
        //         b = 0.9·[0.6, 0.05] + g' = [1.134, 0.0945]; p = [0.94 − 0.1134, −2.005 − 0.00945].
        sgd.step(learningRate: 0.1)
        expectClose(set.values(set.parameters[0]), [0.8266, -2.01445])
        expectClose(sgd.stateTensors()[0].values, [1.134, 0.0945])
        #expect(sgd.stateTensors()[0].name == "w.momentum_buffer")
        #expect(sgd.stateTensors()[0].shape == [2])
    }

    @Test func weightDecaySkipsParametersThatDoNotDecay() throws {
        let set = ParameterSet([("w", [1], [1]), ("norm", [1], [1])], decays: { $0 == "w" })
        set.setGradients { _ in [0] }
        let sgd = try SGD(parameters: set.parameters, weightDecay: 0.5)
        sgd.step(learningRate: 0.1)
        // w: g' = 0 + 0.5·1; p = 1 − 0.05. norm: untouched.
        #expect(set.values(set.parameters[0]) == [0.95])
        #expect(set.values(set.parameters[1]) == [1])
    }

    @Test func refusesNegativeHyperparameters() {
        let set = Self.make()
        #expect(throws: LFError.self) { try SGD(parameters: set.parameters, momentum: -0.1) }
        #expect(throws: LFError.self) { try SGD(parameters: set.parameters, weightDecay: -1) }
    }

    func expectClose(_ a: [Float], _ b: [Float], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) {
            #expect(abs(x - y) <= 1e-6 * max(1, abs(y)), "\(a) vs \(b)", sourceLocation: sourceLocation)
        }
    }
}
