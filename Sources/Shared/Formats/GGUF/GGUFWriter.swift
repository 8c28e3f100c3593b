import Foundation

/// Writes a GGUF file (little-endian, version 3 by default) as a small state machine, in the spirit
/// of gguf-py's `GGUFWriter`/`WriterState`:
///
/// ```
/// .keyValues ──addTensorInfo──▶ .tensorInfos ──writeTensorData──▶ .tensorData ──finish──▶ .finished
///   add(key:value:)…              addTensorInfo…                    writeTensorData…
/// ```
/// Metadata and tensor infos are collected first (the header needs their counts); the first
/// `writeTensorData` or `appendTensorData` (or `finish` for a file without tensors) emits the
/// header, the key-value pairs, the tensor infos and the padding, then each tensor's data follows in
/// the order of its info (whole, or in parts), padded with zeros to the alignment. Offsets are canonical (each tensor starts where the previous
/// one's padded data ends), which is exactly what llama.cpp's C reader (`gguf_init_from_file`)
/// requires. A call out of order, a duplicate key or tensor name, or data of the wrong size throws
/// and leaves the writer unchanged.
///
/// Output goes through `AtomicFile` (nothing appears under the final name until `finish`), or into
/// memory for tests (`init(version:)`, then read `data`).
public final class GGUFWriter {
    public enum State: String, Sendable {
        /// Accepting metadata (and the first tensor info).
        case keyValues
        /// Accepting tensor infos (and the first tensor's data).
        case tensorInfos
        /// The header is written; accepting tensor data in info order.
        case tensorData
        /// `finish()` was called (or the writer was aborted).
        case finished
    }

    public private(set) var state: State = .keyValues
    public let version: Int
    /// The data alignment: 32, or the value of a `general.alignment` key added before the tensor infos.
    public private(set) var alignment = GGUFFile.defaultAlignment
    /// The output path, or nil for an in-memory writer.
    public let path: String?
    /// For an in-memory writer, the bytes written so far (the whole file after `finish()`).
    public private(set) var data = Data()

    private var file: AtomicFile?
    private var position = 0
    private var keyValues: [(key: String, value: GGUFValue)] = []
    private var keys = Set<String>()
    private var infos: [GGUFTensorInfo] = []
    private var names = Set<String>()
    private var dataSize = 0
    private var tensorsWritten = 0
    /// Bytes of the current tensor written so far by `appendTensorData`.
    private var partialBytes = 0

    /// ggml's `GGML_MAX_NAME`: llama.cpp refuses tensor names of this many bytes or more.
    public static let maximumTensorNameBytes = 63

    /// A writer to `path` (written atomically on `finish()`).
    public init(path: String, version: Int = 3) throws {
        try Self.checkVersion(version, path: path)
        self.version = version
        self.path = path
        self.file = try AtomicFile(path: path)
    }

    /// An in-memory writer; the result is `data` after `finish()`.
    public init(version: Int = 3) throws {
        try Self.checkVersion(version, path: "<memory>")
        self.version = version
        self.path = nil
    }

    deinit {
        file?.abort()
    }

    private static func checkVersion(_ version: Int, path: String) throws {
        guard GGUFFile.supportedVersions.contains(version) else {
            throw LFError("cannot write GGUF version \(version) (2 or 3)", at: SourceLocation(file: path))
        }
    }

    /// `n` rounded up to a multiple of `alignment` (a power of two): ggml's `GGML_PAD`.
    public static func padded(_ n: Int, to alignment: Int) -> Int {
        (n + alignment - 1) & ~(alignment - 1)
    }

    private var displayPath: String { path ?? "<memory>" }

    private func failure(_ message: String, field: String? = nil, hint: String? = nil) -> LFError {
        LFError(message, at: SourceLocation(file: displayPath, field: field), hint: hint)
    }

    private func outOfOrder(_ action: String, field: String? = nil) -> LFError {
        failure("GGUF writer: cannot \(action) in state '\(state.rawValue)'", field: field,
                hint: "write in the order: metadata, tensor infos, tensor data (one call per tensor, in info order), finish")
    }

    // MARK: Metadata

    /// Adds one key-value pair. Keys must be unique and non-empty; arrays must hold values of their
    /// element type. `general.alignment` must be a uint32 power of two and sets the alignment.
    public func add(key: String, value: GGUFValue) throws {
        guard state == .keyValues else { throw outOfOrder("add metadata key '\(key)'", field: key) }
        guard !key.isEmpty else { throw failure("GGUF metadata keys must not be empty") }
        guard !keys.contains(key) else {
            throw failure("duplicate metadata key '\(key)'", field: key, hint: "llama.cpp refuses files with duplicate keys")
        }
        try checkValue(value, key: key, depth: 0)
        if key == "general.alignment" {
            guard case .uint32(let a) = value else {
                throw failure("'general.alignment' must be a uint32, not \(GGUFFile.typeDescription(value))", field: key)
            }
            guard a != 0, a & (a - 1) == 0 else {
                throw failure("'general.alignment' must be a non-zero power of two, not \(a)", field: key)
            }
            alignment = Int(a)
        }
        keys.insert(key)
        keyValues.append((key: key, value: value))
    }

    private func checkValue(_ value: GGUFValue, key: String, depth: Int) throws {
        guard case .array(let elementType, let values) = value else { return }
        guard depth < GGUFFile.maximumArrayNesting else {
            throw failure("arrays nested more than \(GGUFFile.maximumArrayNesting) deep", field: key)
        }
        for (i, v) in values.enumerated() {
            guard v.type == elementType else {
                throw failure("element \(i) of the array is \(v.type.name), but the array holds \(elementType.name)", field: key)
            }
            try checkValue(v, key: key, depth: depth + 1)
        }
    }

    // MARK: Tensor infos

    /// Declares a tensor: `dimensions` in GGUF order (ne0, the row length, first), its ggml type and
    /// its data size, which must be exactly what the shape and type give.
    public func addTensorInfo(name: String, dimensions: [Int], type: GGMLType, byteCount: Int) throws {
        guard state == .keyValues || state == .tensorInfos else { throw outOfOrder("add tensor info '\(name)'", field: name) }
        guard !name.isEmpty else { throw failure("GGUF tensor names must not be empty") }
        guard name.utf8.count <= Self.maximumTensorNameBytes else {
            throw failure("tensor name '\(name)' is \(name.utf8.count) bytes; llama.cpp allows at most \(Self.maximumTensorNameBytes)",
                          field: name)
        }
        guard !names.contains(name) else {
            throw failure("duplicate tensor name '\(name)'", field: name, hint: "llama.cpp refuses files with duplicate tensor names")
        }
        guard dimensions.count <= 4 else {
            throw failure("tensor '\(name)' has \(dimensions.count) dimensions; GGUF allows at most 4", field: name)
        }
        var elements = 1
        for (j, ne) in dimensions.enumerated() {
            guard ne > 0 else { throw failure("tensor '\(name)' dimension \(j) is \(ne); dimensions must be positive", field: name) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: ne)
            guard !overflow else { throw failure("tensor '\(name)' has too many elements", field: name) }
            elements = product
        }
        let rowLength = dimensions.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw failure("tensor '\(name)': rows of \(rowLength) elements are not a multiple of the \(type.name) block size \(type.blockSize)",
                          field: name)
        }
        guard let expected = type.byteCount(elements: elements), expected == byteCount else {
            throw failure("tensor '\(name)': \(byteCount) bytes given, but \(type.name) \(dimensions) takes "
                          + "\(type.byteCount(elements: elements).map(String.init) ?? "too many") bytes", field: name)
        }
        let info = GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: dataSize,
                                  byteCount: byteCount, elementCount: elements)
        names.insert(name)
        infos.append(info)
        dataSize += Self.padded(byteCount, to: alignment)
        state = .tensorInfos
    }

    // MARK: Tensor data

    /// Writes the data of the next tensor (in the order of `addTensorInfo`), then pads it to the
    /// alignment. The first call writes the header, metadata and tensor infos.
    public func writeTensorData(_ bytes: UnsafeRawBufferPointer) throws {
        let info = try nextTensor()
        guard partialBytes == 0, bytes.count == info.byteCount else {
            throw failure("tensor '\(info.name)' needs \(info.byteCount) bytes of data, got \(partialBytes > 0 ? "\(partialBytes) + " : "")\(bytes.count)",
                          field: info.name)
        }
        try appendTensorData(bytes)
    }

    /// Writes the next part of the current tensor's data, for tensors produced piece by piece (a
    /// row block at a time): the parts must add up to exactly the tensor's `byteCount`, after which
    /// the data is padded and the next call starts the next tensor.
    public func appendTensorData(_ bytes: UnsafeRawBufferPointer) throws {
        let info = try nextTensor()
        guard bytes.count <= info.byteCount - partialBytes else {
            throw failure("tensor '\(info.name)' needs \(info.byteCount) bytes of data; \(partialBytes) written, "
                          + "\(bytes.count) more is too many", field: info.name)
        }
        if state == .tensorInfos { try writeHeader() }
        if partialBytes == 0 {
            precondition(position == headerEnd + info.offset, "GGUF writer lost its position")
        }
        try emit(bytes)
        partialBytes += bytes.count
        if partialBytes == info.byteCount {
            try pad(to: alignment)
            partialBytes = 0
            tensorsWritten += 1
        }
    }

    /// The info of the tensor whose data comes next, or an error if no data is expected now.
    private func nextTensor() throws -> GGUFTensorInfo {
        guard state == .tensorInfos || state == .tensorData else { throw outOfOrder("write tensor data") }
        guard tensorsWritten < infos.count else {
            throw failure("GGUF writer: all \(infos.count) tensors are already written", hint: "call finish()")
        }
        return infos[tensorsWritten]
    }

    /// `writeTensorData` for a byte array or `Data`.
    public func writeTensorData<Bytes: ContiguousBytes>(_ bytes: Bytes) throws {
        try bytes.withUnsafeBytes { try writeTensorData($0) }
    }

    /// `writeTensorData` for float32 values (F32 tensors).
    public func writeTensorData(floats: [Float]) throws {
        try floats.withUnsafeBytes { try writeTensorData($0) }
    }

    /// Checks that every declared tensor was written, writes the header if there were no tensors,
    /// and moves the file into place (or completes `data`).
    public func finish() throws {
        switch state {
        case .finished:
            throw outOfOrder("finish")
        case .keyValues:
            try writeHeader()
        case .tensorInfos, .tensorData:
            guard tensorsWritten == infos.count else {
                let next = infos[tensorsWritten]
                let partial = partialBytes > 0 ? ", \(partialBytes) of its \(next.byteCount) bytes written" : ""
                throw failure("GGUF writer: \(infos.count - tensorsWritten) of \(infos.count) tensors have no data yet "
                              + "(next: '\(next.name)'\(partial))")
            }
        }
        try file?.commit()
        file = nil
        state = .finished
    }

    /// Abandons the output: the temporary file is removed, nothing appears under `path`.
    public func abort() {
        file?.abort()
        file = nil
        state = .finished
    }

    // MARK: Encoding

    private var headerEnd = 0

    private func writeHeader() throws {
        var out = [UInt8]()
        out.append(contentsOf: Array("GGUF".utf8))
        Self.append(UInt32(version), to: &out)
        Self.append(UInt64(infos.count), to: &out)
        Self.append(UInt64(keyValues.count), to: &out)
        for (key, value) in keyValues {
            Self.appendString(key, to: &out)
            Self.append(value.type.rawValue, to: &out)
            Self.appendValue(value, to: &out)
        }
        for info in infos {
            Self.appendString(info.name, to: &out)
            Self.append(UInt32(info.dimensions.count), to: &out)
            for ne in info.dimensions { Self.append(UInt64(ne), to: &out) }
            Self.append(info.type.rawValue, to: &out)
            Self.append(UInt64(info.offset), to: &out)
        }
        try out.withUnsafeBytes { try emit($0) }
        try pad(to: alignment)
        headerEnd = position
        state = .tensorData
    }

    /// Zero bytes up to the next multiple of `alignment` (gguf-py's `write_padding`).
    private func pad(to alignment: Int) throws {
        let count = Self.padded(position, to: alignment) - position
        guard count > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: count)
        try zeros.withUnsafeBytes { try emit($0) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        if let file {
            try file.write(bytes)
        } else {
            data.append(contentsOf: bytes)
        }
        position += bytes.count
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }

    /// The value without its type tag (array elements are written this way too).
    private static func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let s): appendString(s, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .array(let elementType, let values):
            append(elementType.rawValue, to: &out)
            append(UInt64(values.count), to: &out)
            for v in values { appendValue(v, to: &out) }
        }
    }
}
