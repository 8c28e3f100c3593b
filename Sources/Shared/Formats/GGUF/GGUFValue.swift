/// The type tag of a GGUF metadata value, as stored on disk (a little-endian `uint32`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// The spelling used by `lf-gguf inspect` and its JSON (`"uint32"`, `"string"`, …).
    public var name: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }

    /// Bytes one value of this type occupies on disk, for the fixed-size types; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes a value of this type can occupy: a string is at least its 8-byte length, an
    /// array at least its element type and count. Used to refuse counts the file could not hold.
    var minimumSize: Int {
        fixedSize ?? (self == .string ? 8 : 12)
    }
}

/// One GGUF metadata value. Arrays carry their element type, so an empty array keeps it, and arrays of
/// arrays are `.array(.array, [.array(…), …])`.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The value of any integer type, if it fits in `Int` (a `uint64` above `Int.max` gives nil).
    /// Booleans and floats give nil.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value of a float or integer type as a `Double` (float32 widened exactly; 64-bit integers
    /// rounded to the nearest double).
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValues: [GGUFValue]? {
        if case .array(_, let values) = self { return values }
        return nil
    }

    /// The element type of an array value.
    public var arrayElementType: GGUFValueType? {
        if case .array(let type, _) = self { return type }
        return nil
    }
}
