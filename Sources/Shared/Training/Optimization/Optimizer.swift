import Foundation

/// The optimizers lf-train offers (`--optimizer`), named as in the saved state's metadata.
public enum OptimizerKind: String, CaseIterable, Sendable {
    /// torch.optim.AdamW: Adam with decoupled weight decay.
    case adamw
    /// torch.optim.SGD, with optional momentum and L2 weight decay.
    case sgd
}

/// One tensor of optimizer state: `<parameter name>.<slot>` (e.g. `….lora_A.weight.exp_avg`), the
/// parameter's shape, and its values.
public typealias OptimizerStateTensor = (name: String, shape: [Int], values: [Float])

/// Updates a fixed set of parameters from their gradients, one step at a time, and can hand out
/// and take back its state so that a resumed run continues bit for bit.
public protocol Optimizer: AnyObject {
    var kind: OptimizerKind { get }
    var parameters: [TrainableParameter] { get }
    /// Steps taken so far (AdamW's t − 1 before a step; saved as the state's `step`).
    var stepCount: Int { get }
    /// One update from the parameters' current gradients at `learningRate`; increments `stepCount`.
    func step(learningRate: Double)
    /// The state, one tensor per parameter and slot, in parameter order (empty for plain SGD).
    func stateTensors() -> [OptimizerStateTensor]
    /// Replaces the state with `state` (as `stateTensors()` gives it) and the step count. Every
    /// expected tensor must be there with the parameter's shape, and no other: an error names the
    /// first tensor that is missing, extra or mis-shaped, and the state is left unchanged.
    func restore(state: [OptimizerStateTensor], stepCount: Int) throws
}

extension Optimizer {
    /// The state tensors `restore` expects, by name, each with the values' place in `slots`:
    /// for every parameter p and every slot s, `<p.name>.<s>` with p's shape. Returns the values in
    /// slot-major order (`result[s][i]` is slot s of parameter i), or throws naming the offending
    /// tensor.
    func matchState(_ state: [OptimizerStateTensor], slots: [String], stepCount: Int) throws -> [[[Float]]] {
        guard stepCount >= 0 else {
            throw LFError("optimizer state: step count \(stepCount) is negative")
        }
        var byName: [String: OptimizerStateTensor] = [:]
        for t in state {
            guard byName.updateValue(t, forKey: t.name) == nil else {
                throw LFError("optimizer state: tensor \"\(t.name)\" is given twice")
            }
        }
        var result: [[[Float]]] = []
        for slot in slots {
            var values: [[Float]] = []
            for p in parameters {
                let name = "\(p.name).\(slot)"
                guard let t = byName.removeValue(forKey: name) else {
                    throw LFError("optimizer state: tensor \"\(name)\" is missing",
                                  hint: "the state was saved for other parameters or another \(kind.rawValue) setting")
                }
                guard t.shape == p.shape, t.values.count == p.count else {
                    throw LFError("optimizer state: tensor \"\(name)\" has shape \(t.shape) (\(t.values.count) values), but the parameter has shape \(p.shape)",
                                  hint: "the state was saved for another model or LoRA rank")
                }
                values.append(t.values)
            }
            result.append(values)
        }
        if let extra = byName.keys.sorted().first {
            throw LFError("optimizer state: tensor \"\(extra)\" belongs to no parameter of this \(kind.rawValue) optimizer",
                          hint: "the state was saved for other parameters or another \(kind.rawValue) setting")
        }
        return result
    }
}

/// Checks the hyperparameters torch also refuses (torch raises ValueError for the same ranges).
func checkHyperparameter(_ name: String, _ value: Double, _ range: ClosedRange<Double>, open upper: Bool = false) throws {
    guard value.isFinite, range.contains(value), !(upper && value == range.upperBound) else {
        let bound = upper ? "[\(range.lowerBound), \(range.upperBound))" : "[\(range.lowerBound), \(range.upperBound)]"
        throw LFError.usage("\(name) must be in \(bound), not \(value)")
    }
}

/// Copies `values` to `destination` (which has room for them).
func copy(_ values: [Float], to destination: UnsafeMutablePointer<Float>) {
    values.withUnsafeBufferPointer { source in
        if let base = source.baseAddress { destination.update(from: base, count: source.count) }
    }
}

/// Where each parameter's values start in an optimiser's one flat state buffer, and its length.
func stateOffsets(_ parameters: [TrainableParameter]) -> (offsets: [Int], total: Int) {
    var offsets: [Int] = []
    var total = 0
    for p in parameters {
        offsets.append(total)
        total += p.count
    }
    return (offsets, total)
}

/// Runs `update(index, range)` over the elements of every parameter, the flat run of all of them
/// cut into one share per core. The updates are elementwise, so the cut changes no value.
func forEachShare(of parameters: [TrainableParameter], offsets: [Int], total: Int,
                  _ update: (_ index: Int, _ range: Range<Int>) -> Void) {
    let jobs = total >= 1 << 16 ? Parallel.coreCount : 1
    SpinPool.shared.run(jobs: jobs) { job in
        let lo = total * job / jobs, hi = total * (job + 1) / jobs
        for index in parameters.indices {
            let start = offsets[index], end = start + parameters[index].count
            guard start < hi, end > lo else { continue }
            update(index, (max(lo, start) - start)..<(min(hi, end) - start))
        }
    }
}
