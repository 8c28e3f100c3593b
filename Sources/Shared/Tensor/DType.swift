/// Element types of tensors as stored on disk (safetensors names; GGUF maps its own types onto the
/// unquantised ones).
public enum DType: String, CaseIterable, Sendable, Codable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
    case bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: true
        default: false
        }
    }

    /// The spelling transformers uses in config.json (`torch_dtype` / `dtype`).
    public var torchName: String {
        switch self {
        case .f64: "float64"
        case .f32: "float32"
        case .f16: "float16"
        case .bf16: "bfloat16"
        case .i64: "int64"
        case .i32: "int32"
        case .i16: "int16"
        case .i8: "int8"
        case .u64: "uint64"
        case .u32: "uint32"
        case .u16: "uint16"
        case .u8: "uint8"
        case .bool: "bool"
        }
    }
}
