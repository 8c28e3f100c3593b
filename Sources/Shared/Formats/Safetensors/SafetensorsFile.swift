import Foundation

/// One tensor of a safetensors file: its name, element type, shape and where its bytes lie. The bytes
/// themselves are reached through the file (`SafetensorsFile.data(of:)`, `floats(_:)`).
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    /// Row-major dimensions; `[]` is a scalar (one element), a 0 anywhere makes an empty tensor.
    public let shape: [Int]
    /// The product of `shape` (1 for a scalar).
    public let elementCount: Int
    /// `elementCount × dtype.byteSize`.
    public let byteCount: Int
    /// The header's `data_offsets`: the tensor's bytes, relative to the start of the data section.
    public let dataOffsets: Range<Int>
}

/// A safetensors file, memory-mapped and validated when opened.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping tensor names to
/// `{"dtype", "shape", "data_offsets": [begin, end]}` plus an optional `"__metadata__"` string map,
/// then the data section. Opening checks everything the Rust `safetensors` crate checks (header size
/// cap, JSON, dtypes, sizes, and that the tensors tile the data section exactly, with no overlap and
/// no hole) and also rejects duplicated names, so that no later read can go out of bounds. Every
/// problem is an `LFError` naming the file, the tensor and the byte offset.
public final class SafetensorsFile: @unchecked Sendable {
    /// The largest header accepted, as in the Rust crate (`MAX_HEADER_SIZE`): a bigger one is far more
    /// likely a corrupt length than a real model.
    public static let maxHeaderSize = 100_000_000

    public let path: String
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// Every tensor, sorted by data offset (file order).
    public let tensors: [SafetensorsTensor]
    /// Byte offset of the data section in the file: 8 + header length.
    public let dataStart: Int

    private let file: MappedFile
    private let index: [String: Int]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let layout = try SafetensorsHeader.parse(file.bytes, path: path)
        metadata = layout.metadata
        tensors = layout.tensors
        dataStart = layout.dataStart
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    /// The tensor names, in file order.
    public var names: [String] { tensors.map(\.name) }

    public subscript(name: String) -> SafetensorsTensor? {
        index[name].map { tensors[$0] }
    }

    /// The tensor called `name`, or an error naming the file and the tensor.
    public func tensor(named name: String) throws -> SafetensorsTensor {
        guard let t = self[name] else {
            throw LFError("no tensor named \"\(name)\" in this file", at: SourceLocation(file: path, field: name),
                          hint: "the file holds \(tensors.count) tensors; list them with `lf-gguf inspect` or safetensors' safe_open")
        }
        return t
    }

    /// The raw little-endian bytes of `tensor`, valid while this object is alive. The pointer is only
    /// as aligned as the file makes it: read with `loadUnaligned`, or use `floats`/`copyFloats`.
    public func data(of tensor: SafetensorsTensor) -> UnsafeRawBufferPointer {
        let start = dataStart + tensor.dataOffsets.lowerBound
        let end = dataStart + tensor.dataOffsets.upperBound
        // A tensor from another file could point anywhere: that is a programming error, not bad input.
        precondition(start >= dataStart && end <= file.count && start <= end,
                     "tensor \(tensor.name) does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: file.bytes[start..<end])
    }

    /// The values of a floating-point tensor as float32 (F16 and BF16 widened exactly, F64 rounded).
    public func floats(_ name: String) throws -> [Float] {
        let t = try tensor(named: name)
        return try [Float](unsafeUninitializedCapacity: t.elementCount) { buffer, count in
            if let base = buffer.baseAddress { try copyFloats(t, into: base) }
            count = t.elementCount
        }
    }

    /// Writes the `elementCount` values of `tensor` as float32 to `destination`.
    public func copyFloats(_ tensor: SafetensorsTensor, into destination: UnsafeMutablePointer<Float>) throws {
        let bytes = data(of: tensor)
        let n = tensor.elementCount
        guard n > 0, let src = bytes.baseAddress else { return }
        switch tensor.dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: src, byteCount: n * 4)
        case .bf16, .f16:
            let widen = tensor.dtype == .bf16 ? HalfPrecision.widenBF16 : HalfPrecision.widenF16
            if Int(bitPattern: src) % MemoryLayout<UInt16>.alignment == 0 {
                widen(src.assumingMemoryBound(to: UInt16.self), destination, n)
            } else {
                // Only a foreign file with an odd header length gets here: copy to aligned memory first.
                let aligned = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
                defer { aligned.deallocate() }
                UnsafeMutableRawPointer(aligned).copyMemory(from: src, byteCount: n * 2)
                widen(aligned, destination, n)
            }
        case .f64:
            for i in 0..<n {
                destination[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self))
            }
        default:
            throw LFError("tensor \"\(tensor.name)\" has dtype \(tensor.dtype.rawValue), not a floating-point type",
                          at: SourceLocation(file: path, field: tensor.name),
                          hint: "read integer tensors with integers(_:)")
        }
    }

    /// The values of an integer (or BOOL) tensor widened to Int64, e.g. `input_ids`.
    public func integers(_ name: String) throws -> [Int64] {
        let t = try tensor(named: name)
        let bytes = data(of: t)
        let n = t.elementCount
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            (0..<n).map { Int64(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch t.dtype {
        case .i64: return load(Int64.self)
        case .i32: return load(Int32.self)
        case .i16: return load(Int16.self)
        case .i8: return load(Int8.self)
        case .u32: return load(UInt32.self)
        case .u16: return load(UInt16.self)
        case .u8, .bool: return load(UInt8.self)
        case .u64:
            var out = [Int64]()
            out.reserveCapacity(n)
            for i in 0..<n {
                let v = bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                guard let w = Int64(exactly: v) else {
                    throw LFError("U64 value \(v) at index \(i) does not fit in Int64",
                                  at: SourceLocation(file: path, field: name))
                }
                out.append(w)
            }
            return out
        default:
            throw LFError("tensor \"\(name)\" has dtype \(t.dtype.rawValue), not an integer type",
                          at: SourceLocation(file: path, field: name), hint: "read floating-point tensors with floats(_:)")
        }
    }
}
