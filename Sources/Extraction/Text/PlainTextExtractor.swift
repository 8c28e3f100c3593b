import Foundation
import Shared

/// Plain text: decoded (BOM, UTF-8, UTF-16, windows-1251, Latin-1 fallback), CRLF → LF, NFC, and
/// hard-wrapped prose reflowed into one line per paragraph.
enum PlainTextExtractor {
    static func extract(_ bytes: [UInt8], options: ExtractionOptions) throws -> ExtractedDocument {
        let decoded = try TextDecoding.decode(bytes, forced: options.encoding)
        let cleaned = TextCleanup.clean(decoded.text)
        let text = Reflow.paragraphs(cleaned)
        var meta: [(String, JSONValue)] = [("encoding", .string(decoded.encoding))]
        if decoded.evidence == "detected" && decoded.encoding != "utf-8" {
            meta.append(("encoding_detected", .bool(true)))
        }
        return ExtractedDocument(format: .text, text: text, meta: meta)
    }
}

/// Reflow of hard-wrapped text.
///
/// The wrap width is the length that the longest lines of the text reach (the 90th percentile of
/// line lengths); texts whose lines are short (under 40 characters) are left alone. Inside a
/// paragraph (lines between blank lines), a line is joined to the next when it was evidently broken
/// for width: the next line's first word would not have fit on it. Short lines — verse, lists,
/// addresses, headings — keep their breaks, and so does any line that starts like a list item or
/// is indented code.
enum Reflow {
    static func paragraphs(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        let lengths = lines.map { $0.unicodeScalars.count }.filter { $0 > 0 }.sorted()
        guard lengths.count >= 4 else { return TextCleanup.squeezeBlankLines(text) }
        let width = lengths[min(lengths.count - 1, lengths.count * 9 / 10)]
        guard width >= 40 else { return TextCleanup.squeezeBlankLines(text) }
        var out: [String] = []
        var current: String?
        var previousLength = 0
        var previousIsCode = false
        var hyphenation = Hyphenation()
        for line in lines { hyphenation.learn(Array(line.unicodeScalars)) }
        for line in lines {
            let trimmedEnd = trimEnd(line)
            let length = trimmedEnd.unicodeScalars.count
            defer {
                previousLength = length
                previousIsCode = line.hasPrefix("    ") || line.hasPrefix("\t")
            }
            if trimmedEnd.isEmpty {
                if let c = current { out.append(c); current = nil }
                out.append("")
                continue
            }
            guard let c = current else { current = trimmedEnd; continue }
            let wasWrapped = previousLength + 1 + firstWordLength(trimmedEnd) > width - 2
            if wasWrapped && !startsBlock(trimmedEnd) && !previousIsCode {
                var scalars = Array(c.unicodeScalars)
                hyphenation.append(Array(trimmedEnd.unicodeScalars), to: &scalars)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                current = String(view)
            } else {
                current = c + "\n" + trimmedEnd
            }
        }
        if let c = current { out.append(c) }
        return TextCleanup.squeezeBlankLines(out.joined(separator: "\n"))
    }

    private static func trimEnd(_ s: String) -> String {
        var scalars = Substring(s).unicodeScalars
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    private static func firstWordLength(_ s: String) -> Int {
        s.unicodeScalars.drop(while: { $0 == " " }).prefix(while: { $0 != " " }).count
    }

    /// A line that begins a list item, a table row, a heading, or is indented (code, verse).
    private static func startsBlock(_ line: String) -> Bool {
        if line.hasPrefix("    ") || line.hasPrefix("\t") { return true }
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("- ") || t.hasPrefix("* ") || t.hasPrefix("• ") || t.hasPrefix("|") || t.hasPrefix("#") { return true }
        return t.range(of: #"^(\d+|[a-zA-Z])[.)] "#, options: .regularExpression) != nil
    }
}
