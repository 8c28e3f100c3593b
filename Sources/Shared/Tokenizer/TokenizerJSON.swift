import Foundation

/// A node of tokenizer.json with its JSON path, so that every error names the file and the exact
/// place (`pre_tokenizer.pretokenizers[1].type`), as STYLE.md asks of the component factories.
///
/// The file is read with `StrictJSON`, which keeps object keys exactly as written: vocabularies can
/// hold canonically equivalent tokens ("K" and the Kelvin sign) that Foundation would merge.
struct TokenizerJSON {
    let value: StrictJSON.Value
    let path: String
    let file: String

    init(value: StrictJSON.Value, path: String, file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    /// Parses tokenizer.json bytes.
    static func parse(_ data: Data, file: String) throws -> TokenizerJSON {
        let value: StrictJSON.Value
        do {
            value = try data.withUnsafeBytes { try StrictJSON.parse($0) }
        } catch let error as StrictJSON.SyntaxError {
            throw LFError(error.message, at: SourceLocation(file: file, byteOffset: error.offset),
                          hint: "tokenizer.json must be the JSON file Hugging Face tokenizers saves")
        }
        return TokenizerJSON(value: value, path: "", file: file)
    }

    func error(_ message: String, hint: String? = nil) -> LFError {
        LFError.input(message, file: file, field: path.isEmpty ? nil : path, hint: hint)
    }

    var isNull: Bool { if case .null = value { true } else { false } }

    /// The member `key` (nil when absent or null); a repeated key gives its last value, as Python's json does.
    subscript(key: String) -> TokenizerJSON? {
        guard case .object(let members) = value,
              let member = members.last(where: { $0.key.utf8.elementsEqual(key.utf8) }) else { return nil }
        if case .null = member.value { return nil }
        return TokenizerJSON(value: member.value, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    func required(_ key: String) throws -> TokenizerJSON {
        guard let node = self[key] else { throw error("\"\(key)\" is missing") }
        return node
    }

    func string() throws -> String {
        guard case .string(let s) = value else { throw error("expected a string, found \(value.kindName)") }
        return s
    }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw error("expected true or false, found \(value.kindName)") }
        return b
    }

    func int() throws -> Int {
        guard case .number(let text) = value, let n = Int(text) else { throw error("expected an integer") }
        return n
    }

    func double() throws -> Double {
        guard case .number(let text) = value, let d = Double(text) else { throw error("expected a number") }
        return d
    }

    func array() throws -> [TokenizerJSON] {
        guard case .array(let items) = value else { throw error("expected an array, found \(value.kindName)") }
        return items.enumerated().map { TokenizerJSON(value: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// The members of an object in file order, keys exactly as written.
    func members() throws -> [(key: String, value: TokenizerJSON)] {
        guard case .object(let members) = value else { throw error("expected an object, found \(value.kindName)") }
        return members.map { ($0.key, TokenizerJSON(value: $0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)", file: file)) }
    }

    func string(_ key: String) throws -> String { try required(key).string() }
    func optionalString(_ key: String) throws -> String? { try self[key]?.string() }
    func bool(_ key: String, default fallback: Bool) throws -> Bool { try self[key]?.bool() ?? fallback }
    func int(_ key: String, default fallback: Int) throws -> Int { try self[key]?.int() ?? fallback }

    /// The component's `type`.
    func type() throws -> String { try string("type") }

    /// HF's pattern object: `{"String": "…"}` or `{"Regex": "…"}`.
    func pattern(_ key: String = "pattern") throws -> SplitPattern.Source {
        let node = try required(key)
        if let s = try node["String"]?.string() { return .literal(s) }
        if let r = try node["Regex"]?.string() { return .regex(r) }
        throw node.error("expected {\"String\": …} or {\"Regex\": …}")
    }

    /// An "unsupported component" error that names the component and the supported ones.
    func unsupported(_ kind: String, _ name: String, supported: [String]) -> LFError {
        let at = TokenizerJSON(value: value, path: path.isEmpty ? "type" : "\(path).type", file: file)
        return at.error("\(kind) \"\(name)\" is not supported", hint: "lf supports: " + supported.joined(separator: ", "))
    }

    /// The canonical form lf fingerprints: keys sorted by their UTF-8 bytes, no whitespace.
    func canonical() -> JSONValue {
        func convert(_ v: StrictJSON.Value) -> JSONValue {
            switch v {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .string(let s): return .string(s)
            case .number(let text): return Int(text).map { .int($0) } ?? .double(Double(text) ?? .nan)
            case .array(let items): return .array(items.map(convert))
            case .object(let members):
                return .object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, convert($0.value)) })
            }
        }
        return convert(value)
    }
}
