import Foundation

/// One tensor's entry in a GGUF file's tensor-info table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// GGUF order: `ne0` (the contiguous row length) first. Empty for a 0-dimensional (scalar) tensor,
    /// which llama.cpp accepts and treats as one element.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Start of the tensor's data relative to the data section (`GGUFFile.dataOffset`).
    public let offset: Int
    /// Bytes of data, without alignment padding.
    public let byteCount: Int
    /// The product of the dimensions.
    public let elementCount: Int

    /// `ne0`, the number of contiguous elements in one row.
    public var rowLength: Int { dimensions.first ?? 1 }
    /// `elementCount / rowLength`: ne1 × ne2 × ne3.
    public var rowCount: Int { elementCount / rowLength }
    /// Bytes of one row.
    public var rowByteCount: Int { byteCount / rowCount }
    /// `ne0×ne1×…` as written by `lf-gguf inspect` (`"1"` for a scalar).
    public var shapeDescription: String {
        dimensions.isEmpty ? "1" : dimensions.map(String.init).joined(separator: "×")
    }
}

/// A GGUF file (llama.cpp's format, versions 2 and 3, little-endian), memory-mapped and validated when
/// opened: every count, length, type, shape and offset is checked against the file before use, so a
/// truncated or hostile file gives an `LFError` naming the file, the byte offset and the key or tensor,
/// never a crash or a huge allocation.
///
/// Layout (all little-endian):
/// ```
/// magic "GGUF" · uint32 version · uint64 tensor_count · uint64 kv_count
/// kv_count × (string key · uint32 value_type · value)
/// tensor_count × (string name · uint32 n_dims · n_dims × int64 ne · uint32 ggml_type · uint64 offset)
/// zero padding to `general.alignment` (default 32) · data section (each tensor at its offset)
/// ```
/// A string is a uint64 byte length and UTF-8 bytes; an array is a uint32 element type, a uint64 count
/// and the elements.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public let alignment: Int
    /// Absolute file offset of the data section: the end of the tensor infos rounded up to `alignment`.
    public let dataOffset: Int
    /// Absolute file offset where the tensor infos end (before the alignment padding).
    public let headerByteCount: Int
    /// The size of the file in bytes.
    public let fileSize: Int
    /// Every key-value pair in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// Every tensor in file order.
    public let tensors: [GGUFTensorInfo]

    /// Nil when the layout is canonical — each tensor starts where the previous one's data, padded to
    /// the alignment, ends — which is the only layout llama.cpp's C reader loads. Otherwise what
    /// llama.cpp would complain about. This reader accepts any aligned, non-overlapping layout.
    public var layoutProblem: String? {
        var expected = 0
        for t in tensors {
            if t.offset != expected {
                return "tensor '\(t.name)' has data offset \(t.offset), where llama.cpp expects \(expected)"
            }
            expected += (t.byteCount + alignment - 1) & ~(alignment - 1)
        }
        return nil
    }

    /// Absolute file offset of each metadata value (parallel to `metadata`), for error messages.
    private let valueOffsets: [Int]
    /// Absolute file offset of each tensor info (parallel to `tensors`), for error messages.
    private let tensorInfoOffsets: [Int]
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// What keeps `bytes` valid: the `MappedFile` or the in-memory copy.
    private let storage: AnyObject
    private let bytes: UnsafeRawBufferPointer

    /// GGUF versions this reader accepts.
    public static let supportedVersions = 2 ... 3
    /// ggml's `GGUF_DEFAULT_ALIGNMENT`.
    public static let defaultAlignment = 32
    /// Arrays of arrays deeper than this are refused (they would only serve to exhaust the stack).
    public static let maximumArrayNesting = 16

    /// Opens and validates `path`, memory-mapping it.
    public convenience init(path: String) throws {
        let mapping = try MappedFile(path: path)
        try self.init(storage: mapping, bytes: mapping.bytes, path: path)
    }

    /// Parses a GGUF file held in memory (tests, small files); `name` is used in error messages.
    public convenience init(bytes data: Data, name: String) throws {
        let copy = OwnedBytes(data)
        try self.init(storage: copy, bytes: copy.bytes, path: name)
    }

    private init(storage: AnyObject, bytes: UnsafeRawBufferPointer, path: String) throws {
        self.storage = storage
        self.bytes = bytes
        self.path = path
        self.fileSize = bytes.count

        var parser = GGUFParser(cursor: GGUFCursor(bytes: bytes, path: path))
        let header = try parser.parse()
        version = header.version
        alignment = header.alignment
        dataOffset = header.dataOffset
        headerByteCount = header.headerByteCount
        metadata = header.metadata
        valueOffsets = header.valueOffsets
        tensors = header.tensors
        tensorInfoOffsets = header.tensorInfoOffsets
        keyIndex = header.keyIndex
        tensorIndex = header.tensorIndex
    }

    // MARK: Metadata

    public subscript(key: String) -> GGUFValue? {
        keyIndex[key].map { metadata[$0].value }
    }

    /// The value of a `string` key.
    public func string(_ key: String) -> String? { self[key]?.stringValue }
    /// The value of a key of any integer type (nil if it does not fit in `Int`).
    public func int(_ key: String) -> Int? { self[key]?.intValue }
    /// The value of a float or integer key.
    public func double(_ key: String) -> Double? { self[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? { self[key]?.boolValue }

    /// An array of strings (nil if the key is absent or is not an array of strings).
    public func strings(_ key: String) -> [String]? {
        guard case .array(.string, let values)? = self[key] else { return nil }
        return values.map { $0.stringValue ?? "" }
    }

    /// An array of any integer type (nil if absent, not such an array, or a value does not fit in `Int`).
    public func ints(_ key: String) -> [Int]? {
        guard let values = self[key]?.arrayValues else { return nil }
        var out = [Int]()
        out.reserveCapacity(values.count)
        for v in values {
            guard let i = v.intValue else { return nil }
            out.append(i)
        }
        return out
    }

    /// An array of floats or integers, as doubles.
    public func doubles(_ key: String) -> [Double]? {
        guard let values = self[key]?.arrayValues else { return nil }
        var out = [Double]()
        out.reserveCapacity(values.count)
        for v in values {
            guard let d = v.doubleValue else { return nil }
            out.append(d)
        }
        return out
    }

    /// The file offset of `key`'s value (its type tag), if the key exists.
    public func byteOffset(ofKey key: String) -> Int? {
        keyIndex[key].map { valueOffsets[$0] }
    }

    /// The file offset of `name`'s tensor info, if the tensor exists.
    public func byteOffset(ofTensorInfo name: String) -> Int? {
        tensorIndex[name].map { tensorInfoOffsets[$0] }
    }

    /// An error about this file, located at `key`'s value or `tensor`'s info when given (for callers
    /// such as the importer that find a value they cannot use).
    public func error(_ message: String, key: String? = nil, tensor: String? = nil, hint: String? = nil) -> LFError {
        let offset = key.flatMap { byteOffset(ofKey: $0) } ?? tensor.flatMap { byteOffset(ofTensorInfo: $0) }
        return LFError(message, at: SourceLocation(file: path, byteOffset: offset, field: key ?? tensor), hint: hint)
    }

    private func missing(_ key: String, _ what: String) -> LFError {
        error("required metadata key '\(key)' (\(what)) is missing", key: key,
              hint: "this GGUF file was not written for this use, or its converter left the key out")
    }

    private func wrongType(_ key: String, _ what: String) -> LFError {
        let actual = self[key].map(Self.typeDescription) ?? "?"
        return error("metadata key '\(key)' should be \(what) but is \(actual)", key: key)
    }

    /// "uint32", "array of string", "array of array".
    public static func typeDescription(_ value: GGUFValue) -> String {
        if case .array(let t, _) = value { return "array of \(t.name)" }
        return value.type.name
    }

    public func requireString(_ key: String) throws -> String {
        guard let value = self[key] else { throw missing(key, "a string") }
        guard let s = value.stringValue else { throw wrongType(key, "a string") }
        return s
    }

    public func requireInt(_ key: String) throws -> Int {
        guard let value = self[key] else { throw missing(key, "an integer") }
        guard let i = value.intValue else { throw wrongType(key, "an integer") }
        return i
    }

    public func requireDouble(_ key: String) throws -> Double {
        guard let value = self[key] else { throw missing(key, "a number") }
        guard let d = value.doubleValue else { throw wrongType(key, "a number") }
        return d
    }

    public func requireBool(_ key: String) throws -> Bool {
        guard let value = self[key] else { throw missing(key, "a bool") }
        guard let b = value.boolValue else { throw wrongType(key, "a bool") }
        return b
    }

    public func requireStrings(_ key: String) throws -> [String] {
        guard self[key] != nil else { throw missing(key, "an array of strings") }
        guard let s = strings(key) else { throw wrongType(key, "an array of strings") }
        return s
    }

    public func requireInts(_ key: String) throws -> [Int] {
        guard self[key] != nil else { throw missing(key, "an array of integers") }
        guard let i = ints(key) else { throw wrongType(key, "an array of integers") }
        return i
    }

    public func requireDoubles(_ key: String) throws -> [Double] {
        guard self[key] != nil else { throw missing(key, "an array of numbers") }
        guard let d = doubles(key) else { throw wrongType(key, "an array of numbers") }
        return d
    }

    // MARK: Tensors

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor, or an error naming the file and the missing tensor.
    public func requireTensor(named name: String) throws -> GGUFTensorInfo {
        guard let t = tensor(named: name) else {
            throw LFError("tensor '\(name)' is missing", at: SourceLocation(file: path, field: name))
        }
        return t
    }

    /// The raw bytes of `tensor`'s data (without padding), valid while this `GGUFFile` lives.
    /// `tensor` must come from this file.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset + tensor.offset
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0 && start + tensor.byteCount <= bytes.count,
                     "tensor info '\(tensor.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< start + tensor.byteCount])
    }

    /// The whole file's bytes, valid while this `GGUFFile` lives.
    public var fileBytes: UnsafeRawBufferPointer { bytes }
}

/// A 64-byte-aligned copy of in-memory file contents, freed with its owner.
private final class OwnedBytes {
    let bytes: UnsafeRawBufferPointer

    init(_ data: Data) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        _ = data.copyBytes(to: buffer.bindMemory(to: UInt8.self))
        bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: data.count)
    }

    deinit {
        bytes.deallocate()
    }
}

/// The result of parsing a GGUF header.
private struct GGUFHeader {
    var version = 0
    var alignment = GGUFFile.defaultAlignment
    var dataOffset = 0
    var headerByteCount = 0
    var metadata: [(key: String, value: GGUFValue)] = []
    var valueOffsets: [Int] = []
    var keyIndex: [String: Int] = [:]
    var tensors: [GGUFTensorInfo] = []
    var tensorInfoOffsets: [Int] = []
    var tensorIndex: [String: Int] = [:]
}

/// Parses and validates the header, metadata and tensor infos of a GGUF file.
private struct GGUFParser {
    var cursor: GGUFCursor
    var header = GGUFHeader()

    /// The fewest bytes one metadata entry can take: key length, a 1-byte key, type, a 1-byte value.
    static let minimumKVSize = 8 + 1 + 4 + 1
    /// The fewest bytes one tensor info can take: name length, n_dims, type, offset (0 dimensions, empty name).
    static let minimumTensorInfoSize = 8 + 4 + 4 + 8

    mutating func parse() throws -> GGUFHeader {
        try parseMagicAndVersion()
        let (tensorCount, kvCount) = try parseCounts()
        header.metadata.reserveCapacity(kvCount)
        header.valueOffsets.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            try parseKeyValue(index: i, count: kvCount)
        }
        try resolveAlignment()
        header.tensors.reserveCapacity(tensorCount)
        header.tensorInfoOffsets.reserveCapacity(tensorCount)
        for i in 0 ..< tensorCount {
            try parseTensorInfo(index: i, count: tensorCount)
        }
        header.headerByteCount = cursor.offset
        let (padded, overflow) = cursor.offset.addingReportingOverflow(header.alignment - 1)
        if overflow { throw cursor.error("the data section offset overflows") }
        header.dataOffset = padded & ~(header.alignment - 1)
        try checkTensorPlacement()
        return header
    }

    private mutating func parseMagicAndVersion() throws {
        let bytes = cursor.bytes
        if bytes.count < 4 {
            throw cursor.error("not a GGUF file: it is only \(bytes.count) bytes long", at: 0,
                               hint: "a GGUF file starts with the 4 bytes 'GGUF'")
        }
        let magic = Array(bytes[0 ..< 4])
        if magic != Array("GGUF".utf8) {
            let shown = magic.map { (0x20 ..< 0x7F).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            let hex = magic.map { String(format: "%02x", $0) }.joined(separator: " ")
            throw cursor.error("not a GGUF file: it starts with '\(shown)' (\(hex)), expected 'GGUF'", at: 0,
                               hint: "lf-gguf reads llama.cpp GGUF files; safetensors and PyTorch checkpoints are read by other lf tools")
        }
        cursor.offset = 4
        let raw = try cursor.read(UInt32.self, "the GGUF version")
        if raw & 0xFFFF == 0, raw != 0, GGUFFile.supportedVersions.contains(Int(raw.byteSwapped)) || raw.byteSwapped == 1 {
            throw cursor.error(
                "this GGUF file is big-endian (its version field reads 0x\(String(raw, radix: 16, uppercase: true)), "
                + "which is version \(raw.byteSwapped) byte-swapped); only little-endian GGUF is supported",
                at: 4, hint: "convert it with gguf-py: python -m gguf.scripts.gguf_convert_endian FILE little")
        }
        if raw == 1 {
            throw cursor.error("GGUF version 1 is not supported (llama.cpp dropped it in 2023)", at: 4,
                               hint: "convert the model again with a current llama.cpp")
        }
        guard GGUFFile.supportedVersions.contains(Int(raw)) else {
            throw cursor.error("unsupported GGUF version \(raw) (supported: 2 and 3)", at: 4,
                               hint: raw > 3 ? "the file was written by a newer tool than lf understands" : nil)
        }
        header.version = Int(raw)
    }

    private mutating func parseCounts() throws -> (tensors: Int, kvs: Int) {
        let tensorsAt = cursor.offset
        let tensorCount = try cursor.read(UInt64.self, "the tensor count")
        let kvsAt = cursor.offset
        let kvCount = try cursor.read(UInt64.self, "the metadata key-value count")
        let left = cursor.remaining
        if kvCount > UInt64(left / Self.minimumKVSize) {
            throw cursor.error("the header declares \(kvCount) metadata entries, but the \(left) bytes after the header "
                               + "can hold at most \(left / Self.minimumKVSize)", at: kvsAt,
                               hint: "the file is corrupt or truncated")
        }
        if tensorCount > UInt64(left / Self.minimumTensorInfoSize) {
            throw cursor.error("the header declares \(tensorCount) tensors, but the \(left) bytes after the header "
                               + "can hold at most \(left / Self.minimumTensorInfoSize) tensor infos", at: tensorsAt,
                               hint: "the file is corrupt or truncated")
        }
        return (Int(tensorCount), Int(kvCount))
    }

    // MARK: Metadata

    private mutating func parseKeyValue(index: Int, count: Int) throws {
        let entryStart = cursor.offset
        let key = try cursor.string("the key of metadata entry \(index) (of \(count))")
        if key.isEmpty {
            throw cursor.error("metadata entry \(index) has an empty key", at: entryStart)
        }
        if let other = header.keyIndex[key] {
            throw cursor.error("duplicate metadata key '\(key)' (entries \(other) and \(index))",
                               at: entryStart, field: key, hint: "the writer of this file is broken; llama.cpp refuses it too")
        }
        let valueStart = cursor.offset
        let value = try parseTypedValue(key: key, depth: 0)
        header.keyIndex[key] = header.metadata.count
        header.metadata.append((key: key, value: value))
        header.valueOffsets.append(valueStart)
    }

    private mutating func parseValueType(key: String, what: String) throws -> GGUFValueType {
        let at = cursor.offset
        let raw = try cursor.read(UInt32.self, "the \(what) of '\(key)'", field: key)
        guard let type = GGUFValueType(rawValue: raw) else {
            throw cursor.error("metadata key '\(key)' has unknown \(what) \(raw) (known: 0–12)", at: at, field: key,
                               hint: "the file is corrupt, or was written by a newer GGUF version")
        }
        return type
    }

    /// A uint32 type tag followed by a value of that type.
    private mutating func parseTypedValue(key: String, depth: Int) throws -> GGUFValue {
        let type = try parseValueType(key: key, what: "value type")
        return try parseValue(type, key: key, depth: depth)
    }

    private mutating func parseValue(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "the value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what, field: key))
        case .int8: return .int8(try cursor.read(Int8.self, what, field: key))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what, field: key))
        case .int16: return .int16(try cursor.read(Int16.self, what, field: key))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what, field: key))
        case .int32: return .int32(try cursor.read(Int32.self, what, field: key))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, what, field: key)))
        case .bool: return .bool(try cursor.read(UInt8.self, what, field: key) != 0)
        case .string: return .string(try cursor.string(what, field: key))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what, field: key))
        case .int64: return .int64(try cursor.read(Int64.self, what, field: key))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, what, field: key)))
        case .array: return try parseArray(key: key, depth: depth)
        }
    }

    /// An array: uint32 element type, uint64 count, elements. The count is checked against the bytes
    /// left before anything is allocated.
    private mutating func parseArray(key: String, depth: Int) throws -> GGUFValue {
        let arrayStart = cursor.offset
        if depth >= GGUFFile.maximumArrayNesting {
            throw cursor.error("metadata key '\(key)' nests arrays more than \(GGUFFile.maximumArrayNesting) deep",
                               at: arrayStart, field: key)
        }
        let elementType = try parseValueType(key: key, what: "array element type")
        let countAt = cursor.offset
        let count64 = try cursor.read(UInt64.self, "the array length of '\(key)'", field: key)
        let most = cursor.remaining / elementType.minimumSize
        if count64 > UInt64(most) {
            throw cursor.error("metadata key '\(key)' declares an array of \(count64) \(elementType.name) values, "
                               + "but the \(cursor.remaining) bytes left in the file can hold at most \(most)",
                               at: countAt, field: key, hint: "the file is corrupt or truncated")
        }
        let count = Int(count64)
        var values = [GGUFValue]()
        values.reserveCapacity(count)
        // Fixed-size elements: the whole array was bounds-checked above.
        switch elementType {
        case .uint8: for _ in 0 ..< count { values.append(.uint8(cursor.readUnchecked(UInt8.self))) }
        case .int8: for _ in 0 ..< count { values.append(.int8(cursor.readUnchecked(Int8.self))) }
        case .uint16: for _ in 0 ..< count { values.append(.uint16(cursor.readUnchecked(UInt16.self))) }
        case .int16: for _ in 0 ..< count { values.append(.int16(cursor.readUnchecked(Int16.self))) }
        case .uint32: for _ in 0 ..< count { values.append(.uint32(cursor.readUnchecked(UInt32.self))) }
        case .int32: for _ in 0 ..< count { values.append(.int32(cursor.readUnchecked(Int32.self))) }
        case .float32: for _ in 0 ..< count { values.append(.float32(Float(bitPattern: cursor.readUnchecked(UInt32.self)))) }
        case .bool: for _ in 0 ..< count { values.append(.bool(cursor.readUnchecked(UInt8.self) != 0)) }
        case .uint64: for _ in 0 ..< count { values.append(.uint64(cursor.readUnchecked(UInt64.self))) }
        case .int64: for _ in 0 ..< count { values.append(.int64(cursor.readUnchecked(Int64.self))) }
        case .float64: for _ in 0 ..< count { values.append(.float64(Double(bitPattern: cursor.readUnchecked(UInt64.self)))) }
        case .string:
            for i in 0 ..< count {
                values.append(.string(try cursor.string("element \(i) of '\(key)'", field: key)))
            }
        case .array:
            for _ in 0 ..< count {
                values.append(try parseArray(key: key, depth: depth + 1))
            }
        }
        return .array(elementType, values)
    }

    /// `general.alignment`: a uint32 power of two (ggml reads it with `gguf_get_val_u32`).
    private mutating func resolveAlignment() throws {
        let key = "general.alignment"
        guard let index = header.keyIndex[key] else { return }
        let at = header.valueOffsets[index]
        guard case .uint32(let value) = header.metadata[index].value else {
            throw cursor.error("'\(key)' must be a uint32, but it is \(GGUFFile.typeDescription(header.metadata[index].value))",
                               at: at, field: key)
        }
        guard value != 0, value & (value - 1) == 0 else {
            throw cursor.error("'\(key)' is \(value), but the alignment must be a non-zero power of two", at: at, field: key)
        }
        header.alignment = Int(value)
    }

    // MARK: Tensor infos

    private mutating func parseTensorInfo(index: Int, count: Int) throws {
        let infoStart = cursor.offset
        let name = try cursor.string("the name of tensor \(index) (of \(count))")
        if let other = header.tensorIndex[name] {
            throw cursor.error("duplicate tensor name '\(name)' (tensors \(other) and \(index))", at: infoStart, field: name,
                               hint: "the writer of this file is broken; llama.cpp refuses it too")
        }
        let dimsAt = cursor.offset
        let nDims = try cursor.read(UInt32.self, "the dimension count of tensor '\(name)'", field: name)
        if nDims > 4 {
            throw cursor.error("tensor '\(name)' has \(nDims) dimensions; GGUF tensors have at most 4", at: dimsAt, field: name)
        }
        var dimensions = [Int]()
        dimensions.reserveCapacity(Int(nDims))
        var elements = 1
        for j in 0 ..< Int(nDims) {
            let at = cursor.offset
            let ne = try cursor.read(Int64.self, "dimension \(j) of tensor '\(name)'", field: name)
            if ne <= 0 {
                throw cursor.error("tensor '\(name)' dimension \(j) is \(ne); dimensions must be positive", at: at, field: name)
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(ne))
            if overflow {
                throw cursor.error("tensor '\(name)' has too many elements: the product of its dimensions overflows a 64-bit integer",
                                   at: at, field: name)
            }
            elements = product
            dimensions.append(Int(ne))
        }
        let typeAt = cursor.offset
        let rawType = try cursor.read(UInt32.self, "the type of tensor '\(name)'", field: name)
        guard let type = GGMLType(rawValue: rawType) else {
            let removed = GGMLType.removedTypeName(rawType).map { " (\($0), which ggml no longer supports)" } ?? ""
            throw cursor.error("tensor '\(name)' has unknown ggml type \(rawType)\(removed)", at: typeAt, field: name,
                               hint: "the file may come from a newer or older llama.cpp; re-convert or re-quantize it")
        }
        let rowLength = dimensions.first ?? 1
        if rowLength % type.blockSize != 0 {
            throw cursor.error("tensor '\(name)' of type \(type.name) has rows of \(rowLength) elements, "
                               + "not a multiple of the \(type.name) block size \(type.blockSize)", at: typeAt, field: name)
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw cursor.error("tensor '\(name)' is too large: its byte size overflows a 64-bit integer", at: typeAt, field: name)
        }
        let offset = try cursor.read(UInt64.self, "the data offset of tensor '\(name)'", field: name)
        if offset > UInt64(Int.max) {
            throw cursor.error("tensor '\(name)' has data offset \(offset), past any possible file size", at: cursor.offset - 8, field: name)
        }
        header.tensorIndex[name] = header.tensors.count
        header.tensors.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: Int(offset),
                                             byteCount: byteCount, elementCount: elements))
        header.tensorInfoOffsets.append(infoStart)
    }

    /// Every tensor's data must start at a multiple of the alignment, lie inside the file and not
    /// overlap another tensor's.
    private func checkTensorPlacement() throws {
        let tensors = header.tensors
        let fileSize = cursor.bytes.count
        // The offset field is the last 8 bytes of a tensor info; point errors at it.
        func offsetField(_ i: Int) -> Int {
            let next = i + 1 < tensors.count ? header.tensorInfoOffsets[i + 1] : header.headerByteCount
            return next - 8
        }
        for (i, t) in tensors.enumerated() {
            if t.offset % header.alignment != 0 {
                throw cursor.error("tensor '\(t.name)' has data offset \(t.offset), not a multiple of the alignment \(header.alignment)",
                                   at: offsetField(i), field: t.name)
            }
            let available = fileSize - header.dataOffset
            if t.offset > available || t.byteCount > available - t.offset {
                let start = header.dataOffset + t.offset
                throw cursor.error("the data of tensor '\(t.name)' (\(t.byteCount) bytes at file offset \(start)) "
                                   + "runs past the end of the file (\(fileSize) bytes)",
                                   at: offsetField(i), field: t.name,
                                   hint: "the file is truncated; download or convert it again")
            }
        }
        let order = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for k in order.indices.dropFirst() {
            let a = tensors[order[k - 1]], b = tensors[order[k]]
            if b.offset < a.offset + a.byteCount {
                throw cursor.error("the data of tensor '\(b.name)' (offset \(b.offset)) overlaps the data of tensor '\(a.name)' "
                                   + "(offset \(a.offset), \(a.byteCount) bytes)",
                                   at: offsetField(order[k]), field: b.name, hint: "the file is corrupt")
            }
        }
    }
}
