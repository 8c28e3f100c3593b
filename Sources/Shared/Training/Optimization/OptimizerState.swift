import Foundation

/// The optimizer state saved in a checkpoint, as a safetensors file: one F32 tensor per parameter
/// and slot, named `<parameter name>.exp_avg` / `.exp_avg_sq` (AdamW, the names of the fixtures'
/// optimizer_step1.safetensors) or `.momentum_buffer` (SGD with momentum), and the metadata
/// `{"format": "pt", "optimizer": "adamw", "step": "N"}`. Values are stored as they are, so a
/// save and load gives back every bit and a resumed run ends where an uninterrupted one does.
public enum OptimizerStateKeys {
    public static let optimizer = "optimizer"
    public static let step = "step"
}

extension Optimizer {
    /// The state as a safetensors writer (serialise it, or `write(to:)` it).
    public func stateWriter() throws -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: ["format": "pt",
                                                  OptimizerStateKeys.optimizer: kind.rawValue,
                                                  OptimizerStateKeys.step: String(stepCount)])
        for t in stateTensors() {
            try writer.addFloats(t.name, shape: t.shape, values: t.values, as: .f32)
        }
        return writer
    }

    /// Writes the state to `path` (atomically: a temporary file renamed into place).
    public func saveState(to path: String) throws {
        try stateWriter().write(to: path)
    }

    /// Loads a state saved by `saveState(to:)`, checking the optimizer kind, the step and every
    /// tensor's name, shape and type; an error names the file and the tensor, and leaves the
    /// current state as it was.
    public func loadState(from path: String) throws {
        try restore(from: SafetensorsFile(path: path))
    }

    /// Loads the state held in `file` (see `loadState(from:)`).
    public func restore(from file: SafetensorsFile) throws {
        let path = file.path
        guard let saved = file.metadata[OptimizerStateKeys.optimizer] else {
            throw LFError.input("no \"\(OptimizerStateKeys.optimizer)\" in the metadata: not an lf optimizer state",
                                file: path, field: "__metadata__.\(OptimizerStateKeys.optimizer)")
        }
        guard saved == kind.rawValue else {
            throw LFError.input("the state is for optimizer \"\(saved)\", but this run uses \"\(kind.rawValue)\"",
                                file: path, field: "__metadata__.\(OptimizerStateKeys.optimizer)",
                                hint: "resume with the optimizer the checkpoint was trained with")
        }
        guard let stepText = file.metadata[OptimizerStateKeys.step], let step = Int(stepText), step >= 0 else {
            throw LFError.input("the metadata has no valid \"\(OptimizerStateKeys.step)\" (a step count ≥ 0)",
                                file: path, field: "__metadata__.\(OptimizerStateKeys.step)")
        }
        var state: [OptimizerStateTensor] = []
        for t in file.tensors {
            // Only F32 round-trips exactly; anything else was not written by lf.
            guard t.dtype == .f32 else {
                throw LFError.input("tensor \"\(t.name)\" is \(t.dtype.rawValue); optimizer state is F32", file: path, field: t.name)
            }
            state.append((t.name, t.shape, try file.floats(t.name)))
        }
        do {
            try restore(state: state, stepCount: step)
        } catch let error as LFError {
            throw error.inFile(path)
        }
    }
}
