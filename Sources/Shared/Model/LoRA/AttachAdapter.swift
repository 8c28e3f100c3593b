import Foundation

extension TransformerModel {
    /// PEFT's key prefix for the wrapped model.
    static let peftPrefix = "base_model.model."

    /// Applies a PEFT LoRA adapter directory on the fly: each targeted layer computes
    /// W x + s · B A x (rsLoRA's s = α/√r; DoRA's magnitude-scaled form), and the modules its
    /// modules_to_save selects take the adapter's weights in place of the base's. The adapter's
    /// tensors must match the model: an adapter made for another base is refused, naming the tensor.
    public func attachAdapter(directory: String) throws {
        guard adapter == nil else { throw LFError.usage("an adapter is already attached; lf applies one adapter at a time") }
        let config = try AdapterConfig.load(directory: directory)
        let saved = try modulesToSave(of: config, directory: directory)
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
        // The modules_to_save tensors, by module path and tensor name ("weight", "bias").
        var whole: [String: [String: SafetensorsTensor]] = [:]
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
            } else if let (module, name) = savedTensor(key, in: saved) {
                whole[module, default: [:]][name] = t
            } else {
                throw LFError.input("tensor \"\(t.name)\" is not a LoRA A/B matrix or DoRA magnitude, nor a weight of a module "
                                    + "that modules_to_save selects", file: path, field: t.name,
                                    hint: "lf reads plain LoRA, rsLoRA and DoRA adapters with modules_to_save")
            }
        }
        guard !parts.isEmpty || !whole.isEmpty else { throw LFError.input("the adapter has no tensors", file: path) }

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
        let replacements = try checkSavedTensors(whole, saved: saved, file: file)
        for (linear, slice) in slices { linear.adapters.append(slice) }
        for saved in replacements {
            let own = ownTensors(of: saved.module, path: saved.path, keyPrefix: saved.keyPrefix)
            for (target, source) in zip(own.tensors, saved.sources) { try file.copyFloats(source, into: target.value) }
            replacedModules.append(own)
        }
        adapter = config
    }

    /// The modules the adapter's modules_to_save selects. A name that selects no module of this
    /// model is ignored with a warning, as PEFT ignores it; one that selects a module lf cannot
    /// replace is an error naming adapter_config.json.
    private func modulesToSave(of config: AdapterConfig, directory: String) throws -> [(path: String, module: FullModule)] {
        let path = (directory as NSString).appendingPathComponent("adapter_config.json")
        do {
            let (chosen, unmatched) = try matchModulesToSave(config.modulesToSave ?? [])
            for name in unmatched {
                Log.warning("\(path): modules_to_save names \"\(name)\", which selects no module of this \(self.config.architecture.rawValue) model; ignored, as PEFT does")
            }
            return chosen
        } catch let error as LFError {
            throw LFError.input(error.message, file: path, field: "modules_to_save", hint: error.hint)
        }
    }

    /// The module path and tensor name ("weight", "bias") of a key (without PEFT's prefix) that is
    /// a weight of a module modules_to_save selects; GPT-2 hub-layout keys lack `transformer.`.
    private func savedTensor(_ key: String, in saved: [(path: String, module: FullModule)]) -> (String, String)? {
        guard let dot = key.lastIndex(of: ".") else { return nil }
        let module = String(key[..<dot]), name = String(key[key.index(after: dot)...])
        for candidate in [module, "transformer." + module] where saved.contains(where: { $0.path == candidate }) {
            return (candidate, name)
        }
        return nil
    }

    /// A module's tensors in the adapter file, in the order of `fullModuleShapes`, and the key prefix
    /// they were saved under.
    private struct SavedModuleTensors {
        let path: String
        let module: FullModule
        let keyPrefix: String
        let sources: [SafetensorsTensor]
    }

    /// Checks that every module modules_to_save selects has exactly its tensors in the file, with
    /// this model's shapes and a float type, before anything is replaced.
    private func checkSavedTensors(_ whole: [String: [String: SafetensorsTensor]], saved: [(path: String, module: FullModule)],
                                   file: SafetensorsFile) throws -> [SavedModuleTensors] {
        let path = file.path
        return try saved.map { module in
            let found = whole[module.path] ?? [:]
            let expected = fullModuleShapes(module.module)
            // The prefix the file's keys use (GPT-2 hub-layout adapters drop `transformer.`).
            let keyPrefix = found.first.map { String($0.value.name.dropLast($0.key.count)) } ?? Self.peftPrefix + module.path + "."
            let sources = try expected.map { name, shape -> SafetensorsTensor in
                guard let t = found[name] else {
                    throw LFError.input("modules_to_save selects \(module.path), but the file has no tensor \(keyPrefix + name)", file: path,
                                        field: keyPrefix + name, hint: "the adapter is incomplete, or was saved for another base model")
                }
                guard t.shape == shape else {
                    throw LFError.input("\(t.name) has shape \(t.shape); this model's \(module.path) needs \(shape)", file: path, field: t.name,
                                        hint: "the adapter was trained for another base model")
                }
                guard [.f32, .f16, .bf16, .f64].contains(t.dtype) else {
                    throw LFError.input("\(t.name) is \(t.dtype.rawValue), not a floating-point tensor", file: path, field: t.name)
                }
                return t
            }
            if let extra = found.keys.sorted().first(where: { name in !expected.contains { $0.name == name } }) {
                throw LFError.input("\(keyPrefix + extra) is not a tensor of \(module.path) (which has \(expected.map(\.name).joined(separator: ", ")))",
                                    file: path, field: keyPrefix + extra, hint: "the adapter was trained for another base model")
            }
            return SavedModuleTensors(path: module.path, module: module.module, keyPrefix: keyPrefix, sources: sources)
        }
    }
}
