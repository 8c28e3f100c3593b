import Foundation
import Shared

/// What one document gave: its text (Markdown-style blocks separated by blank lines, NFC), and, for
/// paged formats, the text of each page.
public struct ExtractedDocument: Sendable {
    public var format: DocumentFormat
    public var title: String?
    /// The whole document's text.
    public var text: String
    /// One entry per page, 1-based page numbers, for PDFs (only filled when per-page records are asked for).
    public var pages: [PageText]
    /// The number of pages of a paged document.
    public var pageCount: Int?
    /// Extra facts worth keeping in the record (`meta`): encoding, pages needing OCR, encryption, …
    public var meta: [(String, JSONValue)]
    /// Problems that did not stop the extraction; printed on stderr and counted in the summary.
    public var warnings: [String]

    public init(format: DocumentFormat, title: String? = nil, text: String, pages: [PageText] = [],
                pageCount: Int? = nil, meta: [(String, JSONValue)] = [], warnings: [String] = []) {
        self.format = format
        self.title = title
        self.text = text
        self.pages = pages
        self.pageCount = pageCount
        self.meta = meta
        self.warnings = warnings
    }
}

public struct PageText: Sendable, Equatable {
    public var number: Int
    public var text: String
    public init(number: Int, text: String) {
        self.number = number
        self.text = text
    }
}

/// How HTML is reduced to text.
public enum HTMLContent: String, CaseIterable, Sendable {
    /// The main content: navigation, sidebars, footers, link lists and boilerplate classes dropped.
    case main
    /// Everything visible except script, style, nav, aside and footer.
    case all
}

/// The knobs of extraction that change the text.
public struct ExtractionOptions: Sendable {
    /// The user password of encrypted PDFs.
    public var password: String?
    /// Fill `ExtractedDocument.pages` (one record per page).
    public var perPage = false
    public var htmlContent: HTMLContent = .main
    /// Drop lines that repeat at the top or bottom of PDF pages (running headers, footers, page numbers).
    public var removeRunningHeaders = true
    /// Upper bound on the bytes inflated from one ZIP container (DOCX, EPUB): a ZIP bomb stops here.
    public var maxInflatedBytes = 512 << 20
    /// Upper bound on the entries read from one ZIP container.
    public var maxZipEntries = 100_000
    /// A text encoding to use instead of detection (an iconv name such as `windows-1251`), for text,
    /// Markdown and HTML.
    public var encoding: String?

    public init() {}
}
