import Foundation
import Shared

/// HTML → Markdown-style text through libxml2's HTML parser.
enum HTMLExtractor {
    static func extract(_ bytes: [UInt8], options: ExtractionOptions) throws -> ExtractedDocument {
        let decoded = try TextDecoding.decode(bytes, declared: declaredCharset(bytes), forced: options.encoding)
        var (text, title) = try convert(html: decoded.text, mode: options.htmlContent)
        title = title.map { TextCleanup.clean($0) }
        var meta: [(String, JSONValue)] = [("encoding", .string(decoded.encoding))]
        if options.htmlContent == .main { meta.append(("html_content", .string("main"))) }
        return ExtractedDocument(format: .html, title: title, text: text, meta: meta)
    }

    /// Parses and converts HTML text; used for HTML files and EPUB chapters that are not XML.
    static func convert(html: String, mode: HTMLContent) throws -> (String, String?) {
        // The text is UTF-8 now: tell libxml2 so, whatever the document's meta tag says.
        guard let tree = XTree.html(Array(html.utf8)), let root = tree.root else {
            if html.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return ("", nil) }
            throw ExtractionError(.damaged, "the HTML parser (libxml2) could not read the document")
        }
        let (blocks, title) = HTMLConverter.convert(root: root, mode: mode)
        return (TextCleanup.clean(BlockWriter.render(blocks)), title)
    }

    /// The charset a `<meta charset>`, `<meta http-equiv="Content-Type" content="…; charset=…">` or
    /// XML declaration names anywhere in the first 64 KiB. Browsers stop looking after 1 KiB; real
    /// pages put kilobytes of script first, so this looks further.
    static func declaredCharset(_ bytes: [UInt8]) -> String? {
        let limit = min(bytes.count, 1 << 16)
        // Only ASCII-compatible encodings can announce themselves this way; UTF-16 has a BOM or NULs.
        var lower = [UInt8](repeating: 0, count: limit)
        for i in 0..<limit { let b = bytes[i]; lower[i] = (b >= 0x41 && b <= 0x5A) ? b + 32 : b }
        if lower.starts(with: Array("<?xml".utf8)), let end = findBytes(Array("?>".utf8), in: lower[..<min(limit, 200)]) {
            if let value = attributeValue(in: lower[..<end], after: Array("encoding=".utf8)) { return value }
        }
        var searchFrom = 0
        let metaTag = Array("<meta".utf8)
        while searchFrom < limit, let start = findBytes(metaTag, in: lower[searchFrom..<limit]) {
            let close = lower[start..<limit].firstIndex(of: UInt8(ascii: ">")) ?? limit
            let tag = lower[start..<close]
            if let value = attributeValue(in: tag, after: Array("charset=".utf8)) { return value }
            searchFrom = close
        }
        return nil
    }

    /// The value after `key` (quoted or not) inside `tag`.
    private static func attributeValue(in tag: ArraySlice<UInt8>, after key: [UInt8]) -> String? {
        guard let at = findBytes(key, in: tag) else { return nil }
        var i = at + key.count
        while i < tag.endIndex && (tag[i] == 0x20 || tag[i] == 0x22 || tag[i] == 0x27) { i += 1 }
        var value: [UInt8] = []
        while i < tag.endIndex {
            let b = tag[i]
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x3A || b == 0x2E
            if !ok { break }
            value.append(b)
            i += 1
        }
        return value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
    }
}
