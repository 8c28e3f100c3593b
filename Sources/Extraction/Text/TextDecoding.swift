import Foundation

/// Bytes → text with the encoding found from a byte-order mark, a declared charset, UTF-8
/// validity, or the statistics of the bytes (UTF-16 without BOM, windows-1251 Cyrillic, and the
/// Latin-1 / windows-1252 fallback that never fails).
public enum TextDecoding {
    public struct Result: Sendable {
        public var text: String
        /// The encoding used, as a lowercase label: `utf-8`, `utf-16le`, `windows-1251`, …
        public var encoding: String
        /// How it was chosen: `bom`, `declared`, `forced`, `detected`.
        public var evidence: String
    }

    /// A byte-order mark at the start of `bytes`: the encoding and the BOM's length.
    public static func byteOrderMark(_ bytes: UnsafeRawBufferPointer) -> (String, Int)? {
        let n = bytes.count
        if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { return ("utf-8", 3) }
        if n >= 4 && bytes[0] == 0xFF && bytes[1] == 0xFE && bytes[2] == 0 && bytes[3] == 0 { return ("utf-32le", 4) }
        if n >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0xFE && bytes[3] == 0xFF { return ("utf-32be", 4) }
        if n >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE { return ("utf-16le", 2) }
        if n >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF { return ("utf-16be", 2) }
        return nil
    }

    /// Decodes `bytes`. `forced` (from `--encoding`) wins over everything; a BOM wins over a
    /// `declared` charset (an HTML meta tag), which wins over detection. A declared charset that the
    /// bytes contradict (declared UTF-8 but invalid) falls back to detection.
    public static func decode(_ bytes: [UInt8], declared: String? = nil, forced: String? = nil) throws -> Result {
        try bytes.withUnsafeBytes { raw in
            if let forced {
                let label = canonicalLabel(forced)
                return Result(text: try convert(raw, from: label), encoding: label, evidence: "forced")
            }
            if let (label, length) = byteOrderMark(raw) {
                let body = UnsafeRawBufferPointer(rebasing: raw[length...])
                return Result(text: try convert(body, from: label), encoding: label, evidence: "bom")
            }
            if let declared {
                let label = canonicalLabel(declared)
                if label == "utf-8" {
                    if isValidUTF8(raw) { return Result(text: String(decoding: raw, as: UTF8.self), encoding: label, evidence: "declared") }
                } else if label.hasPrefix("utf-16") {
                    // "utf-16" without a BOM: the byte statistics say which end comes first.
                    if let detected = utf16WithoutBOM(raw) {
                        return Result(text: try convert(raw, from: detected), encoding: detected, evidence: "declared")
                    }
                } else if let text = try? convert(raw, from: label) {
                    return Result(text: text, encoding: label, evidence: "declared")
                }
            }
            let label = detect(raw)
            return Result(text: label == "utf-8" ? String(decoding: raw, as: UTF8.self) : try convert(raw, from: label),
                          encoding: label, evidence: "detected")
        }
    }

    /// The encoding of unmarked bytes: UTF-8 when they are valid UTF-8 (ASCII included), UTF-16 when
    /// every other byte is NUL, windows-1251 when non-ASCII letters come in runs (Cyrillic words),
    /// otherwise windows-1252 (a superset of Latin-1's printable characters).
    public static func detect(_ raw: UnsafeRawBufferPointer) -> String {
        // UTF-16 first: its NULs are valid UTF-8.
        if let utf16 = utf16WithoutBOM(raw) { return utf16 }
        if isValidUTF8(raw) { return "utf-8" }
        // Cyrillic text in a single-byte encoding is mostly bytes ≥ 0xC0 next to each other; Latin
        // text has isolated accented letters between ASCII ones.
        var high = 0, highRuns = 0
        var previousHigh = false
        for b in raw.prefix(1 << 16) {
            let isHigh = b >= 0xC0
            if isHigh {
                high += 1
                if previousHigh { highRuns += 1 }
            }
            previousHigh = isHigh
        }
        if high >= 8 && Double(highRuns) / Double(high) > 0.5 { return "windows-1251" }
        return "windows-1252"
    }

    /// UTF-16 detected from the first 4 KiB: NUL bytes at most odd offsets and printable ASCII at
    /// the even ones (little-endian text in a Latin script), or the other way round (big-endian).
    static func utf16WithoutBOM(_ raw: UnsafeRawBufferPointer) -> String? {
        let n = min(raw.count, 4096) & ~1
        guard n >= 8 else { return nil }
        var evenZeros = 0, oddZeros = 0, evenPrintable = 0, oddPrintable = 0
        for i in stride(from: 0, to: n, by: 2) {
            let e = raw[i], o = raw[i + 1]
            if e == 0 { evenZeros += 1 } else if isPrintableASCII(e) { evenPrintable += 1 }
            if o == 0 { oddZeros += 1 } else if isPrintableASCII(o) { oddPrintable += 1 }
        }
        let pairs = n / 2
        if oddZeros * 10 >= pairs * 4 && evenZeros * 10 < pairs && evenPrintable * 10 >= pairs * 7 { return "utf-16le" }
        if evenZeros * 10 >= pairs * 4 && oddZeros * 10 < pairs && oddPrintable * 10 >= pairs * 7 { return "utf-16be" }
        return nil
    }

    private static func isPrintableASCII(_ b: UInt8) -> Bool {
        (b >= 0x20 && b < 0x7F) || b == 0x09 || b == 0x0A || b == 0x0D || b >= 0xA0
    }

    /// The length of the longest prefix of `raw` that does not end inside a UTF-8 sequence.
    static func utf8Boundary(_ raw: UnsafeRawBufferPointer) -> Int {
        var i = raw.count
        var continuation = 0
        while i > 0 && continuation < 3 && raw[i - 1] & 0xC0 == 0x80 { i -= 1; continuation += 1 }
        guard i > 0 else { return raw.count }
        let lead = raw[i - 1]
        let length = lead >= 0xF0 ? 4 : (lead >= 0xE0 ? 3 : (lead >= 0xC0 ? 2 : 1))
        return length > continuation + 1 ? i - 1 : raw.count
    }

    public static func isValidUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = raw.count
        while i < n {
            let b = raw[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            if b >= 0xC2 && b <= 0xDF { length = 2 }
            else if b >= 0xE0 && b <= 0xEF { length = 3 }
            else if b >= 0xF0 && b <= 0xF4 { length = 4 }
            else { return false }
            guard i + length <= n else { return false }
            for k in 1..<length where raw[i + k] & 0xC0 != 0x80 { return false }
            if length == 3 {
                let b1 = raw[i + 1]
                if (b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0) { return false }
            } else if length == 4 {
                let b1 = raw[i + 1]
                if (b == 0xF0 && b1 < 0x90) || (b == 0xF4 && b1 >= 0x90) { return false }
            }
            i += length
        }
        return true
    }

    /// A charset name as HTML and MIME write it → the label iconv and this module use.
    /// "iso-8859-1", "latin1" and "us-ascii" mean windows-1252, as in browsers; "unicode" means UTF-16LE.
    public static func canonicalLabel(_ name: String) -> String {
        let n = name.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")).lowercased()
        switch n {
        case "utf8", "utf-8", "unicode-1-1-utf-8": return "utf-8"
        case "unicode", "utf-16", "ucs-2", "utf16": return "utf-16le"
        case "utf-16le", "utf16le": return "utf-16le"
        case "utf-16be", "utf16be": return "utf-16be"
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp1252", "windows-1252", "x-cp1252", "cp819":
            return "windows-1252"
        case "cp1251", "windows-1251", "x-cp1251", "win-1251": return "windows-1251"
        default: return n
        }
    }

    /// Converts with iconv; a byte sequence that does not belong to the encoding becomes U+FFFD.
    /// Throws when iconv does not know the encoding.
    static func convert(_ raw: UnsafeRawBufferPointer, from label: String) throws -> String {
        if label == "utf-8" { return String(decoding: raw, as: UTF8.self) }
        if label == "windows-1252" { return decodeWindows1252(raw) }
        let cd = iconv_open("UTF-8", label)
        if cd == iconv_t(bitPattern: -1) {
            throw ExtractionError(.unsupported, "unknown text encoding \"\(label)\"",
                                  hint: "name an encoding iconv knows (iconv -l), for example --encoding windows-1251")
        }
        defer { iconv_close(cd) }
        guard let input = raw.baseAddress, raw.count > 0 else { return "" }
        var output = [UInt8](repeating: 0, count: max(raw.count * 4, 16))
        var produced = 0
        var inOffset = 0
        while inOffset < raw.count {
            var inLeft = raw.count - inOffset
            var outLeft = output.count - produced
            let (result, code): (Int, Int32) = output.withUnsafeMutableBytes { out in
                guard let outBase = out.baseAddress else { return (-1, E2BIG) }
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: CChar.self) + inOffset)
                var outPtr: UnsafeMutablePointer<CChar>? = outBase.assumingMemoryBound(to: CChar.self) + produced
                let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                return (r, errno)
            }
            inOffset = raw.count - inLeft
            produced = output.count - outLeft
            if result == -1 {
                if code == E2BIG {
                    output += [UInt8](repeating: 0, count: output.count)
                    continue
                }
                // An invalid or incomplete sequence: U+FFFD, then skip one code unit.
                if output.count - produced < 3 { output += [UInt8](repeating: 0, count: 16) }
                output[produced] = 0xEF; output[produced + 1] = 0xBF; output[produced + 2] = 0xBD
                produced += 3
                inOffset += label.hasPrefix("utf-16") ? 2 : (label.hasPrefix("utf-32") ? 4 : 1)
            }
        }
        return String(decoding: output[..<produced], as: UTF8.self)
    }

    /// windows-1252: Latin-1 with typographic characters in 0x80–0x9F; the five bytes it leaves
    /// undefined map to the C1 controls of the same value, as browsers do.
    static func decodeWindows1252(_ raw: UnsafeRawBufferPointer) -> String {
        var view = String.UnicodeScalarView()
        for b in raw {
            if b >= 0x80 && b < 0xA0 {
                let v = windows1252High[Int(b - 0x80)]
                view.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            } else {
                view.append(Unicode.Scalar(b))
            }
        }
        return String(view)
    }

    private static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}
