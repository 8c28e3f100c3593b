/// Parsing and validation of a safetensors header (see `SafetensorsFile`).
enum SafetensorsHeader {
    struct Layout {
        var metadata: [String: String]
        /// Sorted by data offset.
        var tensors: [SafetensorsTensor]
        var dataStart: Int
    }

    static let metadataKey = "__metadata__"

    private static let damagedHint = "the file is damaged or is not a safetensors file; export or download it again"

    /// Validates the whole file image `bytes` and returns its tensors. Never traps on bad input.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Layout {
        func fail(_ message: String, at offset: Int? = nil, field: String? = nil, hint: String? = damagedHint) -> LFError {
            LFError(message, at: SourceLocation(file: path, byteOffset: offset, field: field), hint: hint)
        }

        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes long, too short for a safetensors header (8-byte length, then JSON)",
                       hint: "the file is truncated or is not a safetensors file")
        }
        let declared = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard declared <= UInt64(SafetensorsFile.maxHeaderSize) else {
            throw fail("header length \(declared) is larger than the \(SafetensorsFile.maxHeaderSize)-byte limit",
                       at: 0, hint: "the first 8 bytes should be the little-endian JSON header length; " + damagedHint)
        }
        let headerLength = Int(declared)
        guard headerLength <= bytes.count - 8 else {
            throw fail("header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)",
                       at: 0, hint: "the file is truncated (an interrupted download?) or is not a safetensors file")
        }
        let dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart

        let root: StrictJSON.Value
        do {
            root = try StrictJSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
        } catch let error as StrictJSON.SyntaxError {
            throw fail("header is not valid JSON: \(error.message)", at: 8 + error.offset)
        }
        guard case .object(let members) = root else {
            throw fail("header is \(root.kindName), expected a JSON object of tensors", at: 8)
        }

        var metadata: [String: String]?
        var tensors: [SafetensorsTensor] = []
        tensors.reserveCapacity(members.count)
        var seen = Set<String>()
        seen.reserveCapacity(members.count)

        for member in members {
            let offset = 8 + member.offset
            let name = member.key
            if !seen.insert(name).inserted {
                throw fail("\"\(name)\" appears twice in the header", at: offset, field: name,
                           hint: "a name must be unique; the file was written by a broken exporter or edited by hand")
            }
            if name == metadataKey {
                metadata = try parseMetadata(member.value, offset: offset, fail: fail)
                continue
            }
            tensors.append(try parseTensor(name: name, member.value, offset: offset, dataSize: dataSize, fail: fail))
        }

        // The tensors must tile the data section: sorted by offset, each begins where the previous
        // ended, the first at 0 and the last at the end (the Rust crate's `validate` and
        // `MetadataIncompleteBuffer`).
        // (Empty tensors can share an offset: the name breaks the tie, so the order is deterministic.)
        tensors.sort { a, b in
            if a.dataOffsets.lowerBound != b.dataOffsets.lowerBound { return a.dataOffsets.lowerBound < b.dataOffsets.lowerBound }
            if a.dataOffsets.upperBound != b.dataOffsets.upperBound { return a.dataOffsets.upperBound < b.dataOffsets.upperBound }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var expected = 0
        var previous: SafetensorsTensor?
        for t in tensors {
            let begin = t.dataOffsets.lowerBound
            if begin < expected, let previous {
                throw fail("data_offsets [\(begin), \(t.dataOffsets.upperBound)] overlap tensor \"\(previous.name)\" "
                           + "[\(previous.dataOffsets.lowerBound), \(previous.dataOffsets.upperBound)]",
                           at: dataStart + begin, field: t.name)
            }
            if begin > expected {
                let after = previous.map { "after tensor \"\($0.name)\"" } ?? "at the start of the data section"
                throw fail("\(begin - expected) bytes \(after) belong to no tensor (data_offsets of \"\(t.name)\" begin at \(begin), expected \(expected))",
                           at: dataStart + expected, field: t.name,
                           hint: "safetensors requires the tensors to cover the data section without gaps; " + damagedHint)
            }
            expected = t.dataOffsets.upperBound
            previous = t
        }
        if expected != dataSize {
            throw fail("the last \(dataSize - expected) bytes of the file belong to no tensor "
                       + "(tensors end at data offset \(expected), the data section is \(dataSize) bytes)",
                       at: dataStart + expected, field: previous?.name,
                       hint: "safetensors requires the tensors to cover the data section exactly; " + damagedHint)
        }
        return Layout(metadata: metadata ?? [:], tensors: tensors, dataStart: dataStart)
    }

    private static func parseMetadata(_ value: StrictJSON.Value, offset: Int,
                                      fail: (String, Int?, String?, String?) -> LFError) throws -> [String: String] {
        guard case .object(let entries) = value else {
            throw fail("\"\(metadataKey)\" is \(value.kindName), expected an object of strings", offset, metadataKey, damagedHint)
        }
        var result: [String: String] = [:]
        for entry in entries {
            let field = "\(metadataKey).\(entry.key)"
            guard case .string(let s) = entry.value else {
                throw fail("metadata value is \(entry.value.kindName), expected a string", offset, field, damagedHint)
            }
            if result.updateValue(s, forKey: entry.key) != nil {
                throw fail("metadata key appears twice", offset, field, damagedHint)
            }
        }
        return result
    }

    private static func parseTensor(name: String, _ value: StrictJSON.Value, offset: Int, dataSize: Int,
                                    fail: (String, Int?, String?, String?) -> LFError) throws -> SafetensorsTensor {
        func bad(_ message: String, hint: String? = damagedHint) -> LFError { fail(message, offset, name, hint) }

        guard case .object(let fields) = value else {
            throw bad("tensor entry is \(value.kindName), expected an object with dtype, shape and data_offsets")
        }
        var dtypeValue: StrictJSON.Value?, shapeValue: StrictJSON.Value?, offsetsValue: StrictJSON.Value?
        for field in fields {
            switch field.key {
            case "dtype", "shape", "data_offsets":
                let already: Bool
                switch field.key {
                case "dtype": already = dtypeValue != nil; dtypeValue = field.value
                case "shape": already = shapeValue != nil; shapeValue = field.value
                default: already = offsetsValue != nil; offsetsValue = field.value
                }
                if already { throw bad("\"\(field.key)\" appears twice in the tensor entry") }
            default:
                continue  // the Rust crate ignores unknown keys too
            }
        }

        guard let dtypeValue else { throw bad("tensor entry has no \"dtype\"") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw bad("\"dtype\" is \(dtypeValue.kindName), expected a string such as \"F32\"")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw bad("unsupported dtype \"\(dtypeName)\"",
                      hint: "lf reads " + DType.allCases.map(\.rawValue).joined(separator: ", ")
                          + "; convert the tensor (e.g. to BF16 or F32) before using the file")
        }

        guard let shapeValue else { throw bad("tensor entry has no \"shape\"") }
        guard case .array(let dims) = shapeValue else {
            throw bad("\"shape\" is \(shapeValue.kindName), expected an array of non-negative integers")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var elementCount = 1
        for (i, d) in dims.enumerated() {
            let n = try nonNegativeInteger(d, what: "shape[\(i)]", bad: bad)
            shape.append(n)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: n)
            if overflow { throw bad("shape \(describe(dims)) has more elements than an Int can count") }
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow { throw bad("shape \(shape) of \(dtypeName) is larger than an Int can count") }

        guard let offsetsValue else { throw bad("tensor entry has no \"data_offsets\"") }
        guard case .array(let pair) = offsetsValue, pair.count == 2 else {
            throw bad("\"data_offsets\" must be an array of two integers [begin, end]")
        }
        let begin = try nonNegativeInteger(pair[0], what: "data_offsets[0]", bad: bad)
        let end = try nonNegativeInteger(pair[1], what: "data_offsets[1]", bad: bad)
        guard begin <= end else {
            throw bad("data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end - begin == byteCount else {
            throw bad("shape \(shape) × \(dtypeName) (\(dtype.byteSize) bytes) is \(byteCount) bytes, "
                      + "but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        guard end <= dataSize else {
            throw bad("data_offsets [\(begin), \(end)] lie outside the data section (\(dataSize) bytes)",
                      hint: "the file is truncated (an interrupted download?) or damaged")
        }
        return SafetensorsTensor(name: name, dtype: dtype, shape: shape, elementCount: elementCount,
                                 byteCount: byteCount, dataOffsets: begin..<end)
    }

    private static func nonNegativeInteger(_ value: StrictJSON.Value, what: String,
                                           bad: (String, String?) -> LFError) throws -> Int {
        guard case .number(let text) = value else {
            throw bad("\(what) is \(value.kindName), expected a non-negative integer", damagedHint)
        }
        if text.hasPrefix("-") {
            throw bad("\(what) is negative (\(text))", damagedHint)
        }
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw bad("\(what) is \(text), expected an integer", damagedHint)
        }
        guard let n = Int(text) else {
            throw bad("\(what) (\(text)) is too large", damagedHint)
        }
        return n
    }

    private static func describe(_ dims: [StrictJSON.Value]) -> String {
        "[" + dims.map { if case .number(let t) = $0 { t } else { "?" } }.joined(separator: ", ") + "]"
    }
}
