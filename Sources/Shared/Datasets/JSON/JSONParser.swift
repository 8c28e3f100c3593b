import Foundation

/// A JSON parse failure: what went wrong and the 1-based column (byte) where the parser stopped.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public var description: String { "malformed JSON at column \(column): \(message)" }
}

/// A strict JSON parser (RFC 8259) over UTF-8 bytes that produces `JSONValue`s with object keys in
/// document order.
///
/// lf-format reads every record through it: Foundation's JSONSerialization returns unordered
/// dictionaries and costs most of lf-format's time budget, while this parser does one pass over the
/// bytes and creates a `String` only per JSON string. Invalid UTF-8, lone surrogates, control
/// characters inside strings, trailing commas and trailing garbage are errors, as in Python's `json`.
/// Duplicate keys are kept in order; `JSONValue`'s subscript returns the last, as Python does.
public struct JSONParser {
    /// Objects and arrays nested deeper than this are refused (a hostile line cannot overflow the stack).
    public static let maximumDepth = 512

    private let base: UnsafePointer<UInt8>
    private let count: Int
    private var index = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    private init(_ bytes: UnsafeRawBufferPointer) {
        // An empty buffer may have no base address; any valid pointer with count 0 will do.
        base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
            ?? UnsafePointer(bitPattern: 1)!
        count = bytes.count
    }

    /// Parses exactly one JSON value (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < parser.count {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try parse($0) }
    }

    public static func parse(_ string: String) throws -> JSONValue {
        var s = string
        return try s.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    // MARK: - Values

    private mutating func parseValue() throws -> JSONValue {
        guard index < count else { throw error("unexpected end of input, expected a value") }
        switch base[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character \(describe(base[index])), expected a value")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        index += 1  // {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth { throw error("nested deeper than \(Self.maximumDepth) levels") }
        var entries: [(String, JSONValue)] = []
        skipWhitespace()
        if index < count && base[index] == UInt8(ascii: "}") {
            index += 1
            return .object(entries)
        }
        while true {
            skipWhitespace()
            guard index < count, base[index] == UInt8(ascii: "\"") else {
                throw error(index < count ? "expected a string key, found \(describe(base[index]))" : "unexpected end of input inside an object")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < count, base[index] == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            entries.append((key, value))
            skipWhitespace()
            guard index < count else { throw error("unexpected end of input inside an object") }
            let c = base[index]
            index += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return .object(entries) }
            index -= 1
            throw error("expected ',' or '}' in an object, found \(describe(c))")
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        index += 1  // [
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth { throw error("nested deeper than \(Self.maximumDepth) levels") }
        var items: [JSONValue] = []
        skipWhitespace()
        if index < count && base[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < count else { throw error("unexpected end of input inside an array") }
            let c = base[index]
            index += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return .array(items) }
            index -= 1
            throw error("expected ',' or ']' in an array, found \(describe(c))")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let n = literal.utf8CodeUnitCount
        guard index + n <= count, memcmp(base + index, literal.utf8Start, n) == 0 else {
            throw error("invalid literal, expected \(literal)")
        }
        index += n
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        var isInteger = true
        if base[index] == UInt8(ascii: "-") { index += 1 }
        guard index < count, isDigit(base[index]) else { throw error("invalid number") }
        if base[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < count && isDigit(base[index]) { index += 1 }
        }
        if index < count && base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < count, isDigit(base[index]) else { throw error("invalid number: digits expected after '.'") }
            while index < count && isDigit(base[index]) { index += 1 }
        }
        if index < count && (base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < count && (base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < count, isDigit(base[index]) else { throw error("invalid number: digits expected in the exponent") }
            while index < count && isDigit(base[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw error("invalid number \(text)") }
        return .double(value)
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    // MARK: - Strings

    /// Parses a string starting at the opening quote. The common case (no escapes, ASCII or valid
    /// UTF-8) becomes a String straight from the input bytes.
    private mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        var ascii = true
        while index < count {
            let c = base[index]
            if c == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(start: base + start, count: index - start)
                index += 1
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                guard let s = String(validating: bytes, as: UTF8.self) else {
                    index = start + invalidUTF8Offset(bytes)
                    throw error("invalid UTF-8 in a string")
                }
                return s
            }
            if c == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
            if c < 0x20 { throw error("control character \(describe(c)) inside a string (write it as an escape such as \\n)") }
            if c >= 0x80 { ascii = false }
            index += 1
        }
        throw error("unterminated string")
    }

    private mutating func parseEscapedString(from start: Int) throws -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: index - start))
        while index < count {
            let c = base[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                guard let s = String(validating: scratch, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string")
                }
                return s
            }
            if c < 0x20 { throw error("control character \(describe(c)) inside a string (write it as an escape such as \\n)") }
            if c != UInt8(ascii: "\\") {
                // Copy the run up to the next quote, backslash or control character at once.
                var j = index + 1
                while j < count {
                    let d = base[j]
                    if d == UInt8(ascii: "\"") || d == UInt8(ascii: "\\") || d < 0x20 { break }
                    j += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + index, count: j - index))
                index = j
                continue
            }
            index += 1
            guard index < count else { break }
            let e = base[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 1 < count, base[index] == UInt8(ascii: "\\"), base[index + 1] == UInt8(ascii: "u") else {
                        throw error("lone surrogate \\u\(String(scalar, radix: 16)) (not a character)")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw error("lone surrogate \\u\(String(scalar, radix: 16)) (not a character)")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("lone surrogate \\u\(String(scalar, radix: 16)) (not a character)")
                }
                appendUTF8(scalar)
            default:
                index -= 1
                throw error("invalid escape \\\(describe(e))")
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = base[index]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape: \(describe(c)) is not a hex digit")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (v >> 6)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (v >> 12)))
            scratch.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (v >> 18)))
            scratch.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    /// The offset of the first byte where `bytes` stops being valid UTF-8 (for the error column).
    private func invalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var lo = 0, hi = bytes.count
        // Binary search on the longest valid prefix; prefixes cut inside a character count as invalid,
        // so the answer lands at or just before the bad byte.
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if String(validating: UnsafeBufferPointer(rebasing: bytes[0..<mid]), as: UTF8.self) != nil { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    // MARK: - Helpers

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < count {
            let c = base[index]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            index += 1
        }
    }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return String(format: "0x%02X", c)
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(column: index + 1, message: message)
    }
}
