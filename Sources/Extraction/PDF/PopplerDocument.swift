import CPoppler
import Foundation

/// A PDF opened with poppler-glib. Owns the `PopplerDocument` and releases it in `deinit`.
///
/// poppler keeps no shared mutable state between documents, so different documents may be read on
/// different threads at once; one document is only ever used by the thread that opened it.
final class PopplerDocument {
    private let document: OpaquePointer
    /// Keeps the bytes of an in-memory document alive for as long as poppler reads them.
    private let bytes: OpaquePointer?

    /// Opens the file at `path`, or `data` when given (stdin). Throws `ExtractionError` for a wrong or
    /// missing password (`encrypted`) and for a file poppler cannot open (`damaged`).
    init(path: String, data: [UInt8]?, password: String?) throws {
        var (opened, held, error) = try Self.open(path: path, data: data, password: password)
        if opened == nil, password != nil, let e = error, !Self.isEncryptedError(e) {
            // poppler-glib reports some wrong passwords as damage (it retries the password in
            // another encoding on a stream it has already read). Without a password, an encrypted
            // file says so, which tells a wrong password from a damaged file.
            let (_, retryHeld, retryError) = try Self.open(path: path, data: data, password: nil)
            if let retryHeld { g_bytes_unref(retryHeld) }
            if let retryError, Self.isEncryptedError(retryError) {
                g_error_free(e)
                error = retryError
            } else if let retryError {
                g_error_free(retryError)
            }
        }
        guard let opened else {
            if let held { g_bytes_unref(held) }
            throw Self.openError(error, passwordGiven: password != nil)
        }
        if let error { g_error_free(error) }
        document = opened
        bytes = held
    }

    private static func open(path: String, data: [UInt8]?, password: String?) throws
        -> (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<GError>?) {
        var error: UnsafeMutablePointer<GError>?
        if let data {
            let held = data.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
            let opened = poppler_document_new_from_bytes(held, password, &error)
            return (opened, held, error)
        }
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw ExtractionError(.io, "cannot open: \(String(cString: strerror(errno)))")
        }
        // poppler owns the descriptor from here on and closes it, also when opening fails.
        let opened = poppler_document_new_from_fd(fd, password, &error)
        return (opened, nil, error)
    }

    private static func isEncryptedError(_ error: UnsafeMutablePointer<GError>) -> Bool {
        error.pointee.domain == poppler_error_quark() && Int(error.pointee.code) == Int(POPPLER_ERROR_ENCRYPTED.rawValue)
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(document))
        if let bytes { g_bytes_unref(bytes) }
    }

    private static func openError(_ error: UnsafeMutablePointer<GError>?, passwordGiven: Bool) -> ExtractionError {
        defer { if let error { g_error_free(error) } }
        let detail = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
        let code = error.map { Int($0.pointee.code) } ?? -1
        if let error, error.pointee.domain == poppler_error_quark(), code == Int(POPPLER_ERROR_ENCRYPTED.rawValue) {
            if passwordGiven {
                return ExtractionError(.encrypted, "encrypted PDF: the password given is wrong",
                                       hint: "check the user (open) password passed with --password")
            }
            return ExtractionError(.encrypted, "encrypted PDF: a password is required to open it",
                                   hint: "pass the user (open) password with --password, or leave the file out")
        }
        return ExtractionError(.damaged, "damaged or truncated PDF: poppler cannot open it (\(detail))",
                               hint: "the file may be incomplete (an interrupted download) or not a PDF; fetch it again")
    }

    var pageCount: Int { Int(poppler_document_get_n_pages(document)) }

    var title: String? { Self.takeString(poppler_document_get_title(document)) }

    /// The permissions the document grants; all of them unless it is encrypted with restrictions.
    var permissions: UInt32 { poppler_document_get_permissions(document).rawValue }

    /// The page at 0-based `index`, or nil when poppler cannot build it.
    func page(_ index: Int) -> PopplerPageRef? {
        guard let page = poppler_document_get_page(document, Int32(index)) else { return nil }
        return PopplerPageRef(page)
    }

    /// Copies and frees a string poppler allocated with g_malloc.
    static func takeString(_ raw: UnsafeMutablePointer<gchar>?) -> String? {
        guard let raw else { return nil }
        defer { g_free(raw) }
        let s = String(cString: raw)
        return s.isEmpty ? nil : s
    }
}

/// One page of a `PopplerDocument`.
final class PopplerPageRef {
    let page: OpaquePointer

    init(_ page: OpaquePointer) { self.page = page }

    deinit { g_object_unref(UnsafeMutableRawPointer(page)) }

    /// The page's text in poppler's reading order (the order `pdftotext` without `-layout` uses):
    /// lines end with `\n`.
    var text: String {
        PopplerDocument.takeString(poppler_page_get_text(page)) ?? ""
    }

    /// The number of images drawn on the page (a page with images and no text needs OCR).
    var imageCount: Int {
        guard let list = poppler_page_get_image_mapping(page) else { return 0 }
        let n = Int(g_list_length(list))
        poppler_page_free_image_mapping(list)
        return n
    }
}
