import Foundation

/// The effective configuration as YAML: printed to stderr when training starts and saved as
/// `training_args.yaml` beside the adapter (the name LLaMA-Factory uses), so a run can be repeated
/// with `lf-train --config training_args.yaml`. Every key is written, in `TrainingKey` order, so
/// two runs' files diff line by line.
public enum EffectiveConfiguration {
    public static let fileName = "training_args.yaml"

    /// Headings in the style of LLaMA-Factory's example files, before the first key of each group.
    static let headings: [TrainingKey: String] = [
        .model: "### model",
        .data: "### data (shards made by lf-tokenize pack; the keys below data are checked against them)",
        .loraTarget: "### method",
        .optim: "### train",
        .gradCheckpoint: "### memory and compute",
        .loggingSteps: "### output: logs, evaluation, checkpoints",
    ]

    /// The configuration as YAML text that `YAMLConfiguration` reads back to the same value.
    public static func render(_ config: TrainingConfiguration) -> String {
        var out = "# lf-train's effective configuration: defaults, then the --config file, then the command line.\n"
        out += "# Repeat the run with: lf-train --config \(fileName)\n"
        for key in TrainingKey.allCases {
            if let heading = headings[key] { out += "\n\(heading)\n" }
            out += "\(key.yamlName): \(format(key.value(in: config)))\n"
        }
        return out
    }

    /// Writes `training_args.yaml` into `directory`, atomically.
    public static func save(_ config: TrainingConfiguration, in directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(fileName)
        try AtomicFile.write(Data(render(config).utf8), to: path)
    }

    // MARK: Scalars

    static func format(_ value: SettingValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return string(s)
        case .strings(let items):
            // LLaMA-Factory's spelling (`q_proj,v_proj`) when every name is a plain word.
            if !items.isEmpty, items.allSatisfy(isPlain) { return items.joined(separator: ",") }
            return "[" + items.map(quoted).joined(separator: ", ") + "]"
        }
    }

    /// Python's float repr with a `.0` before a bare exponent, as PyYAML writes floats: PyYAML reads
    /// `5e-05` as a string but `5.0e-05` as a number, and the file should load in LLaMA-Factory too.
    static func number(_ d: Double) -> String {
        var s = JSONValue.format(d)
        if s.contains("e"), !s.contains(".") { s = s.replacingOccurrences(of: "e", with: ".0e") }
        return s
    }

    static func string(_ s: String) -> String { isPlain(s) ? s : quoted(s) }

    /// Whether `s` reads back as the same string without quotes: path-like characters only, and not
    /// a word YAML would take for a number, boolean or null.
    static func isPlain(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first else { return false }
        func word(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_./".unicodeScalars.contains(c)
        }
        guard word(first), s.unicodeScalars.allSatisfy({ word($0) || "-+@".unicodeScalars.contains($0) }) else { return false }
        if Int(s) != nil || Double(s) != nil || YAMLConfiguration.bool(s) != nil || YAMLConfiguration.isNull(s) { return false }
        return !["y", "n", ".inf", ".nan"].contains(s.lowercased())
    }

    /// A YAML double-quoted scalar; its escapes are JSON's.
    static func quoted(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }
}
