import Foundation

/// torch.optim.SGD with dampening 0 and no Nesterov, one parameter group, reproducing torch's
/// float32 CPU arithmetic (its vectorised `add(…, alpha:)` is a fused multiply-add):
///
///     g ← g + wd·p                               (L2 weight decay, for parameters that decay)
///     b ← g on the first step, else b·μ + g      (only with momentum μ > 0)
///     p ← p − lr·b                               (b = g without momentum)
///
/// The momentum buffers (`momentum_buffer` in torch's state) live in one arena; without momentum
/// SGD has no state.
public final class SGD: Optimizer {
    public let kind = OptimizerKind.sgd
    public let parameters: [TrainableParameter]
    public private(set) var stepCount = 0
    public let momentum: Double
    public let weightDecay: Double

    /// (Σ count) momentum buffers, parameter after parameter; nil without momentum.
    private let buffers: UnsafeMutablePointer<Float>?
    private let offsets: [Int]
    private let total: Int

    public init(parameters: [TrainableParameter], momentum: Double = 0, weightDecay: Double = 0) throws {
        try checkHyperparameter("SGD momentum", momentum, 0...Double.greatestFiniteMagnitude)
        try checkHyperparameter("SGD weight decay", weightDecay, 0...Double.greatestFiniteMagnitude)
        self.parameters = parameters
        self.momentum = momentum
        self.weightDecay = weightDecay
        let (offsets, total) = stateOffsets(parameters)
        self.offsets = offsets
        self.total = total
        if momentum != 0 {
            let b = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
            b.initialize(repeating: 0, count: total)
            buffers = b
        } else {
            buffers = nil
        }
    }

    deinit { buffers?.deallocate() }

    public func step(learningRate lr: Double) {
        let wd = Float(weightDecay)
        let mu = Float(momentum)
        let alpha = Float(-lr)
        // torch creates the buffer as a copy of the first gradient.
        let first = stepCount == 0
        let state = buffers
        forEachShare(of: parameters, offsets: offsets, total: total) { index, range in
            let p = parameters[index]
            let x = p.value, g = p.gradient
            let decays = p.decays && weightDecay != 0
            let b = state.map { $0 + offsets[index] }
            for i in range {
                var gi = g[i]
                if decays { gi = gi.addingProduct(x[i], wd) }
                if let b {
                    gi = first ? gi : gi + b[i] * mu
                    b[i] = gi
                }
                x[i] = x[i].addingProduct(gi, alpha)
            }
        }
        stepCount += 1
    }

    public func stateTensors() -> [OptimizerStateTensor] {
        guard let buffers else { return [] }
        return parameters.enumerated().map { index, p in
            (p.name + ".momentum_buffer", p.shape, Array(UnsafeBufferPointer(start: buffers + offsets[index], count: p.count)))
        }
    }

    public func restore(state: [OptimizerStateTensor], stepCount: Int) throws {
        let slots = try matchState(state, slots: buffers == nil ? [] : ["momentum_buffer"], stepCount: stepCount)
        if let buffers {
            for index in parameters.indices { copy(slots[0][index], to: buffers + offsets[index]) }
        }
        self.stepCount = stepCount
    }
}
