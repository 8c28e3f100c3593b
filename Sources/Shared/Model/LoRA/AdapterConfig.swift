import Foundation

/// PEFT's adapter_config.json for LoRA (the fields lf reads and writes). Unknown fields are kept
/// out of the way: PEFT writes many for other methods; the ones that change LoRA's maths and that
/// lf does not implement are refused when set.
public struct AdapterConfig: Codable, Equatable, Sendable {
    public var peftType: String
    public var r: Int
    public var loraAlpha: Double
    public var targetModules: [String]
    public var loraDropout: Double
    public var useRslora: Bool
    public var useDora: Bool
    public var fanInFanOut: Bool
    public var bias: String
    public var baseModelNameOrPath: String?
    public var taskType: String?
    /// Modules trained in full and saved whole beside the LoRA tensors (see ModulesToSave.swift).
    public var modulesToSave: [String]?
    public var rankPattern: [String: Int]
    public var alphaPattern: [String: Double]
    public var layersToTransform: [Int]?

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type"
        case r
        case loraAlpha = "lora_alpha"
        case targetModules = "target_modules"
        case loraDropout = "lora_dropout"
        case useRslora = "use_rslora"
        case useDora = "use_dora"
        case fanInFanOut = "fan_in_fan_out"
        case bias
        case baseModelNameOrPath = "base_model_name_or_path"
        case taskType = "task_type"
        case modulesToSave = "modules_to_save"
        case rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern"
        case layersToTransform = "layers_to_transform"
    }

    public init(r: Int, loraAlpha: Double, targetModules: [String], loraDropout: Double = 0, useRslora: Bool = false,
                useDora: Bool = false, fanInFanOut: Bool = false, baseModelNameOrPath: String? = nil) {
        peftType = "LORA"
        self.r = r
        self.loraAlpha = loraAlpha
        self.targetModules = targetModules
        self.loraDropout = loraDropout
        self.useRslora = useRslora
        self.useDora = useDora
        self.fanInFanOut = fanInFanOut
        bias = "none"
        self.baseModelNameOrPath = baseModelNameOrPath
        taskType = "CAUSAL_LM"
        modulesToSave = nil
        rankPattern = [:]
        alphaPattern = [:]
        layersToTransform = nil
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        peftType = try c.decodeIfPresent(String.self, forKey: .peftType) ?? "LORA"  // PEFT: required
        r = try c.decodeIfPresent(Int.self, forKey: .r) ?? 8  // PEFT default 8
        loraAlpha = try c.decodeIfPresent(Double.self, forKey: .loraAlpha) ?? 8  // PEFT default 8
        // target_modules: a list, or one regex string PEFT matches against module paths.
        if let list = try? c.decodeIfPresent([String].self, forKey: .targetModules) {
            targetModules = list
        } else if let pattern = try? c.decodeIfPresent(String.self, forKey: .targetModules) {
            targetModules = [pattern]
        } else {
            targetModules = []
        }
        loraDropout = try c.decodeIfPresent(Double.self, forKey: .loraDropout) ?? 0  // PEFT default 0.0
        useRslora = try c.decodeIfPresent(Bool.self, forKey: .useRslora) ?? false
        useDora = try c.decodeIfPresent(Bool.self, forKey: .useDora) ?? false
        fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
        bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
        baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
        taskType = try c.decodeIfPresent(String.self, forKey: .taskType)
        modulesToSave = try c.decodeIfPresent([String].self, forKey: .modulesToSave)
        rankPattern = try c.decodeIfPresent([String: Int].self, forKey: .rankPattern) ?? [:]
        alphaPattern = try c.decodeIfPresent([String: Double].self, forKey: .alphaPattern) ?? [:]
        layersToTransform = try? c.decodeIfPresent([Int].self, forKey: .layersToTransform)
    }

    /// s = alpha / r, or alpha / √r with rsLoRA.
    public var scale: Double { useRslora ? loraAlpha / Double(r).squareRoot() : loraAlpha / Double(r) }

    /// Reads and checks `directory/adapter_config.json`.
    public static func load(directory: String) throws -> AdapterConfig {
        let path = (directory as NSString).appendingPathComponent("adapter_config.json")
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LFError("no adapter_config.json in the adapter directory", at: SourceLocation(file: directory),
                          hint: "an adapter is a PEFT directory with adapter_config.json and adapter_model.safetensors")
        }
        let config: AdapterConfig
        do { config = try JSONDecoder().decode(AdapterConfig.self, from: data) } catch {
            throw LFError.input("adapter_config.json does not parse: \(error)", file: path)
        }
        guard config.peftType == "LORA" else {
            throw LFError.input("peft_type \"\(config.peftType)\" is not supported (lf reads LoRA adapters)", file: path, field: "peft_type")
        }
        guard config.r > 0 else { throw LFError.input("r must be positive", file: path, field: "r") }
        guard config.bias == "none" else {
            throw LFError.input("bias \"\(config.bias)\" is not supported (lf reads bias: none)", file: path, field: "bias")
        }
        if !config.rankPattern.isEmpty || !config.alphaPattern.isEmpty {
            throw LFError.input("per-module rank_pattern/alpha_pattern are not supported", file: path, field: "rank_pattern")
        }
        return config
    }
}
