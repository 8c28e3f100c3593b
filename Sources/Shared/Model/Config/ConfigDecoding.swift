import Foundation

/// Turns a `DecodingError` from `JSONDecoder` into an `LFError` naming the file and the JSON path
/// of the field (`rope_scaling.factor`, `eos_token_id[1]`).
enum JSONDecodingFailure {
    static func fieldPath(_ codingPath: [CodingKey], _ last: CodingKey? = nil) -> String? {
        let keys = codingPath + (last.map { [$0] } ?? [])
        guard !keys.isEmpty else { return nil }
        var s = ""
        for key in keys {
            if let i = key.intValue {
                s += "[\(i)]"
            } else {
                if !s.isEmpty { s += "." }
                s += key.stringValue
            }
        }
        return s
    }

    static func lfError(_ error: DecodingError, path: String, hint: String? = nil) -> LFError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = fieldPath(context.codingPath, key)
            return LFError("missing required field \"\(field ?? key.stringValue)\"", at: SourceLocation(file: path, field: field),
                           hint: hint)
        case .typeMismatch(let type, let context):
            let field = fieldPath(context.codingPath)
            return LFError("\"\(field ?? "value")\" has the wrong type (expected \(describe(type)))",
                           at: SourceLocation(file: path, field: field), hint: hint)
        case .valueNotFound(let type, let context):
            let field = fieldPath(context.codingPath)
            return LFError("\"\(field ?? "value")\" is null (expected \(describe(type)))",
                           at: SourceLocation(file: path, field: field), hint: hint)
        case .dataCorrupted(let context):
            let field = fieldPath(context.codingPath)
            let underlying = (context.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
            let detail = underlying ?? context.debugDescription
            if field == nil {
                return LFError("not valid JSON: \(detail)", at: SourceLocation(file: path),
                               hint: "check the file with `python3 -m json.tool`")
            }
            return LFError("\"\(field ?? "")\" is invalid: \(detail)", at: SourceLocation(file: path, field: field), hint: hint)
        @unknown default:
            return LFError("cannot decode: \(error)", at: SourceLocation(file: path), hint: hint)
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}

extension KeyedDecodingContainer {
    /// transformers' rule for an optional setting with a default: an absent key takes `absent`, an
    /// explicit `null` means "none" (e.g. `"pad_token_id": null`, `"sliding_window": null`).
    func decodeNullable<T: Decodable>(_ type: T.Type, forKey key: Key, absent: T?) throws -> T? {
        guard contains(key) else { return absent }
        if try decodeNil(forKey: key) { return nil }
        return try decode(T.self, forKey: key)
    }

    /// A token id that may be an integer or a list of integers (`eos_token_id` of Llama 3 is
    /// `[128001, 128008, 128009]`). Absent → `absent`; null → `[]`.
    func decodeTokenIDs(forKey key: Key, absent: [Int]) throws -> [Int] {
        guard contains(key) else { return absent }
        if try decodeNil(forKey: key) { return [] }
        if let one = try? decode(Int.self, forKey: key) { return [one] }
        return try decode([Int].self, forKey: key)
    }
}

/// `bos_token_id`, `eos_token_id` and `pad_token_id`, with each architecture's transformers defaults.
struct SpecialTokenIDs: Equatable {
    var bos: Int?
    var eos: [Int]
    var pad: Int?

    enum CodingKeys: String, CodingKey {
        case bos = "bos_token_id"
        case eos = "eos_token_id"
        case pad = "pad_token_id"
    }

    init(from decoder: Decoder, bos defaultBOS: Int?, eos defaultEOS: [Int], pad defaultPAD: Int?) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bos = try c.decodeNullable(Int.self, forKey: .bos, absent: defaultBOS)
        eos = try c.decodeTokenIDs(forKey: .eos, absent: defaultEOS)
        pad = try c.decodeNullable(Int.self, forKey: .pad, absent: defaultPAD)
    }
}

/// The checkpoint's dtype: `dtype` (transformers 5) or `torch_dtype` (transformers 4 / hub).
struct DTypeSpelling {
    var name: String?
    var field: String

    enum CodingKeys: String, CodingKey {
        case dtype
        case torchDType = "torch_dtype"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try c.decodeIfPresent(String.self, forKey: .dtype) {
            name = v
            field = CodingKeys.dtype.rawValue
        } else {
            name = try c.decodeIfPresent(String.self, forKey: .torchDType)
            field = CodingKeys.torchDType.rawValue
        }
    }

    /// nil when absent or "auto" (transformers then loads float32).
    func resolve(path: String) throws -> DType? {
        guard let name, name != "auto" else { return nil }
        let bare = name.hasPrefix("torch.") ? String(name.dropFirst(6)) : name
        guard let dtype = DType.allCases.first(where: { $0.isFloatingPoint && $0.torchName == bare }) else {
            throw LFError("unknown dtype \"\(name)\"", at: SourceLocation(file: path, field: field),
                          hint: "expected float32, float16, bfloat16 or float64")
        }
        return dtype
    }
}

/// Checks of the decoded values, each failure naming the file and the config key.
struct ConfigChecker {
    let path: String

    func fail(_ message: String, _ field: String, hint: String? = nil) -> LFError {
        LFError(message, at: SourceLocation(file: path, field: field), hint: hint)
    }

    func positive(_ value: Int, _ field: String) throws {
        guard value > 0 else { throw fail("\(field) must be positive, got \(value)", field) }
    }

    func positive(_ value: Double, _ field: String) throws {
        guard value > 0, value.isFinite else { throw fail("\(field) must be a positive number, got \(value)", field) }
    }

    /// `head_dim` when the config gives it, otherwise hidden_size / num_attention_heads (which must divide).
    func headDim(given: Int?, hidden: Int, heads: Int, hiddenKey: String, headsKey: String, headDimKey: String?) throws -> Int {
        if let given {
            try positive(given, headDimKey ?? "head_dim")
            return given
        }
        guard heads > 0, hidden % heads == 0 else {
            throw fail("\(hiddenKey) \(hidden) is not divisible by \(headsKey) \(heads), so the head size is undefined",
                       headsKey, hint: headDimKey.map { "set \($0) explicitly if the model's heads are not \(hiddenKey) / \(headsKey)" })
        }
        return hidden / heads
    }

    func kvHeads(_ kv: Int, heads: Int, kvKey: String, headsKey: String) throws {
        try positive(kv, kvKey)
        guard heads % kv == 0 else {
            throw fail("\(headsKey) \(heads) is not a multiple of \(kvKey) \(kv) (grouped-query attention shares each kv head among an equal number of query heads)", kvKey)
        }
    }
}
