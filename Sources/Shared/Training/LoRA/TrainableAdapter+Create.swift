import Foundation

extension TrainableAdapter {
    /// The LoRA settings of a new adapter.
    public struct Settings: Sendable, Equatable {
        /// Module names as PEFT's target_modules (`q_proj`, `v_proj`, …; a full module path also
        /// works) or ["all"] / ["all-linear"] for every linear layer but the LM head.
        public var targets: [String]
        public var rank: Int
        public var alpha: Double
        public var dropout: Double
        public var rslora: Bool
        public var dora: Bool
        public var seed: UInt64
        /// Modules trained in full beside the LoRA tensors, named as PEFT's modules_to_save
        /// (`embed_tokens`, `lm_head`, `norm`: every module whose path ends with a name).
        public var modulesToSave: [String]

        public init(targets: [String], rank: Int = 8, alpha: Double = 16, dropout: Double = 0, rslora: Bool = false,
                    dora: Bool = false, seed: UInt64 = 42, modulesToSave: [String] = []) {
            self.targets = targets
            self.rank = rank
            self.alpha = alpha
            self.dropout = dropout
            self.rslora = rslora
            self.dora = dora
            self.seed = seed
            self.modulesToSave = modulesToSave
        }
    }

    /// A fresh adapter as PEFT initialises one: A Kaiming-uniform (a = √5, i.e. U(±1/√in)) from
    /// `seed`, B zero, DoRA's m = ‖W‖ per row; the modules to save start as float32 copies of the
    /// base's.
    public static func create(on model: TransformerModel, _ settings: Settings) throws -> TrainableAdapter {
        guard model.adapter == nil else { throw LFError.usage("the model already has an adapter attached") }
        guard settings.rank > 0 else { throw LFError.usage("--lora-rank must be positive") }
        guard settings.dropout >= 0, settings.dropout < 1 else { throw LFError.usage("--lora-dropout must be in [0, 1)") }
        let modules = try resolveTargets(settings.targets, in: model)
        let saveNames = listNames(settings.modulesToSave)
        let (saved, unmatched) = try model.matchModulesToSave(saveNames)
        if let name = unmatched.first { throw model.unmatchedModuleError(name) }
        var config = AdapterConfig(r: settings.rank, loraAlpha: settings.alpha,
                                   targetModules: Array(Set(modules.map { $0.split(separator: ".").last.map(String.init) ?? $0 })),
                                   loraDropout: settings.dropout, useRslora: settings.rslora, useDora: settings.dora,
                                   fanInFanOut: model.config.architecture == .gpt2, baseModelNameOrPath: model.directory)
        config.modulesToSave = saveNames.isEmpty ? nil : saveNames
        // The slices belong to the model (attached to its layers), so their memory lives with it.
        let arena = model.arena
        var rng = SplitMix64(seed: settings.seed)
        var slices: [(linear: Linear, slice: LoRASlice)] = []
        for name in modules {
            let target = model.modules[name]!
            let I = target.linear.inFeatures, r = settings.rank
            let a = arena.floats(r * I), b = arena.floats(target.rows * r)
            let bound = 1 / Float(I).squareRoot()
            for i in 0..<(r * I) { a[i] = (Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1) * bound }
            b.update(repeating: 0, count: target.rows * r)
            let slice = LoRASlice(name: name, rowOffset: target.rowOffset, rows: target.rows, rank: r, inFeatures: I,
                                  scale: Float(config.scale), a: a, b: b)
            slice.dropout = Float(settings.dropout)
            if settings.dora {
                slice.magnitude = arena.floats(target.rows)
                slice.weightNorm = arena.floats(target.rows)
                slice.doraScale = arena.floats(target.rows)
                // With B = 0 the norm is ‖W‖: m starts there, and the scale at 1.
                slice.magnitude!.update(repeating: 1, count: target.rows)
                slice.refreshDoRA(of: target.linear)
                slice.magnitude!.update(from: slice.weightNorm!, count: target.rows)
                slice.refreshDoRA(of: target.linear)
            }
            slices.append((target.linear, slice))
        }
        for (linear, slice) in slices { linear.adapters.append(slice) }
        model.replacedModules = saved.map { model.ownTensors(of: $0.module, path: $0.path, keyPrefix: TransformerModel.peftPrefix + $0.path + ".") }
        model.adapter = config
        return TrainableAdapter(model: model, config: config, slices: slices, fullModules: model.replacedModules)
    }

    /// Names from a list whose items may themselves be comma lists, trimmed, without repeats.
    private static func listNames(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Continues training an existing PEFT adapter (made by lf or by PEFT), with the modules its
    /// modules_to_save selects; `dropout` overrides the adapter's own lora_dropout when given.
    public static func load(on model: TransformerModel, directory: String, dropout: Double? = nil) throws -> TrainableAdapter {
        try model.attachAdapter(directory: directory)
        guard var config = model.adapter else { throw LFError("the adapter did not attach", at: SourceLocation(file: directory)) }
        if let dropout { config.loraDropout = dropout }
        var slices: [(linear: Linear, slice: LoRASlice)] = []
        for name in model.modules.keys.sorted(by: TransformerModel.moduleOrder) {
            let target = model.modules[name]!
            for slice in target.linear.adapters where slice.name == name || slice.name == model.canonicalModuleName(name) {
                slice.dropout = Float(config.loraDropout)
                slices.append((target.linear, slice))
            }
        }
        return TrainableAdapter(model: model, config: config, slices: slices, fullModules: model.replacedModules)
    }

    /// The module paths `targets` select, in the model's order; unknown names are an error that
    /// lists the names this model has.
    static func resolveTargets(_ targets: [String], in model: TransformerModel) throws -> [String] {
        let all = model.modules.keys.sorted(by: TransformerModel.moduleOrder)
        let wanted = targets.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        guard !wanted.isEmpty else {
            throw LFError.usage("no LoRA target modules given", hint: "use --lora-target all, or a list such as q_proj,v_proj")
        }
        if wanted.contains(where: { $0 == "all" || $0 == "all-linear" }) { return all }
        var chosen: [String] = []
        for target in wanted {
            let matches = all.filter { $0 == target || $0.hasSuffix("." + target) }
            guard !matches.isEmpty else {
                let names = Set(all.map { $0.split(separator: ".").suffix(1).joined() }).sorted()
                throw LFError.usage("this \(model.config.architecture.rawValue) model has no linear module named \"\(target)\"",
                                    hint: "its LoRA targets are \(names.joined(separator: ", ")) (or all)")
            }
            chosen += matches
        }
        let set = Set(chosen)
        return all.filter { set.contains($0) }
    }
}

extension TransformerModel {
    /// Module paths in the model's order: by layer number, then by name.
    static func moduleOrder(_ a: String, _ b: String) -> Bool {
        let (la, lb) = (layerNumber(a), layerNumber(b))
        return la != lb ? la < lb : a < b
    }

    private static func layerNumber(_ path: String) -> Int {
        let parts = path.split(separator: ".")
        for (i, part) in parts.enumerated() where (part == "layers" || part == "h") && i + 1 < parts.count {
            if let n = Int(parts[i + 1]) { return n }
        }
        return Int.max
    }

    /// GPT-2 hub-layout adapters name modules without `transformer.`.
    func canonicalModuleName(_ name: String) -> String {
        name.hasPrefix("transformer.") ? String(name.dropFirst("transformer.".count)) : name
    }
}
