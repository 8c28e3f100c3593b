import Foundation

/// Character-level clean-up shared by every format: ligatures expanded, control characters and
/// invisible format characters removed, NFC.
public enum TextCleanup {
    /// The Latin typographic ligatures U+FB00–FB06, expanded as NFKC does (ﬀ → ff, ﬁ → fi, ﬅ → st).
    static func ligature(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0xFB00: return "ff"
        case 0xFB01: return "fi"
        case 0xFB02: return "fl"
        case 0xFB03: return "ffi"
        case 0xFB04: return "ffl"
        case 0xFB05, 0xFB06: return "st"
        default: return nil
        }
    }

    /// True for scalars that carry no text: C0/C1 controls other than tab and newline, the BOM /
    /// zero-width no-break space, soft hyphens in running text, and the object replacement character.
    @inline(__always)
    static func isInvisible(_ v: UInt32) -> Bool {
        if v < 0x20 { return v != 0x09 && v != 0x0A }
        if v >= 0x7F && v < 0xA0 { return true }
        return v == 0xFEFF || v == 0xFFFC || v == 0x00AD
    }

    /// Expands ligatures, drops invisible characters, turns CR and CRLF into LF, form feeds into
    /// blank lines, non-breaking and other Unicode spaces into plain spaces, and normalises to NFC.
    public static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var needsNFC = false
        var previousCR = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x0D { out.append("\n"); previousCR = true; continue }
            if v == 0x0A && previousCR { previousCR = false; continue }
            previousCR = false
            if v < 0x80 {
                if v == 0x0C { out.append("\n"); out.append("\n"); continue }
                if isInvisible(v) { continue }
                out.append(scalar)
                continue
            }
            if isInvisible(v) { continue }
            if let expanded = ligature(scalar) { out.append(contentsOf: expanded.unicodeScalars); continue }
            if v == 0xA0 || (v >= 0x2000 && v <= 0x200A) || v == 0x202F || v == 0x205F || v == 0x3000 {
                out.append(" ")
                continue
            }
            if v == 0x200B || v == 0x2060 { continue }
            if v == 0x2028 || v == 0x2029 { out.append("\n"); continue }
            needsNFC = true
            out.append(scalar)
        }
        let s = String(out)
        return needsNFC ? nfc(s) : s
    }

    /// Canonical composition (NFC).
    public static func nfc(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping
    }

    /// Collapses runs of spaces and tabs to one space and trims them at both ends (newlines kept).
    public static func collapseSpaces(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\t" {
                pendingSpace = !out.isEmpty
                continue
            }
            if scalar == "\n" {
                pendingSpace = false
                out.append(scalar)
                continue
            }
            if pendingSpace, let last = out.last, last != "\n" { out.append(" ") }
            pendingSpace = false
            out.append(scalar)
        }
        return String(out)
    }

    /// Joins blocks with one blank line between them, dropping empty ones and trimming each.
    public static func joinBlocks<S: Sequence>(_ blocks: S) -> String where S.Element == String {
        var out = ""
        for block in blocks {
            let trimmed = block.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            if !out.isEmpty { out += "\n\n" }
            out += trimmed
        }
        return out
    }

    /// Reduces runs of three or more newlines to one blank line and trims the ends.
    public static func squeezeBlankLines(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var newlines = 0
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                newlines += 1
                continue
            }
            if newlines > 0 {
                if !out.isEmpty { out.append(contentsOf: newlines >= 2 ? "\n\n".unicodeScalars : "\n".unicodeScalars) }
                newlines = 0
            }
            out.append(scalar)
        }
        // Trailing spaces on each line go too.
        return String(out).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix(" ") ? String($0.reversed().drop(while: { $0 == " " }).reversed()) : String($0) }
            .joined(separator: "\n")
    }
}
