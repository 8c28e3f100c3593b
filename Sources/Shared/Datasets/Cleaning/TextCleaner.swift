import Foundation

/// The text clean-up every record goes through (unless `--no-clean`), in this order:
///
/// 1. Line breaks: `\r\n` and lone `\r`, NEL (U+0085), LINE/PARAGRAPH SEPARATOR (U+2028/9) → `\n`.
/// 2. Control characters removed: C0 except tab and newline, DEL, C1, and the byte-order mark
///    U+FEFF (zero-width joiners and variation selectors stay: emoji need them).
/// 3. Unusual spaces → a plain space: NO-BREAK SPACE, the U+2000–U+200A spaces, NARROW NO-BREAK
///    SPACE, MEDIUM MATHEMATICAL SPACE, OGHAM SPACE MARK (the ideographic space U+3000 is kept).
/// 4. Unicode NFC.
/// 5. Whitespace: spaces and tabs at the end of each line removed, runs of blank lines collapsed to
///    one blank line, and leading and trailing whitespace removed. Spaces inside a line (indented
///    code) are kept.
///
/// Text that needs none of this (the common case) is returned as is after one scan of its bytes.
public enum TextCleaner {
    public static func clean(_ text: String) -> String {
        var text = text
        let verdict = text.withUTF8 { scan($0) }
        switch verdict {
        case .clean: return text
        case .needsWork(let nfc):
            var cleaned = byteClean(text)
            if nfc {
                // NFC can only recompose characters; clean again in case it produced mapped ones.
                cleaned = byteClean(cleaned.precomposedStringWithCanonicalMapping)
            }
            return cleaned
        }
    }

    enum Verdict { case clean, needsWork(nfc: Bool) }

    /// One pass over the bytes: is the text already clean? ASCII is decided byte by byte; other
    /// characters are decoded and checked against the ranges known to be NFC-stable.
    static func scan(_ b: UnsafeBufferPointer<UInt8>) -> Verdict {
        let n = b.count
        if n == 0 { return .clean }
        var dirty = false
        var needsNFC = false
        // Leading or trailing whitespace.
        if isSpaceOrNewline(b[0]) || isSpaceOrNewline(b[n - 1]) { dirty = true }
        var newlineRun = 0
        var i = 0
        let p = b.baseAddress!
        while i < n {
            // Skip eight plain ASCII bytes (no control character, DEL or line break) at a time.
            if i + 8 <= n {
                let w = WordScan.load(p, i)
                if !WordScan.hasHighBit(w) && !WordScan.hasByteBelow(w, 0x20) && !WordScan.hasByte(w, 0x7F) {
                    newlineRun = 0
                    i += 8
                    continue
                }
            }
            let c = b[i]
            if c < 0x80 {
                if c == 0x0A {
                    newlineRun += 1
                    if newlineRun > 2 { dirty = true }
                    if i > 0 && (b[i - 1] == 0x20 || b[i - 1] == 0x09) { dirty = true }
                } else {
                    newlineRun = 0
                    if c < 0x20 && c != 0x09 { dirty = true }
                    if c == 0x7F { dirty = true }
                }
                i += 1
                continue
            }
            newlineRun = 0
            // CJK ideographs U+4000–U+9FFF (lead bytes E4–E9) and Latin U+00C0–U+02FF (C3–CB) are
            // stable: skip them without decoding.
            if c >= 0xE4 && c <= 0xE9 { i += 3; continue }
            if c >= 0xC3 && c <= 0xCB { i += 2; continue }
            // Decode one multi-byte scalar (the input is valid UTF-8: it is a Swift String).
            var v: UInt32
            var len: Int
            if c < 0xE0 { v = UInt32(c & 0x1F); len = 2 }
            else if c < 0xF0 { v = UInt32(c & 0x0F); len = 3 }
            else { v = UInt32(c & 0x07); len = 4 }
            var k = 1
            while k < len && i + k < n {
                v = v << 6 | UInt32(b[i + k] & 0x3F)
                k += 1
            }
            i += len
            switch scalarClass(v) {
            case .stable: break
            case .mapped: dirty = true
            case .mayNeedNFC: needsNFC = true
            }
        }
        if needsNFC { return .needsWork(nfc: true) }
        return dirty ? .needsWork(nfc: false) : .clean
    }

    enum ScalarClass { case stable, mapped, mayNeedNFC }

    /// Whether a non-ASCII scalar is left alone, replaced by steps 1–3, or may change under NFC.
    /// "Stable" ranges hold only characters with canonical combining class 0 that are NFC_QC=Yes,
    /// so text made of them (and ASCII) is already NFC; everything else goes through Foundation's
    /// normaliser, which is exact but slower.
    @inline(__always)
    static func scalarClass(_ v: UInt32) -> ScalarClass {
        switch v {
        case 0x80...0x9F, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0xFEFF: return .mapped
        case 0xA1...0x2FF: return .stable                       // Latin-1, Latin Extended, IPA, modifiers
        case 0x386, 0x388...0x3FF: return .stable               // Greek (not the singletons ; ·)
        case 0x400...0x482, 0x48A...0x52F: return .stable       // Cyrillic (without combining marks)
        case 0x1E00...0x1EFF: return .stable                    // Latin Extended Additional (Vietnamese)
        case 0x5D0...0x5EA, 0x600...0x60F, 0x621...0x64A: return .stable  // Hebrew and Arabic letters
        case 0x200B...0x2027, 0x2030...0x205E, 0x2060...0x206F: return .stable  // general punctuation
        case 0x2070...0x20CF: return .stable                    // super/subscripts, currency
        case 0x2100...0x2125, 0x2127...0x2129, 0x212C...0x214F: return .stable  // letterlike (not Ω K Å)
        case 0x2150...0x2328, 0x232B...0x23FF: return .stable   // number forms, arrows, math, technical
        case 0x2400...0x2ADB, 0x2ADD...0x2AFF: return .stable                    // symbols, box drawing, dingbats, math
        case 0x3000...0x3029, 0x3030...0x303F: return .stable   // CJK punctuation (not the tone marks)
        case 0x3041...0x3096, 0x30A1...0x30FA, 0x30FC...0x30FF: return .stable  // kana (not the voicing marks)
        case 0x3400...0x4DBF, 0x4E00...0x9FFF: return .stable   // CJK ideographs
        case 0xAC00...0xD7A3: return .stable                    // Hangul syllables
        case 0xFF01...0xFF9D, 0xFFA0...0xFFEF: return .stable   // full- and half-width forms
        case 0x1F000...0x1FAFF: return .stable                  // emoji and pictographs
        case 0xFE00...0xFE0F: return .stable                    // variation selectors (ccc 0)
        default: return .mayNeedNFC
        }
    }

    @inline(__always)
    static func isSpaceOrNewline(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    /// Steps 1–3 and 5 in one pass over the UTF-8 bytes.
    static func byteClean(_ text: String) -> String {
        var text = text
        return text.withUTF8 { b -> String in
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            var pendingSpaces: [UInt8] = []  // spaces and tabs since the last visible character
            var newlines = 0                 // line breaks since the last visible character
            func emitVisible(_ bytes: UnsafeBufferPointer<UInt8>) {
                if !out.isEmpty {
                    if newlines == 1 { out.append(0x0A) } else if newlines > 1 { out.append(0x0A); out.append(0x0A) }
                    // Indentation of a later line is kept; the text's leading whitespace is not.
                    out.append(contentsOf: pendingSpaces)
                }
                pendingSpaces.removeAll(keepingCapacity: true)
                newlines = 0
                out.append(contentsOf: bytes)
            }
            func newline() {
                pendingSpaces.removeAll(keepingCapacity: true)
                newlines += 1
            }
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                if c < 0x80 {
                    switch c {
                    case 0x0A: newline()
                    case 0x0D:
                        newline()
                        if i + 1 < n && b[i + 1] == 0x0A { i += 1 }
                    case 0x20, 0x09: pendingSpaces.append(c)
                    case 0x00...0x1F, 0x7F: break
                    default:
                        // A run of ordinary ASCII is copied at once.
                        var j = i + 1
                        while j < n, b[j] > 0x20, b[j] < 0x7F { j += 1 }
                        emitVisible(UnsafeBufferPointer(rebasing: b[i..<j]))
                        i = j
                        continue
                    }
                    i += 1
                    continue
                }
                let len = c < 0xE0 ? 2 : (c < 0xF0 ? 3 : 4)
                var v = UInt32(c & (len == 2 ? 0x1F : (len == 3 ? 0x0F : 0x07)))
                var k = 1
                while k < len && i + k < n {
                    v = v << 6 | UInt32(b[i + k] & 0x3F)
                    k += 1
                }
                let end = min(i + len, n)
                switch v {
                case 0x85, 0x2028, 0x2029: newline()
                case 0x80...0x9F, 0xFEFF: break
                case 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F: pendingSpaces.append(0x20)
                default: emitVisible(UnsafeBufferPointer(rebasing: b[i..<end]))
                }
                i = end
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// The record with every message (or its text) cleaned.
    public static func clean(_ record: DatasetRecord) -> DatasetRecord {
        switch record {
        case .text(let text): return .text(clean(text))
        case .chat(let messages):
            return .chat(messages.map { ChatMessage(role: $0.role, content: clean($0.content)) })
        }
    }
}
