/// Which sequences every optimiser step trains on: each epoch visits every sequence once in an
/// order shuffled from (seed, epoch); a step takes `accumulation` micro-batches of `microBatch`
/// sequences, and the last step of an epoch may be shorter (no step spans two epochs, as the HF
/// Trainer). A step's sequences are a pure function of its number, so a resumed run trains on
/// exactly what the uninterrupted run would have.
public struct TrainingSchedule: Sendable {
    public let sequenceCount: Int
    public let microBatch: Int
    public let accumulation: Int
    public let seed: UInt64
    public let shuffle: Bool

    public init(sequenceCount: Int, microBatch: Int, accumulation: Int, seed: UInt64, shuffle: Bool = true) {
        precondition(sequenceCount > 0 && microBatch > 0 && accumulation > 0)
        self.sequenceCount = sequenceCount
        self.microBatch = microBatch
        self.accumulation = accumulation
        self.seed = seed
        self.shuffle = shuffle
    }

    public var sequencesPerStep: Int { microBatch * accumulation }
    public var stepsPerEpoch: Int { (sequenceCount + sequencesPerStep - 1) / sequencesPerStep }

    /// The total number of steps: `maxSteps` when positive, else ⌈epochs × steps per epoch⌉.
    public func totalSteps(epochs: Double, maxSteps: Int) -> Int {
        maxSteps > 0 ? maxSteps : max(1, Int((epochs * Double(stepsPerEpoch)).rounded(.up)))
    }

    /// The epoch (fractional, as logged) after `step` steps.
    public func epoch(afterSteps steps: Int) -> Double { Double(steps) / Double(stepsPerEpoch) }

    /// The micro-batches (sequence indices) of step `step` (0-based).
    public func microBatches(ofStep step: Int) -> [[Int]] {
        let order = self.order(epoch: step / stepsPerEpoch)
        return microBatchRanges(ofStep: step).map { Array(order[$0]) }
    }

    /// Where step `step`'s micro-batches lie in its epoch's order.
    private func microBatchRanges(ofStep step: Int) -> [Range<Int>] {
        let start = (step % stepsPerEpoch) * sequencesPerStep, end = min(sequenceCount, start + sequencesPerStep)
        return stride(from: start, to: end, by: microBatch).map { $0..<min(end, $0 + microBatch) }
    }

    /// The largest micro-batch of steps `steps`, measured by `size` (summed over its sequences):
    /// what the engine's buffers must hold, so that they are allocated once before training.
    public func largestMicroBatch(steps: Range<Int>, size: (Int) -> Int) -> Int {
        guard !steps.isEmpty else { return 0 }
        var largest = 0, step = steps.lowerBound
        while step < steps.upperBound {
            // One shuffle per epoch, not per step.
            let epoch = step / stepsPerEpoch
            let order = self.order(epoch: epoch)
            let last = min(steps.upperBound, (epoch + 1) * stepsPerEpoch)
            for s in step..<last {
                for range in microBatchRanges(ofStep: s) {
                    largest = max(largest, order[range].reduce(0) { $0 + size($1) })
                }
            }
            step = last
        }
        return largest
    }

    /// The sequence order of an epoch: a Fisher–Yates shuffle seeded by (seed, epoch).
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<sequenceCount)
        guard shuffle else { return order }
        var rng = SplitMix64(seed: Dropout.mix(seed ^ (UInt64(epoch) &* 0xD6E8_FEB8_6659_FD93)))
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }
}
