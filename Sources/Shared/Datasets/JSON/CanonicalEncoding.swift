import Foundation

/// The one byte form of a canonical record, which lf-format writes and hashes:
///
///     {"messages":[{"role":"user","content":"…"},{"role":"assistant","content":"…"}]}
///     {"text":"…"}
///
/// Keys in that order, no spaces, non-ASCII as UTF-8, and only `"`, `\`, and control characters
/// escaped (`\n`, `\t`, `\r`, `\b`, `\f`, other controls and DEL as `\u00XX`); `/` is not escaped.
/// Equal records give equal bytes, so the content hash (dedup, split) is stable across runs and
/// machines. The record's JSON contract (`DatasetRecord`'s Codable form) reads it back.
public enum CanonicalEncoding {
    /// Appends the record's line (without the newline) to `out`.
    public static func append(_ record: DatasetRecord, to out: inout [UInt8]) {
        switch record {
        case .text(let text):
            appendLiteral(#"{"text":"#, to: &out)
            appendString(text, to: &out)
            out.append(UInt8(ascii: "}"))
        case .chat(let messages):
            appendLiteral(#"{"messages":["#, to: &out)
            for (i, message) in messages.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendLiteral(#"{"role":""#, to: &out)
                appendLiteral(message.role.rawValue, to: &out)
                appendLiteral(#"","content":"#, to: &out)
                appendString(message.content, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            appendLiteral("]}", to: &out)
        }
    }

    /// The record's line as bytes (without the newline).
    public static func encode(_ record: DatasetRecord) -> [UInt8] {
        var out: [UInt8] = []
        append(record, to: &out)
        return out
    }

    @inline(__always)
    static func appendLiteral(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    /// A JSON string literal with the escaping described above.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = string
        s.withUTF8 { bytes in
            guard let p = bytes.baseAddress else { return }
            var runStart = 0
            var i = 0
            let n = bytes.count
            while i < n {
                // Skip eight bytes at a time while none needs escaping.
                if i + 8 <= n {
                    let w = WordScan.load(p, i)
                    if !WordScan.hasByteBelow(w, 0x20) && !WordScan.hasByte(w, 0x22) && !WordScan.hasByte(w, 0x5C)
                        && !WordScan.hasByte(w, 0x7F) {
                        i += 8
                        continue
                    }
                }
                let c = bytes[i]
                i += 1
                guard c < 0x20 || c == 0x22 || c == 0x5C || c == 0x7F else { continue }
                let at = i - 1
                if runStart < at { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<at])) }
                runStart = at + 1
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension CanonicalEncoding {
    /// Any JSON value, compactly (no spaces), keys in their order, strings escaped as above:
    /// for tool descriptions and calls embedded in messages, and records kept in `--rejects`.
    public static func appendJSON(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: JSONValue.format(d).utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendJSON(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, (key, item)) in entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSON(item, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `appendJSON` as a String.
    public static func compactJSON(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        appendJSON(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace (space, tab, CR, LF), cheaply.
    var trimmingASCIIWhitespace: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
