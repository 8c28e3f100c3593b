import Foundation
import Yams

/// Reads lf-train's `--config` YAML file (LLaMA-Factory's format: one `key: value` per line) into a
/// configuration layer. Yams' node tree is used rather than its Decodable support, because the
/// nodes keep their line numbers: every error names the file, the line and the key.
///
/// Values are read by what the key expects: numbers and booleans must be plain (unquoted) scalars
/// (`lora_rank: "8"` is a string, as in YAML), `1e-4` and `1.0e-4` are both numbers, lists may be
/// YAML sequences or LLaMA-Factory's comma-separated strings, and `~`/`null`/an empty value leave
/// an optional setting unset.
public enum YAMLConfiguration {
    /// Reads and checks the file at `path`.
    public static func load(path: String) throws -> ConfigurationLayer {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw LFError(exists ? (isDirectory.boolValue ? "is a directory, not a YAML file" : "cannot read the file")
                                 : "no such file",
                          at: SourceLocation(file: path), hint: "--config takes a YAML file such as train.yaml", status: .usage)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LFError("not UTF-8 text", at: SourceLocation(file: path), hint: "save the YAML file as UTF-8", status: .usage)
        }
        return try parse(text, file: path)
    }

    /// Reads YAML `text`; `file` names it in errors and notes.
    public static func parse(_ text: String, file: String) throws -> ConfigurationLayer {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        }
        var layer = ConfigurationLayer()
        guard let root else { return layer }  // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw LFError("expected `key: value` settings, found \(describe(root))",
                          at: SourceLocation(file: file, line: root.mark?.line ?? 1),
                          hint: "write one setting per line, e.g. `lora_rank: 8`", status: .usage)
        }

        var quantizationBitLine: Int?
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 1
            guard case .scalar(let keyScalar) = keyNode else {
                throw LFError("a key must be a plain name, found \(describe(keyNode))",
                              at: SourceLocation(file: file, line: line), status: .usage)
            }
            let name = keyScalar.string
            let at = SourceLocation(file: file, line: line, field: name)

            if let key = TrainingKey(rawValue: name) {
                guard let value = value(of: valueNode, for: key.kind) else {
                    throw LFError("\(name): expected \(key.kind.expected), found \(describe(valueNode))",
                                  at: SourceLocation(file: file, line: valueNode.mark?.line ?? line), status: .usage)
                }
                layer.set(key, value, from: .file(file, line: line))
            } else if let accepted = ForeignKeys.accepted[name] {
                if let allowed = accepted.allowed {
                    let word = scalarWord(valueNode)
                    guard let word, allowed.contains(word) else {
                        throw LFError("\(name): \(word.map { "'\($0)'" } ?? describe(valueNode)) is not supported: \(accepted.note)",
                                      at: SourceLocation(file: file, line: line),
                                      hint: "lf-train works as with `\(name): \(allowed[0])`; set that or remove the line",
                                      status: .usage)
                    }
                }
                layer.notes.append("\(file):\(line): note: \(name) is not used by lf-train: \(accepted.note)")
            } else if let hint = ForeignKeys.refused[name] {
                throw LFError("\(name) is not supported by lf-train, and ignoring it would change the results",
                              at: at, hint: hint, status: .usage)
            } else if name == ForeignKeys.quantizationBit {
                guard let value = value(of: valueNode, for: .optionalInteger) else {
                    throw LFError("\(name): expected 8, 4 or null, found \(describe(valueNode))", at: at, status: .usage)
                }
                guard case .int(let bits) = value else { continue }  // null: not quantised, as in LLaMA-Factory
                guard let dtype = ForeignKeys.quantizationBitDtypes[String(bits)] else {
                    throw LFError("\(name): lf-train quantises the base to 8 or 4 bits, not \(bits)", at: at,
                                  hint: "use quantization_bit: 8 or 4, or base_dtype: f32|bf16|q8|q4", status: .usage)
                }
                layer.set(.baseDtype, .string(dtype), from: .file(file, line: line))
                layer.notes.append("\(file):\(line): note: quantization_bit: \(bits) holds the base in lf's \(dtype) blocks (base_dtype: \(dtype))")
                quantizationBitLine = line
            } else {
                let hint = nearestName(to: name, among: ForeignKeys.allNames).map { "did you mean `\($0)`?" }
                    ?? "`lf-train --help` lists the settings and their YAML keys"
                throw LFError("unknown key \(name)", at: at, hint: hint, status: .usage)
            }
        }

        // quantization_bit and base_dtype say the same thing; two answers in one file is a mistake.
        if let bitLine = quantizationBitLine,
           let dtypeEntry = layer.entries.first(where: { $0.key == .baseDtype && $0.origin != .file(file, line: bitLine) }),
           case .file(_, let dtypeLine) = dtypeEntry.origin {
            throw LFError("base_dtype and quantization_bit (line \(bitLine)) both set how the base is held",
                          at: SourceLocation(file: file, line: dtypeLine), hint: "keep one of them", status: .usage)
        }
        return layer
    }

    // MARK: Reading values

    /// The node as the kind of value a key expects, or nil when it does not fit.
    static func value(of node: Node, for kind: SettingKind) -> SettingValue? {
        switch node {
        case .scalar(let scalar):
            let s = scalar.string
            let plain = scalar.style == .plain || scalar.style == .any
            if plain && isNull(s) {
                return .null
            }
            switch kind {
            case .text, .optionalText, .choice:
                return .string(s)
            case .list:
                return .string(s)
            case .integer, .optionalInteger:
                guard plain, let i = Int(s) else { return nil }
                return .int(i)
            case .number:
                guard plain else { return nil }
                if let i = Int(s) { return .int(i) }
                guard let d = Double(s), d.isFinite else { return nil }
                return .double(d)
            case .flag, .optionalFlag:
                guard plain, let b = bool(s) else { return nil }
                return .bool(b)
            case .boolOrPath:
                if plain, let b = bool(s) { return .bool(b) }
                return .string(s)
            }
        case .sequence(let sequence):
            guard kind == .list else { return nil }
            var items: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item else { return nil }
                items.append(scalar.string)
            }
            return .strings(items)
        case .mapping, .alias:
            return nil
        }
    }

    /// YAML's null spellings (a key with nothing after the colon reads as an empty plain scalar).
    static func isNull(_ s: String) -> Bool {
        ["", "~", "null", "Null", "NULL"].contains(s)
    }

    /// YAML 1.1's booleans, as PyYAML (and so LLaMA-Factory) reads them.
    static func bool(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }

    /// A scalar's text lowercased, with booleans spelled true/false, for comparing with allowed values.
    static func scalarWord(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node else { return nil }
        if let b = bool(scalar.string), scalar.style == .plain { return b ? "true" : "false" }
        return scalar.string.lowercased()
    }

    /// "the string 'eight'", "a list", "a nested mapping", for type errors.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain || scalar.style == .any
            if plain && isNull(scalar.string) { return "nothing (null)" }
            if !plain { return "the quoted string \"\(scalar.string)\"" }
            return "'\(scalar.string)'"
        case .sequence: return "a list"
        case .mapping: return "a nested mapping"
        case .alias: return "an alias"
        }
    }

    /// A Yams parse error as an LFError at its line.
    static func syntaxError(_ error: YamlError, file: String) -> LFError {
        let hint = "check the indentation and the `key: value` form around that line"
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return LFError("YAML syntax error: \(problem)", at: SourceLocation(file: file, line: mark.line), hint: hint, status: .usage)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return LFError("key set more than once: \(duplicates.joined(separator: ", "))",
                           at: SourceLocation(file: file, line: context.mark.line),
                           hint: "keep one line per setting", status: .usage)
        default:
            return LFError("cannot read the YAML: \(error)", at: SourceLocation(file: file), status: .usage)
        }
    }
}
