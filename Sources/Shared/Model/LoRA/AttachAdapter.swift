import Foundation

extension TransformerModel {
    /// PEFT's key prefix for the wrapped model.
    static let peftPrefix = "base_model.model."

    /// Applies a PEFT LoRA adapter directory on the fly: each targeted layer computes
    /// W x + s · B A x (rsLoRA's s = α/√r; DoRA's magnitude-scaled form). The adapter's tensors
    /// must match the model: an adapter made for another base is refused, naming the tensor.
    public func attachAdapter(directory: String) throws {
        guard adapter == nil else { throw LFError.usage("an adapter is already attached; lf applies one adapter at a time") }
        let config = try AdapterConfig.load(directory: directory)
        let path = (directory as NSString).appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: path) else {
            throw LFError("no adapter_model.safetensors in the adapter directory", at: SourceLocation(file: directory),
                          hint: "older PEFT adapters saved adapter_model.bin (PyTorch pickle), which lf does not read; re-save with safe_serialization=True")
        }
        let file = try SafetensorsFile(path: path)
        let scale = Float(config.scale)

        // Group the tensors by module: A, B and (DoRA) the magnitude vector.
        struct Parts { var a: SafetensorsTensor?; var b: SafetensorsTensor?; var magnitude: SafetensorsTensor? }
        var parts: [String: Parts] = [:]
        for t in file.tensors {
            var key = t.name
            guard key.hasPrefix(Self.peftPrefix) else {
                throw LFError.input("tensor \"\(key)\" does not start with PEFT's \"\(Self.peftPrefix)\"", file: path, field: key)
            }
            key.removeFirst(Self.peftPrefix.count)
            if key.hasSuffix(".lora_A.weight") {
                parts[String(key.dropLast(".lora_A.weight".count)), default: Parts()].a = t
            } else if key.hasSuffix(".lora_B.weight") {
                parts[String(key.dropLast(".lora_B.weight".count)), default: Parts()].b = t
            } else if key.hasSuffix(".lora_magnitude_vector") {
                parts[String(key.dropLast(".lora_magnitude_vector".count)), default: Parts()].magnitude = t
            } else {
                throw LFError.input("tensor \"\(t.name)\" is not a LoRA A/B matrix or DoRA magnitude", file: path, field: t.name,
                                    hint: "lf reads plain LoRA, rsLoRA and DoRA adapters")
            }
        }
        guard !parts.isEmpty else { throw LFError.input("the adapter has no tensors", file: path) }

        var slices: [(Linear, LoRASlice)] = []
        for (module, p) in parts.sorted(by: { $0.key < $1.key }) {
            guard let a = p.a, let b = p.b else {
                throw LFError.input("\(module) has lora_\(p.a == nil ? "A" : "B") but not lora_\(p.a == nil ? "B" : "A")", file: path, field: module)
            }
            let canonical = module.hasPrefix("h.") ? "transformer." + module : module  // GPT-2 hub layout
            guard let target = modules[canonical] else {
                throw LFError.input("the adapter targets \(module), which this \(config.baseModelNameOrPath.map { "(\($0)) " } ?? "")"
                                    + "\(self.config.architecture.rawValue) model does not have", file: path, field: a.name,
                                    hint: "the adapter was trained for another base model")
            }
            let r = config.r
            guard a.shape == [r, target.linear.inFeatures] else {
                throw LFError.input("lora_A has shape \(a.shape); this model needs [\(r), \(target.linear.inFeatures)]", file: path, field: a.name,
                                    hint: "the adapter was trained for another base model (or its r disagrees with adapter_config.json)")
            }
            guard b.shape == [target.rows, r] else {
                throw LFError.input("lora_B has shape \(b.shape); this model needs [\(target.rows), \(r)]", file: path, field: b.name,
                                    hint: "the adapter was trained for another base model")
            }
            let aw = arena.floats(a.elementCount), bw = arena.floats(b.elementCount)
            try file.copyFloats(a, into: aw)
            try file.copyFloats(b, into: bw)
            let slice = LoRASlice(name: module, rowOffset: target.rowOffset, rows: target.rows, rank: r,
                                  inFeatures: target.linear.inFeatures, scale: scale, a: aw, b: bw)
            if config.useDora {
                guard let m = p.magnitude, m.shape == [target.rows] else {
                    throw LFError.input("the DoRA adapter has no lora_magnitude_vector of length \(target.rows) for \(module)",
                                        file: path, field: module)
                }
                let magnitude = arena.floats(target.rows)
                try file.copyFloats(m, into: magnitude)
                slice.magnitude = magnitude
                slice.weightNorm = arena.floats(target.rows)
                slice.doraScale = arena.floats(target.rows)
                slice.refreshDoRA(of: target.linear)
            } else if let m = p.magnitude {
                throw LFError.input("\(m.name) is a DoRA magnitude, but adapter_config.json has use_dora false", file: path, field: m.name)
            }
            slices.append((target.linear, slice))
        }
        for (linear, slice) in slices { linear.adapters.append(slice) }
        adapter = config
    }
}
