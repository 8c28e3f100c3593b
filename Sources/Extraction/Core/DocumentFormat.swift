import Foundation

/// The document formats lf-extract reads. The raw value is what a record's `format` field says.
public enum DocumentFormat: String, CaseIterable, Sendable {
    case pdf
    case html
    case docx
    case epub
    case markdown
    case text

    /// The format a file name's extension names, or nil for an extension lf-extract does not know.
    public static func fromExtension(of path: String) -> DocumentFormat? {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "pdf": return .pdf
        case "html", "htm", "xhtml", "shtml": return .html
        case "docx": return .docx
        case "epub": return .epub
        case "md", "markdown", "mdown", "mkd": return .markdown
        case "txt", "text": return .text
        default: return nil
        }
    }

    /// The format the first bytes announce: `%PDF-`, a ZIP holding `word/document.xml` or an EPUB
    /// `mimetype`, an HTML tag near the start; otherwise nil (the caller decides, usually text).
    public static func sniff(_ head: [UInt8]) -> DocumentFormat? {
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        // Some PDFs carry a few bytes (a mail header, a BOM) before `%PDF-`; readers accept 1 KiB.
        if findBytes(Array("%PDF-".utf8), in: head.prefix(1024)) != nil { return .pdf }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            if findBytes(Array("mimetypeapplication/epub+zip".utf8), in: head.prefix(128)) != nil { return .epub }
            if findBytes(Array("word/".utf8), in: head[...]) != nil { return .docx }
            return nil
        }
        // HTML: look at the first 1 KiB as ASCII-compatible or UTF-16 text (NULs dropped).
        let probe = head.prefix(1024).filter { $0 != 0 }.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
        for tag in ["<!doctype html", "<html", "<head", "<body"] where findBytes(Array(tag.utf8), in: probe[...]) != nil {
            return .html
        }
        return nil
    }
}

/// The index of the first occurrence of `needle` in `haystack`, or nil.
func findBytes(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    let first = needle[0]
    var i = haystack.startIndex
    let last = haystack.endIndex - needle.count
    while i <= last {
        if haystack[i] == first {
            var j = 1
            while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
            if j == needle.count { return i }
        }
        i += 1
    }
    return nil
}
