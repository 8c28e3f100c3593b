/// ggml's tensor element types, with their on-disk numbers (`enum ggml_type` in ggml.h).
///
/// Numbers 4 and 5 (Q4_2, Q4_3), 31–33 (Q4_0_4_4 …) and 36–38 (IQ4_NL_4_4 …) were removed from ggml
/// and are refused by its GGUF reader; they have no case here. `blockSize` elements are stored in
/// `typeSize` bytes; a row (`ne0` elements) must be a whole number of blocks.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2K = 10
    case q3K = 11
    case q4K = 12
    case q5K = 13
    case q6K = 14
    case q8K = 15
    case iq2XXS = 16
    case iq2XS = 17
    case iq3XXS = 18
    case iq1S = 19
    case iq4NL = 20
    case iq3S = 21
    case iq2S = 22
    case iq4XS = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1M = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39

    /// The name gguf-py and llama.cpp's tools print: `"F32"`, `"Q4_K"`, `"BF16"`.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2K: "Q2_K"
        case .q3K: "Q3_K"
        case .q4K: "Q4_K"
        case .q5K: "Q5_K"
        case .q6K: "Q6_K"
        case .q8K: "Q8_K"
        case .iq2XXS: "IQ2_XXS"
        case .iq2XS: "IQ2_XS"
        case .iq3XXS: "IQ3_XXS"
        case .iq1S: "IQ1_S"
        case .iq4NL: "IQ4_NL"
        case .iq3S: "IQ3_S"
        case .iq2S: "IQ2_S"
        case .iq4XS: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1M: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        }
    }

    /// The type whose `name` is `name` (case-insensitive: `"q4_k"` works).
    public init?(name: String) {
        let upper = name.uppercased()
        guard let match = GGMLType.allCases.first(where: { $0.name == upper }) else { return nil }
        self = match
    }

    /// Elements per block (`blck_size`): 1 for plain types, 32 for the legacy quants, 256 for K/IQ quants.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4NL, .mxfp4: 32
        case .q2K, .q3K, .q4K, .q5K, .q6K, .q8K,
             .iq2XXS, .iq2XS, .iq3XXS, .iq1S, .iq3S, .iq2S, .iq4XS, .iq1M, .tq1_0, .tq2_0: 256
        }
    }

    /// Bytes per block (`type_size`, i.e. `sizeof(block_…)` in ggml-common.h).
    public var typeSize: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .f64, .i64: 8
        case .i8: 1
        case .i16: 2
        case .i32: 4
        case .q4_0: 18          // f16 d, 16 B nibbles
        case .q4_1: 20          // f16 d, f16 m, 16 B nibbles
        case .q5_0: 22          // f16 d, 4 B high bits, 16 B nibbles
        case .q5_1: 24          // f16 d, f16 m, 4 B high bits, 16 B nibbles
        case .q8_0: 34          // f16 d, 32 × int8
        case .q8_1: 36          // f16 d, f16 s, 32 × int8
        case .q2K: 84           // 16 B scales, 64 B quants, f16 d, f16 dmin
        case .q3K: 110          // 32 B hmask, 64 B quants, 12 B scales, f16 d
        case .q4K: 144          // f16 d, f16 dmin, 12 B scales, 128 B nibbles
        case .q5K: 176          // f16 d, f16 dmin, 12 B scales, 32 B high bits, 128 B nibbles
        case .q6K: 210          // 128 B low nibbles, 64 B high 2 bits, 16 × int8 scales, f16 d
        case .q8K: 292          // f32 d, 256 × int8, 16 × int16 sums
        case .iq2XXS: 66
        case .iq2XS: 74
        case .iq3XXS: 98
        case .iq1S: 50
        case .iq4NL: 18
        case .iq3S: 110
        case .iq2S: 82
        case .iq4XS: 136
        case .iq1M: 56
        case .tq1_0: 54
        case .tq2_0: 66
        case .mxfp4: 17         // uint8 e (E8M0 scale), 16 B nibbles
        }
    }

    /// True for the types `GGUFFile.dequantize` can widen to float32 (bit-identical to ggml).
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4K, .q5K, .q6K: true
        default: false
        }
    }

    /// True for the block-quantized types (everything but the plain float and integer types).
    public var isQuantized: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64, .i8, .i16, .i32, .i64: false
        default: true
        }
    }

    /// Bytes taken by `elements` consecutive elements (`elements` must be a multiple of `blockSize`),
    /// or nil if that is not a whole number of blocks or the size overflows `Int`.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    /// What ggml once called the numbers that have no case here, for error messages.
    static func removedTypeName(_ raw: UInt32) -> String? {
        switch raw {
        case 4: "Q4_2"
        case 5: "Q4_3"
        case 31: "Q4_0_4_4"
        case 32: "Q4_0_4_8"
        case 33: "Q4_0_8_8"
        case 36: "IQ4_NL_4_4"
        case 37: "IQ4_NL_4_8"
        case 38: "IQ4_NL_8_8"
        default: nil
        }
    }
}
