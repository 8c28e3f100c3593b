/// A small, strict JSON reader (and string quoting for writers), for files whose keys and numbers
/// must be read exactly: safetensors headers and tokenizer.json.
///
/// Foundation's `JSONSerialization` would do most of it, but it silently keeps one of two equal keys
/// (a duplicated tensor name must be an error) — and "equal" there means canonically equivalent, so
/// a vocabulary with both "K" and the Kelvin sign "K" loses one — turns numbers into `NSNumber`s
/// (where `1`, `1.0` and `true` blur), and cannot say where a problem sits. This reader keeps every
/// key, with its exact scalars and its byte position, parses integers exactly, and rejects anything
/// that is not RFC 8259 JSON.
enum StrictJSON {
    /// A parsed JSON value. Objects keep their members in file order, duplicates included, so that
    /// the caller decides what a repeated key means.
    indirect enum Value {
        case object([Member])
        case array([Value])
        case string(String)
        /// The number's text as written (`12`, `-3`, `1.5e3`): integers are converted by the caller,
        /// exactly.
        case number(String)
        case bool(Bool)
        case null

        /// A short name for error messages: "an object", "a string", …
        var kindName: String {
            switch self {
            case .object: "an object"
            case .array: "an array"
            case .string: "a string"
            case .number: "a number"
            case .bool: "a boolean"
            case .null: "null"
            }
        }
    }

    struct Member {
        var key: String
        var value: Value
        /// Byte offset of the key's opening quote, relative to the start of the parsed text.
        var offset: Int
    }

    struct SyntaxError: Error {
        var message: String
        /// Byte offset relative to the start of the parsed text.
        var offset: Int
    }

    /// Parses one JSON value that fills `bytes`, apart from surrounding whitespace.
    /// With `pythonNumbers`, also `NaN`, `Infinity` and `-Infinity`, which Python's `json` writes
    /// for non-finite floats (a trainer_state.json of a diverged run holds them).
    static func parse(_ bytes: UnsafeRawBufferPointer, pythonNumbers: Bool = false) throws -> Value {
        var parser = Parser(bytes: bytes)
        parser.pythonNumbers = pythonNumbers
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position != bytes.count {
            throw SyntaxError(message: "unexpected \(parser.describeCurrent()) after the end of the JSON value",
                              offset: parser.position)
        }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0
        var pythonNumbers = false
        /// A header is a two-level object; anything deeper than this is hostile, and the limit keeps
        /// recursion off the end of the stack.
        static let maxDepth = 64

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }

        func describeCurrent() -> String {
            guard position < bytes.count else { return "end of the text" }
            let b = bytes[position]
            if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
            return "byte 0x\(String(b, radix: 16))"
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            guard position < bytes.count, bytes[position] == byte else {
                throw SyntaxError(message: "expected \(what), found \(describeCurrent())", offset: position)
            }
            position += 1
        }

        mutating func parseValue(depth: Int) throws -> Value {
            guard position < bytes.count else {
                throw SyntaxError(message: "expected a value, found end of header", offset: position)
            }
            if depth > Self.maxDepth {
                throw SyntaxError(message: "JSON nested more than \(Self.maxDepth) levels deep", offset: position)
            }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try parseLiteral("null"); return .null
            case UInt8(ascii: "N") where pythonNumbers: try parseLiteral("NaN"); return .number("nan")
            case UInt8(ascii: "I") where pythonNumbers: try parseLiteral("Infinity"); return .number("inf")
            case UInt8(ascii: "-") where pythonNumbers && position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "I"):
                position += 1
                try parseLiteral("Infinity")
                return .number("-inf")
            case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try parseNumber())
            default:
                throw SyntaxError(message: "expected a value, found \(describeCurrent())", offset: position)
            }
        }

        mutating func parseLiteral(_ word: StaticString) throws {
            let start = position
            let count = word.utf8CodeUnitCount
            guard bytes.count - position >= count else {
                throw SyntaxError(message: "invalid literal", offset: start)
            }
            for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
                throw SyntaxError(message: "invalid literal (expected \(word))", offset: start)
            }
            position += count
        }

        mutating func parseObject(depth: Int) throws -> Value {
            position += 1  // {
            var members: [Member] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                let keyOffset = position
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw SyntaxError(message: "expected a quoted key, found \(describeCurrent())", offset: position)
                }
                let key = try parseString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after a key")
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                members.append(Member(key: key, value: value, offset: keyOffset))
                skipWhitespace()
                guard position < bytes.count else {
                    throw SyntaxError(message: "unterminated object (expected ',' or '}')", offset: position)
                }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw SyntaxError(message: "expected ',' or '}', found \(describeCurrent())", offset: position)
            }
        }

        mutating func parseArray(depth: Int) throws -> Value {
            position += 1  // [
            var items: [Value] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else {
                    throw SyntaxError(message: "unterminated array (expected ',' or ']')", offset: position)
                }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw SyntaxError(message: "expected ',' or ']', found \(describeCurrent())", offset: position)
            }
        }

        mutating func parseNumber() throws -> String {
            let start = position
            func digits() -> Int {
                let s = position
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
                return position - s
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            let intStart = position
            let intDigits = digits()
            if intDigits == 0 {
                throw SyntaxError(message: "invalid number", offset: start)
            }
            if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") {
                throw SyntaxError(message: "invalid number (leading zero)", offset: start)
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                if digits() == 0 { throw SyntaxError(message: "invalid number (no digits after '.')", offset: start) }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    position += 1
                }
                if digits() == 0 { throw SyntaxError(message: "invalid number (no digits in exponent)", offset: start) }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        }

        mutating func parseHex4() throws -> UInt32 {
            guard bytes.count - position >= 4 else {
                throw SyntaxError(message: "truncated \\u escape", offset: position)
            }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position]
                let d: UInt32
                switch b {
                case 0x30 ... 0x39: d = UInt32(b - 0x30)
                case 0x41 ... 0x46: d = UInt32(b - 0x41 + 10)
                case 0x61 ... 0x66: d = UInt32(b - 0x61 + 10)
                default: throw SyntaxError(message: "invalid \\u escape", offset: position)
                }
                v = v << 4 | d
                position += 1
            }
            return v
        }

        mutating func parseString() throws -> String {
            let start = position
            position += 1  // opening quote
            // Fast path: no escapes, so the bytes between the quotes are the string.
            var scan = position
            while scan < bytes.count {
                let b = bytes[scan]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                scan += 1
            }
            if scan < bytes.count, bytes[scan] == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<scan])
                guard let s = String(validating: raw, as: UTF8.self) else {
                    throw SyntaxError(message: "string is not valid UTF-8", offset: start)
                }
                position = scan + 1
                return s
            }
            // Slow path with escapes.
            var out: [UInt8] = []
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<min(scan, bytes.count)]))
            position = scan
            while true {
                guard position < bytes.count else {
                    throw SyntaxError(message: "unterminated string", offset: start)
                }
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    position += 1
                    break
                }
                if b < 0x20 {
                    throw SyntaxError(message: "control character 0x\(String(b, radix: 16)) inside a string", offset: position)
                }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    position += 1
                    continue
                }
                position += 1
                guard position < bytes.count else { throw SyntaxError(message: "unterminated string", offset: start) }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800 ... 0xDBFF).contains(scalar) {
                        guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else {
                            throw SyntaxError(message: "unpaired UTF-16 surrogate in \\u escape", offset: position)
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00 ... 0xDFFF).contains(low) else {
                            throw SyntaxError(message: "unpaired UTF-16 surrogate in \\u escape", offset: position)
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00 ... 0xDFFF).contains(scalar) {
                        throw SyntaxError(message: "unpaired UTF-16 surrogate in \\u escape", offset: position)
                    }
                    guard let u = Unicode.Scalar(scalar) else {
                        throw SyntaxError(message: "invalid \\u escape", offset: position)
                    }
                    out.append(contentsOf: String(Character(u)).utf8)
                default:
                    throw SyntaxError(message: "invalid escape '\\\(Character(Unicode.Scalar(e)))'", offset: position - 1)
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else {
                throw SyntaxError(message: "string is not valid UTF-8", offset: start)
            }
            return s
        }
    }

    // MARK: Writing

    /// Appends `s` as a JSON string literal, escaped exactly as serde_json (the Rust safetensors
    /// crate) does: `"` and `\` with a backslash, \b \f \n \r \t short forms, other control
    /// characters as `\u00xx`, everything else (including non-ASCII) as raw UTF-8.
    static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00 ..< 0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
