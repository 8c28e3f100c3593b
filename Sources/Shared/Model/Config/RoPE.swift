import Foundation

/// Rotary position embedding settings, resolved from either config spelling.
public struct RoPEConfig: Equatable, Sendable {
    /// The base θ of the inverse frequencies, `1 / θ^(2i/d)`.
    public var theta: Double
    public var scaling: RoPEScaling
    /// The share of each head's dimensions that is rotated (Phi-4-mini: 0.75); the rest pass through.
    public var partialRotaryFactor: Double
    /// `Int(headDim × partialRotaryFactor)`, as transformers computes it: the rotated dimensions,
    /// starting at 0 of each head (rotate_half pairs i with i + rotaryDim/2).
    public var rotaryDim: Int

    public init(theta: Double, scaling: RoPEScaling, partialRotaryFactor: Double, rotaryDim: Int) {
        self.theta = theta
        self.scaling = scaling
        self.partialRotaryFactor = partialRotaryFactor
        self.rotaryDim = rotaryDim
    }

    /// The context length the scaling was designed around, when the scaling type has one.
    public var originalMaxPositions: Int? {
        switch scaling {
        case .none, .linear: nil
        case .dynamic(_, let original): original
        case .llama3(let p): p.originalMaxPositions
        case .longrope(let p): p.originalMaxPositions
        case .yarn(let p): p.originalMaxPositions
        }
    }
}

/// How the inverse frequencies are scaled (transformers' `rope_type`).
public enum RoPEScaling: Equatable, Sendable {
    /// `"default"`: plain RoPE.
    case none
    /// `"linear"`: every inverse frequency divided by `factor`.
    case linear(factor: Double)
    /// `"dynamic"` NTK scaling: θ grows once the sequence exceeds `originalMaxPositions`.
    case dynamic(factor: Double, originalMaxPositions: Int)
    /// `"llama3"` (Llama 3.1/3.2).
    case llama3(Llama3RoPE)
    /// `"longrope"` (Phi-3 128k, Phi-4-mini; older configs say `"su"`).
    case longrope(LongRoPE)
    /// `"yarn"`.
    case yarn(YarnRoPE)

    /// The transformers name of the type.
    public var typeName: String {
        switch self {
        case .none: "default"
        case .linear: "linear"
        case .dynamic: "dynamic"
        case .llama3: "llama3"
        case .longrope: "longrope"
        case .yarn: "yarn"
        }
    }

    public static let supportedTypeNames = ["default", "linear", "dynamic", "llama3", "longrope", "yarn"]
}

/// Llama 3.1 scaling: frequencies whose wavelength exceeds originalMaxPositions / lowFreqFactor are
/// divided by `factor`, those below originalMaxPositions / highFreqFactor kept, and those between
/// smoothly interpolated. cos/sin are not rescaled.
public struct Llama3RoPE: Equatable, Sendable {
    public var factor: Double
    public var lowFreqFactor: Double
    public var highFreqFactor: Double
    public var originalMaxPositions: Int

    public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int) {
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositions = originalMaxPositions
    }
}

/// LongRoPE: inverse frequency i is divided by `shortFactor[i]` while the whole sequence is at most
/// `originalMaxPositions` long, by `longFactor[i]` beyond; cos and sin are multiplied by
/// `attentionFactor`.
public struct LongRoPE: Equatable, Sendable {
    public var shortFactor: [Double]
    public var longFactor: [Double]
    public var originalMaxPositions: Int
    /// Given in the config, or transformers' default:
    /// `sqrt(1 + ln(maxPositions / originalMaxPositions) / ln(originalMaxPositions))` (1 when the
    /// ratio is ≤ 1).
    public var attentionFactor: Double

    public init(shortFactor: [Double], longFactor: [Double], originalMaxPositions: Int, attentionFactor: Double) {
        self.shortFactor = shortFactor
        self.longFactor = longFactor
        self.originalMaxPositions = originalMaxPositions
        self.attentionFactor = attentionFactor
    }
}

/// YaRN: frequencies blended between interpolated (÷ factor) and extrapolated according to the
/// beta_fast/beta_slow rotation counts; cos and sin multiplied by `attentionFactor`.
public struct YarnRoPE: Equatable, Sendable {
    public var factor: Double
    public var originalMaxPositions: Int
    /// Default 32.
    public var betaFast: Double
    /// Default 1.
    public var betaSlow: Double
    /// Given, or from mscale/mscale_all_dim, or transformers' default `0.1 ln(factor) + 1`.
    public var attentionFactor: Double
    /// Whether the correction range is rounded to whole dimensions (default true).
    public var truncate: Bool

    public init(factor: Double, originalMaxPositions: Int, betaFast: Double = 32, betaSlow: Double = 1,
                attentionFactor: Double, truncate: Bool = true) {
        self.factor = factor
        self.originalMaxPositions = originalMaxPositions
        self.betaFast = betaFast
        self.betaSlow = betaSlow
        self.attentionFactor = attentionFactor
        self.truncate = truncate
    }
}

/// The RoPE keys of either spelling: transformers 5 writes `rope_parameters` {rope_theta, rope_type,
/// factor, …, partial_rotary_factor}; transformers 4 and most hub configs write `rope_theta` and
/// `rope_scaling` {type or rope_type, factor, …} at the top level, plus a top-level
/// `partial_rotary_factor` (Phi) and `original_max_position_embeddings` (Phi-3).
struct RoPESpelling {
    var parameters: RoPEParameters?
    var scaling: RoPEParameters?
    var theta: Double?
    var partialRotaryFactor: Double?
    var originalMaxPositions: Int?

    enum CodingKeys: String, CodingKey {
        case parameters = "rope_parameters"
        case scaling = "rope_scaling"
        case theta = "rope_theta"
        case partialRotaryFactor = "partial_rotary_factor"
        case originalMaxPositions = "original_max_position_embeddings"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        parameters = try c.decodeIfPresent(RoPEParameters.self, forKey: .parameters)
        scaling = try c.decodeIfPresent(RoPEParameters.self, forKey: .scaling)
        theta = try c.decodeIfPresent(Double.self, forKey: .theta)
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor)
        originalMaxPositions = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositions)
    }

    /// Resolves both spellings into one `RoPEConfig`. `defaultTheta` is the architecture's
    /// transformers default for a config that names no θ at all.
    /// `defaultOriginalMaxPositions` is the architecture's default for a missing top-level
    /// `original_max_position_embeddings` (Phi-3: 4096), nil where the architecture has no such key.
    func resolve(defaultTheta: Double, headDim: Int, maxPositions: Int, defaultOriginalMaxPositions: Int? = nil,
                 path: String) throws -> RoPEConfig {
        let check = ConfigChecker(path: path)
        // Which object holds the scaling keys, and how to name its fields in errors.
        let params: RoPEParameters?
        let group: String
        if let parameters {
            params = parameters
            group = CodingKeys.parameters.rawValue
        } else {
            params = scaling
            group = CodingKeys.scaling.rawValue
        }
        func field(_ key: RoPEParameters.CodingKeys) -> String { "\(group).\(key.rawValue)" }

        // θ: rope_parameters.rope_theta, else the top-level rope_theta (transformers 5 moves the
        // latter into the former when it loads an old config). Two different values are ambiguous.
        var theta = defaultTheta
        if let t = parameters?.ropeTheta, let top = self.theta, t != top {
            throw check.fail("rope_theta is \(top) at the top level but \(t) in rope_parameters", CodingKeys.theta.rawValue)
        }
        if let t = parameters?.ropeTheta ?? self.theta ?? scaling?.ropeTheta { theta = t }
        try check.positive(theta, params?.ropeTheta != nil ? field(.ropeTheta) : CodingKeys.theta.rawValue)

        // partial_rotary_factor: inside rope_parameters (transformers 5) or at the top level.
        if let inner = params?.partialRotaryFactor, let top = partialRotaryFactor, inner != top {
            throw check.fail("partial_rotary_factor is \(top) at the top level but \(inner) in \(group)",
                             CodingKeys.partialRotaryFactor.rawValue)
        }
        let partial = params?.partialRotaryFactor ?? partialRotaryFactor ?? 1.0  // transformers default 1.0
        guard partial > 0, partial <= 1 else {
            throw check.fail("partial_rotary_factor must be in (0, 1], got \(partial)", CodingKeys.partialRotaryFactor.rawValue)
        }
        let rotaryDim = Int(Double(headDim) * partial)
        guard rotaryDim >= 2, rotaryDim % 2 == 0 else {
            throw check.fail("head_dim \(headDim) × partial_rotary_factor \(partial) = \(rotaryDim) rotary dimensions; RoPE needs a positive even number",
                             CodingKeys.partialRotaryFactor.rawValue)
        }

        let typeName = params?.ropeType ?? params?.type ?? "default"
        let typeField = params?.ropeType != nil ? field(.ropeType) : field(.type)
        let original = params?.originalMaxPositions ?? originalMaxPositions ?? defaultOriginalMaxPositions
        func require<T>(_ value: T?, _ key: RoPEParameters.CodingKeys) throws -> T {
            guard let value else {
                throw check.fail("rope type \"\(typeName)\" needs \(key.rawValue)", field(key))
            }
            return value
        }

        let scalingValue: RoPEScaling
        switch typeName {
        case "default":
            scalingValue = .none
        case "linear":
            let factor = try require(params?.factor, .factor)
            try check.positive(factor, field(.factor))
            scalingValue = .linear(factor: factor)
        case "dynamic":
            let factor = try require(params?.factor, .factor)
            try check.positive(factor, field(.factor))
            scalingValue = .dynamic(factor: factor, originalMaxPositions: original ?? maxPositions)
        case "llama3":
            let p = Llama3RoPE(factor: try require(params?.factor, .factor),
                               lowFreqFactor: try require(params?.lowFreqFactor, .lowFreqFactor),
                               highFreqFactor: try require(params?.highFreqFactor, .highFreqFactor),
                               originalMaxPositions: try require(params?.originalMaxPositions, .originalMaxPositions))
            try check.positive(p.factor, field(.factor))
            try check.positive(p.lowFreqFactor, field(.lowFreqFactor))
            try check.positive(p.originalMaxPositions, field(.originalMaxPositions))
            guard p.highFreqFactor > p.lowFreqFactor else {
                throw check.fail("high_freq_factor (\(p.highFreqFactor)) must be greater than low_freq_factor (\(p.lowFreqFactor))",
                                 field(.highFreqFactor))
            }
            scalingValue = .llama3(p)
        case "longrope", "su":
            let short = try require(params?.shortFactor, .shortFactor)
            let long = try require(params?.longFactor, .longFactor)
            for (values, key) in [(short, RoPEParameters.CodingKeys.shortFactor), (long, .longFactor)] {
                guard values.count == rotaryDim / 2 else {
                    throw check.fail("\(key.rawValue) has \(values.count) entries, but \(rotaryDim) rotary dimensions need \(rotaryDim / 2)",
                                     field(key))
                }
                guard values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                    throw check.fail("\(key.rawValue) entries must be positive numbers", field(key))
                }
            }
            // transformers: with original_max_position_embeddings known (Phi-3 keeps it at the top
            // level), the scale is max_position_embeddings / original; otherwise rope `factor`.
            let originalMax: Int
            let factor: Double
            if let original {
                try check.positive(original, params?.originalMaxPositions != nil ? field(.originalMaxPositions) : CodingKeys.originalMaxPositions.rawValue)
                originalMax = original
                factor = Double(maxPositions) / Double(original)
            } else {
                originalMax = maxPositions
                factor = params?.factor ?? 1.0
            }
            let attention: Double
            if let given = params?.attentionFactor {
                attention = given
            } else if factor <= 1 || originalMax <= 1 {
                attention = 1
            } else {
                attention = (1 + log(factor) / log(Double(originalMax))).squareRoot()
            }
            scalingValue = .longrope(LongRoPE(shortFactor: short, longFactor: long, originalMaxPositions: originalMax,
                                              attentionFactor: attention))
        case "yarn":
            let factor = try require(params?.factor, .factor)
            try check.positive(factor, field(.factor))
            func mscale(_ scale: Double, _ m: Double) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
            let attention: Double
            if let given = params?.attentionFactor {
                attention = given
            } else if let m = params?.mscale, let mAll = params?.mscaleAllDim {
                attention = mscale(factor, m) / mscale(factor, mAll)
            } else {
                attention = mscale(factor, 1)
            }
            scalingValue = .yarn(YarnRoPE(factor: factor, originalMaxPositions: original ?? maxPositions,
                                          betaFast: params?.betaFast ?? 32, betaSlow: params?.betaSlow ?? 1,
                                          attentionFactor: attention, truncate: params?.truncate ?? true))
        default:
            throw check.fail("unsupported rope type \"\(typeName)\"", typeField,
                             hint: "lf supports " + RoPEScaling.supportedTypeNames.joined(separator: ", "))
        }
        return RoPEConfig(theta: theta, scaling: scalingValue, partialRotaryFactor: partial, rotaryDim: rotaryDim)
    }
}

/// The keys of a `rope_parameters` / `rope_scaling` object. Unknown keys are ignored, as transformers
/// only warns about them.
struct RoPEParameters: Decodable {
    var ropeType: String?
    var type: String?
    var ropeTheta: Double?
    var factor: Double?
    var originalMaxPositions: Int?
    var lowFreqFactor: Double?
    var highFreqFactor: Double?
    var shortFactor: [Double]?
    var longFactor: [Double]?
    var attentionFactor: Double?
    var betaFast: Double?
    var betaSlow: Double?
    var mscale: Double?
    var mscaleAllDim: Double?
    var truncate: Bool?
    var partialRotaryFactor: Double?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case type
        case ropeTheta = "rope_theta"
        case factor
        case originalMaxPositions = "original_max_position_embeddings"
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case shortFactor = "short_factor"
        case longFactor = "long_factor"
        case attentionFactor = "attention_factor"
        case betaFast = "beta_fast"
        case betaSlow = "beta_slow"
        case mscale
        case mscaleAllDim = "mscale_all_dim"
        case truncate
        case partialRotaryFactor = "partial_rotary_factor"
    }
}
