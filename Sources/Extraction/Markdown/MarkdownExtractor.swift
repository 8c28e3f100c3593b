import Foundation
import Shared

/// Markdown stays Markdown: headings, lists, tables and code blocks are kept as written (fenced
/// and indented code verbatim). What does not read as text is removed: images and badges, raw
/// HTML tags and comments (their text content stays), link targets (`[text](url)` → `text`) and
/// link reference definitions.
enum MarkdownExtractor {
    static func extract(_ bytes: [UInt8], options: ExtractionOptions) throws -> ExtractedDocument {
        let decoded = try TextDecoding.decode(bytes, forced: options.encoding)
        let text = clean(TextCleanup.clean(decoded.text))
        var title: String?
        for line in text.split(separator: "\n", maxSplits: 200) where line.hasPrefix("# ") {
            title = line.dropFirst(2).trimmingCharacters(in: .whitespaces)
            break
        }
        return ExtractedDocument(format: .markdown, title: title, text: text, meta: [("encoding", .string(decoded.encoding))])
    }

    static func clean(_ text: String) -> String {
        var out: [String] = []
        var fence: String?
        var inComment = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let open = fence {
                out.append(line)
                if trimmed.hasPrefix(open) && trimmed.allSatisfy({ $0 == open.first }) { fence = nil }
                continue
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                let marker = trimmed.first ?? "`"
                fence = String(trimmed.prefix { $0 == marker })
                out.append(line)
                continue
            }
            // Indented code (4 spaces or a tab, after a blank line) is kept as it is.
            if (line.hasPrefix("    ") || line.hasPrefix("\t")), out.last.map({ $0.isEmpty || $0.hasPrefix("    ") || $0.hasPrefix("\t") }) ?? true,
               !isListContinuation(out) {
                out.append(line)
                continue
            }
            var working = line
            if inComment {
                guard let end = working.range(of: "-->") else { continue }
                working = String(working[end.upperBound...])
                inComment = false
            }
            while let start = working.range(of: "<!--") {
                if let end = working.range(of: "-->", range: start.upperBound..<working.endIndex) {
                    working.removeSubrange(start.lowerBound..<end.upperBound)
                } else {
                    working = String(working[..<start.lowerBound])
                    inComment = true
                }
            }
            // Link reference definitions: `[id]: https://…`.
            if working.range(of: #"^\s{0,3}\[[^\]]+\]:\s*\S+"#, options: .regularExpression) != nil { continue }
            working = inline(working)
            let result = working.trimmingCharacters(in: .whitespaces).isEmpty ? "" : working
            out.append(result.hasSuffix(" ") ? String(result.reversed().drop { $0 == " " }.reversed()) : result)
        }
        return TextCleanup.squeezeBlankLines(out.joined(separator: "\n"))
    }

    private static func isListContinuation(_ out: [String]) -> Bool {
        for line in out.reversed() where !line.isEmpty {
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("- ") || t.hasPrefix("* ") || t.hasPrefix("+ ") || t.range(of: #"^\d+[.)] "#, options: .regularExpression) != nil
        }
        return false
    }

    private static let image = try? NSRegularExpression(pattern: #"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]"#)
    private static let linkedEmpty = try? NSRegularExpression(pattern: #"\[\s*\]\([^)]*\)"#)
    private static let link = try? NSRegularExpression(pattern: #"\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))*(?:\s+"[^"]*")?\)"#)
    private static let referenceLink = try? NSRegularExpression(pattern: #"\[([^\]]+)\]\[[^\]]*\]"#)
    private static let htmlTag = try? NSRegularExpression(pattern: #"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"#)
    private static let autolink = try? NSRegularExpression(pattern: #"<((?:https?|ftp|mailto):[^<>\s]+)>"#)

    /// Inline clean-up of one line outside code: images, link targets and HTML tags (code spans kept).
    static func inline(_ line: String) -> String {
        // Code spans are protected: split on backticks and clean only the parts outside them.
        let parts = line.components(separatedBy: "`")
        guard parts.count > 1 else { return cleanSpan(line) }
        return parts.enumerated().map { i, part in i % 2 == 0 || i == parts.count - 1 && parts.count % 2 == 0 ? cleanSpan(part) : part }
            .joined(separator: "`")
    }

    private static func cleanSpan(_ s: String) -> String {
        guard s.contains("[") || s.contains("<") || s.contains("!") else { return s }
        var t = s
        t = replace(image, in: t, with: "")
        t = replace(linkedEmpty, in: t, with: "")
        t = replace(link, in: t, with: "$1")
        t = replace(referenceLink, in: t, with: "$1")
        t = replace(autolink, in: t, with: "$1")
        t = replace(htmlTag, in: t, with: "")
        return t
    }

    private static func replace(_ regex: NSRegularExpression?, in s: String, with template: String) -> String {
        guard let regex else { return s }
        let range = NSRange(s.startIndex..., in: s)
        return regex.stringByReplacingMatches(in: s, range: range, withTemplate: template)
    }
}
