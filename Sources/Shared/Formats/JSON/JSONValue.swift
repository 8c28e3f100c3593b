import Foundation

/// A JSON value whose objects keep their key order, for files that people read and diff
/// (config.json, tokenizer.json): lf writes keys in the order Hugging Face writes them.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            // Key order does not matter for equality, as for any JSON reader.
            guard x.count == y.count else { return false }
            let dy = Dictionary(y, uniquingKeysWith: { _, last in last })
            return x.allSatisfy { key, value in dy[key] == value }
        default: return false
        }
    }

    /// The value of `key` in an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let entries) = self else { return nil }
        return entries.last(where: { $0.0 == key })?.1
    }

    /// A float32 read from a binary file, written as the shortest decimal that reads back as the
    /// same float32 (1e-05, not 9.999999747378752e-06), as Python prints the value it came from.
    public static func float(_ value: Float) -> JSONValue {
        .double(Double(value.description) ?? Double(value))
    }

    /// Converts what JSONSerialization returns into a JSONValue (object keys sorted, since
    /// Foundation's dictionaries have no order).
    public init(any value: Any) throws {
        switch value {
        case is NSNull: self = .null
        case let n as NSNumber:
            // Foundation marks JSON booleans with objCType "c" and integers with an integer type;
            // "1.0" stays a double ("d"), as in Python.
            switch UInt8(bitPattern: n.objCType.pointee) {
            case UInt8(ascii: "c"): self = .bool(n.boolValue)
            case UInt8(ascii: "d"), UInt8(ascii: "f"): self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(try a.map { try JSONValue(any: $0) })
        case let d as [String: Any]:
            self = .object(try d.keys.sorted().map { ($0, try JSONValue(any: d[$0]!)) })
        default:
            throw LFError("not a JSON value: \(type(of: value))")
        }
    }

    /// Parses JSON text (object keys sorted, a repeated key keeping its last value, as above).
    ///
    /// Numbers are converted from their text by Swift, which rounds correctly. Linux Foundation's
    /// JSONSerialization does not: it reads 0.15384615384615385 as 0.15384615384615388, so a
    /// trainer_state.json lf wrote came back with other values in its last digits.
    /// With `pythonNumbers`, Python's `NaN`, `Infinity` and `-Infinity` are read as doubles.
    public init(parsing data: Data, pythonNumbers: Bool = false) throws {
        self.init(try data.withUnsafeBytes { try StrictJSON.parse($0, pythonNumbers: pythonNumbers) })
    }

    init(_ value: StrictJSON.Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        // "2" is an integer and "2.0" a double, as in Python; integers beyond Int's range become doubles.
        case .number(let text): self = Int(text).map { .int($0) } ?? .double(Double(text) ?? .nan)
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let members):
            let values = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            self = .object(values.keys.sorted().map { ($0, JSONValue(values[$0]!)) })
        }
    }
}
