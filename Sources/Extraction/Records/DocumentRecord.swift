import Foundation
import Shared

/// One line of lf-extract's output: the document record of DESIGN.md.
///
/// Ids: `id` is the sha256 (hex) of the file's bytes for a whole-document record. Records that are
/// parts of a document append where they sit, so every id is stable and distinct:
/// `<sha256>:p<page>` for `--per-page`, `<sha256>:c<chunk>` for `--chunk-chars`, and
/// `<sha256>:p<page>:c<chunk>` for both (pages 1-based, chunks 0-based within their page or
/// document). The part before the first `:` is always the document's content hash.
public struct DocumentRecord: Sendable, Equatable {
    public var id: String
    public var source: String
    public var format: DocumentFormat
    public var text: String
    public var title: String?
    /// The page count of a paged document.
    public var pages: Int?
    /// The 1-based page number of a per-page record.
    public var page: Int?
    /// The 0-based chunk number of a chunked record.
    public var chunk: Int?
    public var meta: [(String, JSONValue)]

    public init(id: String, source: String, format: DocumentFormat, text: String, title: String? = nil,
                pages: Int? = nil, page: Int? = nil, chunk: Int? = nil, meta: [(String, JSONValue)] = []) {
        self.id = id
        self.source = source
        self.format = format
        self.text = text
        self.title = title
        self.pages = pages
        self.page = page
        self.chunk = chunk
        self.meta = meta
    }

    public static func == (a: DocumentRecord, b: DocumentRecord) -> Bool {
        a.jsonLine() == b.jsonLine()
    }

    /// The record as one line of JSON (no trailing newline), keys in sorted order and `meta`'s keys
    /// sorted too, so the same record always gives the same bytes.
    public func jsonLine() -> String {
        var entries: [(String, JSONValue)] = []
        if let chunk { entries.append(("chunk", .int(chunk))) }
        entries.append(("format", .string(format.rawValue)))
        entries.append(("id", .string(id)))
        if !meta.isEmpty { entries.append(("meta", .object(meta.sorted { $0.0 < $1.0 }))) }
        if let page { entries.append(("page", .int(page))) }
        if let pages { entries.append(("pages", .int(pages))) }
        entries.append(("source", .string(source)))
        entries.append(("text", .string(text)))
        if let title { entries.append(("title", .string(title))) }
        return JSONValue.object(entries).serialized(pretty: false)
    }

    /// The records of one extracted document: one, or one per page, each optionally cut into chunks.
    public static func records(for document: ExtractedDocument, sha256: String, source: String,
                               perPage: Bool, chunking: Chunking?) -> [DocumentRecord] {
        var out: [DocumentRecord] = []
        func add(_ text: String, idBase: String, page: Int?) {
            if let chunking {
                for (i, piece) in chunking.split(text).enumerated() {
                    out.append(DocumentRecord(id: "\(idBase):c\(i)", source: source, format: document.format, text: piece,
                                              title: document.title, pages: document.pageCount, page: page, chunk: i,
                                              meta: document.meta))
                }
            } else {
                out.append(DocumentRecord(id: idBase, source: source, format: document.format, text: text,
                                          title: document.title, pages: document.pageCount, page: page, meta: document.meta))
            }
        }
        if perPage && !document.pages.isEmpty {
            for page in document.pages where !page.text.isEmpty {
                add(page.text, idBase: "\(sha256):p\(page.number)", page: page.number)
            }
        } else {
            add(document.text, idBase: sha256, page: nil)
        }
        return out
    }
}
