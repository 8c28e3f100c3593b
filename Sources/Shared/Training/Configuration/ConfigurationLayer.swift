/// Where a setting's value came from, so that an error about it points there.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    /// lf's default (or a value derived from another setting).
    case defaultValue
    /// A line of a YAML file.
    case file(String, line: Int)
    /// A command-line option, as spelled (`--lora-rank`).
    case commandLine(String)

    public var description: String {
        switch self {
        case .defaultValue: "the default"
        case .file(let path, let line): "\(path):\(line)"
        case .commandLine(let flag): flag
        }
    }
}

/// The settings one source gave: a YAML file or the command line. Only what the source actually
/// set is here, so that merging lets a later layer override just those keys.
public struct ConfigurationLayer: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: TrainingKey
        public var value: SettingValue
        public var origin: SettingOrigin

        public init(key: TrainingKey, value: SettingValue, origin: SettingOrigin) {
            self.key = key
            self.value = value
            self.origin = origin
        }
    }

    public var entries: [Entry] = []
    /// Notes about keys read but not acted on (`file:line: bf16 has no effect: …`), for stderr.
    public var notes: [String] = []

    public init(entries: [Entry] = [], notes: [String] = []) {
        self.entries = entries
        self.notes = notes
    }

    public mutating func set(_ key: TrainingKey, _ value: SettingValue, from origin: SettingOrigin) {
        entries.append(Entry(key: key, value: value, origin: origin))
    }

    /// The value this layer gives `key`, if any (the last one wins).
    public subscript(key: TrainingKey) -> SettingValue? {
        entries.last(where: { $0.key == key })?.value
    }
}

extension TrainingConfiguration {
    /// Defaults, then each layer in order (YAML, then the command line): a later layer overrides only
    /// the keys it sets. Settings derived from others are filled in when no layer set them
    /// (`lora_alpha` = 2 × `lora_rank`, `eval_steps` = `logging_steps`), then the result is
    /// validated. Errors name the file and line, or the flag, the bad value came from.
    public static func merged(_ layers: [ConfigurationLayer],
                              support: TrainingEngineSupport = .current) throws -> TrainingConfiguration {
        var config = TrainingConfiguration()
        var origins: [TrainingKey: SettingOrigin] = [:]
        for layer in layers {
            for entry in layer.entries {
                do {
                    try entry.key.set(entry.value, in: &config)
                } catch {
                    throw configurationError(error.message, key: entry.key, origin: entry.origin)
                }
                origins[entry.key] = entry.origin
            }
        }
        if origins[.loraAlpha] == nil { config.loraAlpha = Double(2 * config.loraRank) }
        if origins[.evalSteps] == nil { config.evalSteps = config.loggingSteps }
        try config.validate(origins: origins, support: support)
        return config
    }

    /// An `LFError` at a setting's origin: `file:line: key: message` for YAML,
    /// `--flag: message` for the command line. A configuration mistake is a usage error (exit
    /// status 2).
    static func configurationError(_ message: String, key: TrainingKey?, origin: SettingOrigin?, hint: String? = nil) -> LFError {
        let named = key.map { "\($0.yamlName): \(message)" } ?? message
        switch origin {
        case .file(let path, let line):
            return LFError(named, at: SourceLocation(file: path, line: line), hint: hint, status: .usage)
        case .commandLine(let flag):
            return LFError("\(flag): \(message)", hint: hint, status: .usage)
        case .defaultValue, nil:
            return LFError(named, hint: hint, status: .usage)
        }
    }
}
