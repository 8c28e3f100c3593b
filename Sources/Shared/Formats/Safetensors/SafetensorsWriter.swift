import Foundation

/// Builds a safetensors file: collect tensors with `add…`, then `write(to:)` (atomic, streaming) or
/// `serialized()`.
///
/// The bytes are deterministic and follow the Rust `safetensors` crate (what `save_file` in Python
/// writes), so that a file written here is byte-identical to Python's for the same tensors and at
/// most one metadata key:
/// - **Order rule**: tensors are laid out by descending dtype alignment, then by name (byte-wise
///   UTF-8 order) within one dtype. The crate's dtype order is U64, I64, F64, F32, U32, I32, BF16,
///   F16, U16, I16, I8, U8, BOOL; with the data section starting on a multiple of 8, this puts every
///   tensor on a multiple of its element size. The header lists tensors in the same order, offsets
///   contiguous from 0.
/// - `__metadata__` comes first when metadata was given (also when empty), keys in byte-wise order.
/// - The header is compact JSON padded with spaces to a multiple of 8 bytes, so that the data
///   section starts 8-byte aligned, as the format asks.
public struct SafetensorsWriter {
    private enum Source {
        case data(Data)
        case fill((UnsafeMutableRawBufferPointer) throws -> Void)
    }

    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var byteCount: Int
        var source: Source
    }

    public let metadata: [String: String]?
    private var entries: [Entry] = []
    private var names = Set<String>()

    public init(metadata: [String: String]? = nil) {
        self.metadata = metadata
    }

    /// The number of tensors added so far.
    public var count: Int { entries.count }

    /// Adds a tensor whose little-endian bytes are `data` (checked against shape × dtype).
    public mutating func add(_ name: String, dtype: DType, shape: [Int], data: Data) throws {
        let byteCount = try checkedByteCount(name, dtype: dtype, shape: shape)
        guard data.count == byteCount else {
            throw LFError("tensor \"\(name)\": shape \(shape) × \(dtype.rawValue) is \(byteCount) bytes, but \(data.count) bytes were given")
        }
        try append(Entry(name: name, dtype: dtype, shape: shape, byteCount: byteCount, source: .data(data)))
    }

    /// Adds a tensor whose bytes are produced at write time: `fill` receives a zeroed buffer of exactly
    /// shape × dtype bytes and writes the tensor into it. Tensors are produced one at a time, in file
    /// order, so a large model is never held in memory twice.
    public mutating func add(_ name: String, dtype: DType, shape: [Int],
                             fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let byteCount = try checkedByteCount(name, dtype: dtype, shape: shape)
        try append(Entry(name: name, dtype: dtype, shape: shape, byteCount: byteCount, source: .fill(fill)))
    }

    /// Adds float32 values stored as F32, F16 or BF16 (rounded to nearest even), or F64.
    public mutating func addFloats(_ name: String, shape: [Int], values: [Float], as dtype: DType) throws {
        let byteCount = try checkedByteCount(name, dtype: dtype, shape: shape)
        guard values.count * dtype.byteSize == byteCount else {
            throw LFError("tensor \"\(name)\": shape \(shape) holds \(byteCount / dtype.byteSize) values, but \(values.count) were given")
        }
        let fill: (UnsafeMutableRawBufferPointer) throws -> Void
        switch dtype {
        case .f32:
            fill = { out in values.withUnsafeBytes { out.copyMemory(from: $0) } }
        case .bf16, .f16:
            let narrow = dtype == .bf16 ? HalfPrecision.narrowToBF16 : HalfPrecision.narrowToF16
            fill = { out in
                values.withUnsafeBufferPointer { src in
                    guard let s = src.baseAddress, let d = out.baseAddress else { return }
                    narrow(s, d.bindMemory(to: UInt16.self, capacity: src.count), src.count)
                }
            }
        case .f64:
            fill = { out in
                for (i, v) in values.enumerated() { out.storeBytes(of: Double(v), toByteOffset: i * 8, as: Double.self) }
            }
        default:
            throw LFError("tensor \"\(name)\": addFloats stores F32, F16, BF16 or F64, not \(dtype.rawValue)",
                          hint: "use add(_:dtype:shape:data:) for integer tensors")
        }
        try append(Entry(name: name, dtype: dtype, shape: shape, byteCount: byteCount, source: .fill(fill)))
    }

    /// Writes the file atomically (a temporary beside `path`, renamed into place when complete).
    public func write(to path: String) throws {
        let file = try AtomicFile(path: path)
        do {
            try emit { try file.write($0) }
            try file.commit()
        } catch let error as LFError {
            file.abort()
            throw error.inFile(path)
        } catch {
            file.abort()
            throw LFError("cannot write the file: \(error)", at: SourceLocation(file: path))
        }
    }

    /// The whole file in memory (for tests and small files).
    public func serialized() throws -> Data {
        var data = Data()
        try emit { data.append(contentsOf: $0) }
        return data
    }

    // MARK: Internals

    private func checkedByteCount(_ name: String, dtype: DType, shape: [Int]) throws -> Int {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw LFError("tensor \"\(name)\": shape \(shape) has a negative dimension") }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw LFError("tensor \"\(name)\": shape \(shape) is too large") }
            count = p
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw LFError("tensor \"\(name)\": shape \(shape) is too large") }
        return bytes
    }

    private mutating func append(_ entry: Entry) throws {
        guard entry.name != SafetensorsHeader.metadataKey else {
            throw LFError("\"\(SafetensorsHeader.metadataKey)\" is reserved for the metadata map and cannot name a tensor")
        }
        guard names.insert(entry.name).inserted else {
            throw LFError("tensor \"\(entry.name)\" was added twice", hint: "tensor names in a safetensors file are unique")
        }
        entries.append(entry)
    }

    /// The crate's `Dtype` declaration order (which is increasing alignment); the file is laid out by
    /// descending rank.
    private static func rank(_ dtype: DType) -> Int {
        switch dtype {
        case .bool: 0
        case .u8: 1
        case .i8: 2
        case .i16: 3
        case .u16: 4
        case .f16: 5
        case .bf16: 6
        case .i32: 7
        case .u32: 8
        case .f32: 9
        case .f64: 10
        case .i64: 11
        case .u64: 12
        }
    }

    /// Entries in file order (see the order rule above).
    private var ordered: [Entry] {
        entries.sorted { a, b in
            let ra = Self.rank(a.dtype), rb = Self.rank(b.dtype)
            if ra != rb { return ra > rb }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// The 8-byte length and the padded JSON header for `ordered`.
    private func header(for ordered: [Entry]) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        func appendASCII(_ s: String) { json.append(contentsOf: s.utf8) }
        if let metadata {
            separator()
            StrictJSON.appendQuoted(SafetensorsHeader.metadataKey, to: &json)
            appendASCII(":{")
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                StrictJSON.appendQuoted(key, to: &json)
                json.append(UInt8(ascii: ":"))
                StrictJSON.appendQuoted(metadata[key] ?? "", to: &json)
            }
            appendASCII("}")
        }
        var offset = 0
        for e in ordered {
            separator()
            StrictJSON.appendQuoted(e.name, to: &json)
            appendASCII(":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[")
            appendASCII(e.shape.map(String.init).joined(separator: ","))
            appendASCII("],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}")
            offset += e.byteCount
        }
        json.append(UInt8(ascii: "}"))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return out
    }

    /// Streams the file to `sink`: header, then each tensor's bytes in order. Fill-tensors share one
    /// scratch buffer sized for the largest of them.
    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let ordered = self.ordered
        try header(for: ordered).withUnsafeBytes { try sink($0) }
        var scratchSize = 0
        for e in ordered { if case .fill = e.source { scratchSize = max(scratchSize, e.byteCount) } }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(scratchSize, 1), alignment: 64)
        defer { scratch.deallocate() }
        for e in ordered {
            switch e.source {
            case .data(let data):
                try data.withUnsafeBytes { try sink($0) }
            case .fill(let fill):
                let buffer = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<e.byteCount])
                buffer.initializeMemory(as: UInt8.self, repeating: 0)
                do {
                    try fill(buffer)
                } catch let error as LFError {
                    throw error
                } catch {
                    throw LFError("cannot produce tensor \"\(e.name)\": \(error)")
                }
                try sink(UnsafeRawBufferPointer(buffer))
            }
        }
    }
}
