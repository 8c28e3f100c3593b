/// A tensor that training updates: its values (owned by whoever holds the model, e.g. a LoRA
/// slice's A or B matrix), a gradient of the same shape (owned here, or, for an adapter's
/// parameters, by the model's arena), and whether weight decay applies to it.
///
/// `name` is the key the tensor is saved under in adapter_model.safetensors (PEFT's naming:
/// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`); optimiser state and
/// checkpoints are keyed by it too.
public final class TrainableParameter: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    /// The number of values (the product of `shape`).
    public let count: Int
    public let value: UnsafeMutablePointer<Float>
    public let gradient: UnsafeMutablePointer<Float>
    /// AdamW's decoupled weight decay applies (HF's Trainer: every parameter but biases and norms).
    public let decays: Bool

    /// Frees `gradient` on deinit (false when it lives in a buffer shared with other parameters).
    private let ownsGradient: Bool

    public init(name: String, shape: [Int], value: UnsafeMutablePointer<Float>, decays: Bool = true) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        self.value = value
        self.decays = decays
        gradient = .allocate(capacity: max(count, 1))
        gradient.initialize(repeating: 0, count: count)
        ownsGradient = true
    }

    /// A parameter whose gradient lives in memory its owner keeps (e.g. the stacked A matrices of
    /// the LoRA slices of one layer, whose gradients one matrix product computes together).
    public init(name: String, shape: [Int], value: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                decays: Bool = true) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        self.value = value
        self.decays = decays
        self.gradient = gradient
        gradient.initialize(repeating: 0, count: count)
        ownsGradient = false
    }

    deinit { if ownsGradient { gradient.deallocate() } }

    /// Sets the gradient to zero (before accumulating the micro-batches of a step).
    public func zeroGradient() {
        gradient.update(repeating: 0, count: count)
    }
}
