import Foundation
import Shared
import Testing

/// HF `get_scheduler` factors, worked out from transformers/optimization.py's lambdas (step s is
/// the 0-based optimizer step; LambdaLR gives step s the factor lambda(s)).
@Suite struct LearningRateScheduleTests {
    func rates(_ kind: ScheduleKind, base: Double, total: Int, warmup: Warmup, steps: ClosedRange<Int>) throws -> [Double] {
        let schedule = try LearningRateSchedule(kind: kind, baseLearningRate: base, totalSteps: total, warmup: warmup)
        return steps.map { schedule.learningRate(atStep: $0) }
    }

    func expectClose(_ actual: [Double], _ expected: [Double], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            #expect(abs(a - e) <= 1e-15 * max(abs(e), 1e-300) + 1e-20, "step \(i): \(a) vs \(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func kindsAreHFNames() {
        #expect(ScheduleKind.allCases.map(\.rawValue) == ["constant", "constant_with_warmup", "linear", "cosine"])
        #expect(OptimizerKind.allCases.map(\.rawValue) == ["adamw", "sgd"])
    }

    @Test func constantIgnoresWarmup() throws {
        // get_scheduler("constant") builds get_constant_schedule(optimizer): no warmup argument.
        expectClose(try rates(.constant, base: 1e-3, total: 10, warmup: .steps(3), steps: 0...11), Array(repeating: 1e-3, count: 12))
    }

    @Test func constantWithWarmup() throws {
        // s < 4: s / 4; then 1.
        expectClose(try rates(.constantWithWarmup, base: 1e-3, total: 10, warmup: .steps(4), steps: 0...5),
                    [0, 0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3])
        // No warmup: the full rate from the first step.
        expectClose(try rates(.constantWithWarmup, base: 1e-3, total: 10, warmup: .steps(0), steps: 0...1), [1e-3, 1e-3])
    }

    @Test func linear() throws {
        // W = 2, N = 10: s < 2 → s/2; else (10 − s)/8, floored at 0 past the end.
        let f: [Double] = [0, 0.5, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0]
        expectClose(try rates(.linear, base: 2e-4, total: 10, warmup: .steps(2), steps: 0...11), f.map { 2e-4 * $0 })
        // No warmup: (10 − s)/10, so the first step already runs at the full rate.
        expectClose(try rates(.linear, base: 1, total: 10, warmup: .steps(0), steps: 0...2), [1, 0.9, 0.8])
    }

    @Test func cosine() throws {
        // W = 2, N = 10: progress = (s − 2)/8, factor 0.5·(1 + cos(π·0.5·2·progress)); past the end the
        // cosine rises again (HF floors it at 0 but does not clamp the progress).
        expectClose(try rates(.cosine, base: 2e-4, total: 10, warmup: .steps(2), steps: 0...11),
                    [0.0, 0.0001, 0.0002, 0.0001923879532511287, 0.00017071067811865476, 0.000138268343236509, 0.0001,
                     6.173165676349103e-05, 2.9289321881345254e-05, 7.612046748871327e-06, 0.0, 7.6120467488713156e-06])
        // No warmup, N = 4.
        expectClose(try rates(.cosine, base: 1, total: 4, warmup: .steps(0), steps: 0...4),
                    [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0])
    }

    @Test func warmupRatioIsCeiledAsPythonComputesIt() throws {
        func warmup(_ total: Int, _ ratio: Double) throws -> Int {
            try LearningRateSchedule(kind: .linear, baseLearningRate: 1, totalSteps: total, warmup: .ratio(ratio)).warmupSteps
        }
        #expect(try warmup(30, 0.1) == 3)
        #expect(try warmup(10, 0.25) == 3)   // ceil(2.5)
        #expect(try warmup(100, 0.07) == 8)  // 100 × 0.07 = 7.000000000000001 in Double
        #expect(try warmup(10, 0) == 0)
        #expect(try warmup(10, 1) == 10)
        #expect(try warmup(0, 0.5) == 0)
    }

    @Test func warmupLongerThanTheRun() throws {
        // W = 8 > N = 5: the warmup ramp runs on (s/8) and max(1, N − W) = 1 makes the rest 0.
        expectClose(try rates(.linear, base: 1, total: 5, warmup: .steps(8), steps: 0...9),
                    [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 0, 0])
        expectClose(try rates(.cosine, base: 1, total: 5, warmup: .steps(8), steps: 7...8), [0.875, 1])
    }

    @Test func emptyRun() throws {
        // N = 0: linear gives 0/1 = 0 at step 0; cosine gives progress 0, so 1.
        expectClose(try rates(.linear, base: 1, total: 0, warmup: .steps(0), steps: 0...0), [0])
        expectClose(try rates(.cosine, base: 1, total: 0, warmup: .steps(0), steps: 0...0), [1])
    }

    @Test func refusesBadSettings() {
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: 1, totalSteps: 10, warmup: .ratio(1.5)) }
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: 1, totalSteps: 10, warmup: .ratio(-0.1)) }
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: 1, totalSteps: 10, warmup: .steps(-1)) }
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: 1, totalSteps: -1) }
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: -1, totalSteps: 10) }
        #expect(throws: LFError.self) { try LearningRateSchedule(kind: .linear, baseLearningRate: .nan, totalSteps: 10) }
    }
}
