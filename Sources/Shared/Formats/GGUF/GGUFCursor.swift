/// A bounds-checked little-endian reader over the bytes of a GGUF file. Every read either returns a
/// value that lies wholly inside the file or throws an `LFError` located at the byte where the read
/// started, saying what was being read; nothing here traps on hostile input.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    func error(_ message: String, at byteOffset: Int? = nil, field: String? = nil, hint: String? = nil) -> LFError {
        LFError(message, at: SourceLocation(file: path, byteOffset: byteOffset ?? offset, field: field), hint: hint)
    }

    /// Throws unless `count` more bytes are available.
    func need(_ count: Int, _ what: @autoclosure () -> String, field: String?) throws {
        if count > remaining {
            throw error("the file ends while reading \(what()): \(count) bytes needed at byte \(offset), "
                        + "but the file has \(bytes.count) bytes",
                        field: field,
                        hint: "the file is truncated or is not a complete GGUF file; download or convert it again")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String, field: String? = nil) throws -> T {
        try need(MemoryLayout<T>.size, what(), field: field)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    /// Reads a fixed-size integer without a bounds check: the caller has checked a whole array's size.
    @inline(__always)
    mutating func readUnchecked<T: FixedWidthInteger>(_: T.Type) -> T {
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset &+= MemoryLayout<T>.size
        return value
    }

    /// A GGUF string: a uint64 byte length, then that many bytes of UTF-8 (no terminator).
    mutating func string(_ what: @autoclosure () -> String, field: String? = nil) throws -> String {
        let start = offset
        let length = try read(UInt64.self, "the length of \(what())", field: field)
        if length > UInt64(remaining) {
            throw error("\(what()) is \(length) bytes long, which runs past the end of the file "
                        + "(\(remaining) bytes left after its length field)",
                        at: start, field: field,
                        hint: "the file is truncated or corrupt")
        }
        let count = Int(length)
        let raw = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        guard UTF8Validation.isValid(raw) else {
            throw error("\(what()) is not valid UTF-8", at: start, field: field,
                        hint: "GGUF strings must be UTF-8; the file is corrupt or was written by a broken tool")
        }
        offset += count
        return String(decoding: raw, as: UTF8.self)
    }
}

/// A strict UTF-8 check (no overlong forms, no surrogates, nothing above U+10FFFF), with an ASCII fast path.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i &+= 1; continue }
            let length: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
            switch b0 {
            case 0xC2 ... 0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1 ... 0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return false
            }
            if i + length > n { return false }
            let b1 = bytes[i + 1]
            if b1 < lower || b1 > upper { return false }
            var k = 2
            while k < length {
                if bytes[i + k] & 0xC0 != 0x80 { return false }
                k += 1
            }
            i += length
        }
        return true
    }
}
