import Testing
@testable import Shared

/// The trainer's data plan: step counts, the short last step of an epoch, and orders that are
/// functions of (seed, epoch) alone.
struct TrainingScheduleTests {
    @Test func stepCountsRoundUpSoThatNoSequenceIsDropped() {
        // 100 sequences, 2 × 4 per step: 12 full steps and a 13th of 4 sequences.
        let plan = TrainingSchedule(sequenceCount: 100, microBatch: 2, accumulation: 4, seed: 1)
        #expect(plan.sequencesPerStep == 8)
        #expect(plan.stepsPerEpoch == 13)
        #expect(plan.totalSteps(epochs: 3, maxSteps: 0) == 39)
        #expect(plan.totalSteps(epochs: 1.5, maxSteps: 0) == 20)  // ⌈19.5⌉
        #expect(plan.totalSteps(epochs: 3, maxSteps: 50) == 50)
        #expect(plan.epoch(afterSteps: 13) == 1)
        let last = plan.microBatches(ofStep: 12)
        #expect(last.map(\.count) == [2, 2])
        // Fewer sequences than one step: one short step per epoch.
        let small = TrainingSchedule(sequenceCount: 3, microBatch: 4, accumulation: 2, seed: 1)
        #expect(small.stepsPerEpoch == 1)
        #expect(small.microBatches(ofStep: 0).map(\.count) == [3])
        #expect(small.totalSteps(epochs: 0.1, maxSteps: 0) == 1)
    }

    @Test func everyEpochVisitsEverySequenceOnce() {
        let plan = TrainingSchedule(sequenceCount: 37, microBatch: 3, accumulation: 2, seed: 7)
        for epoch in 0..<3 {
            let steps = (epoch * plan.stepsPerEpoch)..<((epoch + 1) * plan.stepsPerEpoch)
            let seen = steps.flatMap { plan.microBatches(ofStep: $0).flatMap { $0 } }
            #expect(seen.sorted() == Array(0..<37))
            #expect(seen == plan.order(epoch: epoch))
        }
        #expect(plan.order(epoch: 0) != plan.order(epoch: 1))
    }

    @Test func largestMicroBatchIsTheMaximumOverTheStepsMicroBatches() {
        // 37 sequences of lengths 1...37 (sequence i has i + 1 tokens); steps of 3 × 2 with a short last one.
        let plan = TrainingSchedule(sequenceCount: 37, microBatch: 3, accumulation: 2, seed: 11)
        let length = { (i: Int) in i + 1 }
        func bruteForce(_ steps: Range<Int>) -> Int {
            steps.flatMap { plan.microBatches(ofStep: $0) }.map { $0.map(length).reduce(0, +) }.max() ?? 0
        }
        for steps in [0..<1, 0..<7, 3..<5, 5..<9, 6..<7, 2..<20, 13..<14] {
            #expect(plan.largestMicroBatch(steps: steps, size: length) == bruteForce(steps), "steps \(steps)")
        }
        #expect(plan.largestMicroBatch(steps: 4..<4, size: length) == 0)
    }

    @Test func ordersDependOnTheSeedAndEpochOnly() {
        let a = TrainingSchedule(sequenceCount: 50, microBatch: 4, accumulation: 1, seed: 3)
        let b = TrainingSchedule(sequenceCount: 50, microBatch: 2, accumulation: 2, seed: 3)
        let c = TrainingSchedule(sequenceCount: 50, microBatch: 4, accumulation: 1, seed: 4)
        #expect(a.order(epoch: 2) == b.order(epoch: 2))
        #expect(a.order(epoch: 2) != c.order(epoch: 2))
        let unshuffled = TrainingSchedule(sequenceCount: 5, microBatch: 2, accumulation: 1, seed: 3, shuffle: false)
        #expect(unshuffled.order(epoch: 4) == [0, 1, 2, 3, 4])
        #expect(unshuffled.microBatches(ofStep: 2) == [[4]])
    }
}
