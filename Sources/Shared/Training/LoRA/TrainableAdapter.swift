import Foundation

/// A LoRA adapter being trained: slices attached to the model's linear layers whose A, B (and
/// DoRA's magnitude) are `TrainableParameter`s named as PEFT saves them, so optimiser state,
/// checkpoints and adapter_model.safetensors share one set of keys; and the modules trained in
/// full beside them (PEFT's modules_to_save), whose float32 tensors are parameters too.
public final class TrainableAdapter: @unchecked Sendable {
    public private(set) var config: AdapterConfig
    /// In the model's order: layer by layer, each slice's A, B (and magnitude); then the tensors of
    /// the modules trained in full.
    public let parameters: [TrainableParameter]
    let slices: [(linear: Linear, slice: LoRASlice)]
    /// The modules trained in full, in the model's order.
    public let fullModules: [ReplacedModule]
    /// Holds the memory of the slices (its arena) as long as the parameters point into it.
    private let model: TransformerModel

    init(model: TransformerModel, config: AdapterConfig, slices: [(linear: Linear, slice: LoRASlice)], fullModules: [ReplacedModule]) {
        self.config = config
        self.slices = slices
        self.fullModules = fullModules
        self.model = model
        let arena = model.arena
        // The A matrices of the slices on one layer (q, k, v on a fused q|k|v projection; gate and
        // up) see the same input: stacked, with their gradients, one product serves them all.
        var stackedGradientA: [ObjectIdentifier: UnsafeMutablePointer<Float>] = [:]
        for linear in Self.uniqueLinears(slices) where !linear.adapters.isEmpty {
            let total = linear.adapters.reduce(0) { $0 + $1.rank } * linear.inFeatures
            let values = arena.floats(total), gradients = arena.floats(total)
            var offset = 0
            for l in linear.adapters {
                (values + offset).update(from: l.a, count: l.rank * l.inFeatures)
                l.a = values + offset
                stackedGradientA[ObjectIdentifier(l)] = gradients + offset
                offset += l.rank * l.inFeatures
            }
        }
        // Every gradient lives in the model's arena, beside the values: the model's layers keep
        // pointers to them (a slice's `gradients`, a full module's), which must stay valid while
        // the model lives, even if this adapter is dropped first.
        var parameters: [TrainableParameter] = []
        for (_, l) in slices {
            let key = TransformerModel.peftPrefix + l.name
            let a = TrainableParameter(name: key + ".lora_A.weight", shape: [l.rank, l.inFeatures], value: l.a,
                                       gradient: stackedGradientA[ObjectIdentifier(l)]!)
            let b = TrainableParameter(name: key + ".lora_B.weight", shape: [l.rows, l.rank], value: l.b,
                                       gradient: arena.floats(l.rows * l.rank))
            parameters += [a, b]
            var gradients = LoRAGradients(a: a.gradient, b: b.gradient, magnitude: nil)
            if let m = l.magnitude {
                let magnitude = TrainableParameter(name: key + ".lora_magnitude_vector", shape: [l.rows], value: m,
                                                   gradient: arena.floats(l.rows))
                parameters.append(magnitude)
                gradients.magnitude = magnitude.gradient
            }
            l.gradients = gradients
        }
        for module in fullModules {
            // HF's Trainer decays no norm and no bias.
            let tensors = module.tensors.map { t in
                TrainableParameter(name: t.key, shape: t.shape, value: t.value, gradient: arena.floats(t.shape.reduce(1, *)),
                                   decays: !module.module.isNorm && !t.key.hasSuffix(".bias"))
            }
            parameters += tensors
            model.setGradients(of: module.module, tensors.map(\.gradient))
        }
        self.parameters = parameters
    }

    /// The number of LoRA-adapted modules (a fused q|k|v counts q, k and v).
    public var loraModuleCount: Int { slices.count }

    private static func uniqueLinears(_ slices: [(linear: Linear, slice: LoRASlice)]) -> [Linear] {
        var seen = Set<ObjectIdentifier>()
        return slices.compactMap { seen.insert(ObjectIdentifier($0.linear)).inserted ? $0.linear : nil }
    }

    /// The number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Zeroes every gradient (before the micro-batches of an optimiser step).
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// To call after the optimiser changed the values: DoRA's norms follow A, B and m.
    public func parametersDidChange() {
        for (linear, slice) in slices where slice.magnitude != nil { slice.refreshDoRA(of: linear) }
    }

    /// Copies the values of a saved adapter (a checkpoint of this one) into the parameters.
    public func loadValues(from path: String) throws {
        let file = try SafetensorsFile(path: path)
        for p in parameters {
            guard let t = file[p.name] else {
                throw LFError.input("the checkpoint has no tensor \(p.name)", file: path, field: p.name,
                                    hint: "it was saved by a run with other LoRA settings")
            }
            guard t.shape == p.shape else {
                throw LFError.input("\(p.name) has shape \(t.shape); this adapter needs \(p.shape)", file: path, field: p.name)
            }
            try file.copyFloats(t, into: p.value)
        }
        if file.tensors.count != parameters.count {
            let known = Set(parameters.map(\.name))
            let extra = file.tensors.map(\.name).filter { !known.contains($0) }.sorted()
            throw LFError.input("the checkpoint holds tensors this adapter does not have (\(extra.prefix(3).joined(separator: ", ")))",
                                file: path)
        }
        parametersDidChange()
    }

    /// Writes adapter_config.json and adapter_model.safetensors into `directory` (each file
    /// atomically), in PEFT's format: `PeftModel.from_pretrained` loads it.
    public func save(to directory: String) throws {
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for p in parameters.sorted(by: { $0.name < $1.name }) {
            try writer.addFloats(p.name, shape: p.shape, values: Array(UnsafeBufferPointer(start: p.value, count: p.count)), as: .f32)
        }
        try writer.write(to: (directory as NSString).appendingPathComponent("adapter_model.safetensors"))
        try AtomicFile.write(config.peftJSON(), to: (directory as NSString).appendingPathComponent("adapter_config.json"))
    }
}

extension AdapterConfig {
    /// adapter_config.json as PEFT writes it (the LoRA fields; PEFT fills the rest with defaults).
    func peftJSON() throws -> Data {
        var object: [String: Any] = [
            "peft_type": peftType, "task_type": taskType ?? "CAUSAL_LM", "r": r, "lora_alpha": loraAlpha,
            "lora_dropout": loraDropout, "target_modules": targetModules.sorted(), "use_rslora": useRslora,
            "use_dora": useDora, "fan_in_fan_out": fanInFanOut, "bias": bias, "inference_mode": true,
            "init_lora_weights": true, "rank_pattern": [String: Int](), "alpha_pattern": [String: Double](),
            "modules_to_save": modulesToSave.map { $0 as Any } ?? NSNull(), "layers_to_transform": NSNull(), "layers_pattern": NSNull(),
            "base_model_name_or_path": baseModelNameOrPath.map { $0 as Any } ?? NSNull(), "revision": NSNull(),
        ]
        if loraAlpha == loraAlpha.rounded() { object["lora_alpha"] = Int(loraAlpha) }
        object["peft_version"] = "0.21.2"  // the PEFT release whose format this follows
        var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }
}
