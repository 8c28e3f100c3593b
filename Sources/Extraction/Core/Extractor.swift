import Foundation
import Shared

/// One input read and extracted: its content hash and what it gave.
public struct ExtractionResult: Sendable {
    public var sha256: String
    public var format: DocumentFormat
    public var document: ExtractedDocument
}

/// Reads one input (a file, or stdin's bytes), decides its format and runs the reader for it.
public enum Extractor {
    /// Files at least this large are hashed in chunks and, for PDFs, handed to poppler by descriptor
    /// rather than read into memory.
    static let chunkSize = 1 << 20

    /// Extracts `input`. `stdin` holds the bytes when `input.path` is `-`. `forcedFormat` (from
    /// `--format`) skips detection. Throws `ExtractionError`.
    public static func extract(_ input: InputFile, stdin: [UInt8]? = nil, forcedFormat: DocumentFormat? = nil,
                               options: ExtractionOptions) throws -> ExtractionResult {
        let isStdin = input.path == "-"
        let head: [UInt8]
        let sha: String
        var bytes: [UInt8]?
        if isStdin {
            let data = stdin ?? []
            bytes = data
            head = Array(data.prefix(4096))
            sha = hex(sha256(data))
        } else {
            (sha, head) = try hashFile(input.path)
        }
        var format: DocumentFormat
        if let forcedFormat {
            format = forcedFormat
        } else if DocumentFormat.fromExtension(of: input.path) == nil || isStdin,
                  head.starts(with: [0x50, 0x4B, 0x03, 0x04]), DocumentFormat.sniff(head) == nil {
            // A ZIP whose first entries do not say what it is: look at its directory.
            format = try zipFormat(path: input.path, data: bytes)
        } else {
            format = try detectFormat(path: input.path, head: head, isStdin: isStdin, explicit: input.explicit)
        }
        // HTML and Markdown are parsed from memory. poppler and libzip read PDFs, DOCX and EPUB from
        // the file, and text is streamed.
        if (format == .html || format == .markdown) && bytes == nil {
            bytes = try readFile(input.path)
        }
        let document: ExtractedDocument
        switch format {
        case .pdf: document = try PDFExtractor.extract(path: input.path, data: bytes, options: options)
        case .html: document = try HTMLExtractor.extract(bytes ?? [], options: options)
        case .docx: document = try DOCXExtractor.extract(path: input.path, data: isStdin ? bytes : nil, options: options)
        case .epub: document = try EPUBExtractor.extract(path: input.path, data: isStdin ? bytes : nil, options: options)
        case .markdown: document = try MarkdownExtractor.extract(bytes ?? [], options: options)
        case .text:
            document = try bytes.map { try PlainTextExtractor.extract($0, options: options) }
                ?? PlainTextExtractor.extract(path: input.path, options: options)
        }
        if document.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ExtractionError(.empty, "no text: the \(format.rawValue) document holds no text",
                                  hint: "nothing to extract; leave the file out")
        }
        return ExtractionResult(sha256: sha, format: format, document: document)
    }

    /// The format of a file: its extension when it names one, else what its first bytes say. A
    /// file named on the command line with an unknown extension is read as text when its bytes look
    /// like text.
    public static func detectFormat(path: String, head: [UInt8], isStdin: Bool, explicit: Bool) throws -> DocumentFormat {
        if !isStdin, let format = DocumentFormat.fromExtension(of: path) { return format }
        if let format = DocumentFormat.sniff(head) { return format }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw ExtractionError(.unsupported, "a ZIP file that is neither DOCX nor EPUB",
                                  hint: "lf-extract reads pdf, html, docx, epub, md and txt; name the format with --format if it is one of them")
        }
        if looksLikeText(head) { return .text }
        throw ExtractionError(.unsupported, "unknown format: binary data with no known signature",
                              hint: "lf-extract reads pdf, html, docx, epub, md and txt; name the format with --format if it is one of them")
    }

    /// DOCX when the ZIP holds word/document.xml, EPUB when it holds META-INF/container.xml.
    static func zipFormat(path: String, data: [UInt8]?) throws -> DocumentFormat {
        let zip = try ZipArchive(path: path, data: data, kind: "ZIP", maxInflatedBytes: 0, maxEntries: Int.max)
        if zip.contains("word/document.xml") { return .docx }
        if zip.contains("META-INF/container.xml") || zip.contains("mimetype") { return .epub }
        throw ExtractionError(.unsupported, "a ZIP file that is neither DOCX nor EPUB",
                              hint: "lf-extract reads pdf, html, docx, epub, md and txt; name the format with --format if it is one of them")
    }

    /// No NUL bytes (outside UTF-16) and few control characters.
    static func looksLikeText(_ head: [UInt8]) -> Bool {
        let result = head.withUnsafeBytes { raw -> Bool in
            if TextDecoding.byteOrderMark(raw) != nil || TextDecoding.utf16WithoutBOM(raw) != nil { return true }
            var controls = 0
            for b in raw {
                if b == 0 { return false }
                if b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D && b != 0x0C { controls += 1 }
            }
            return controls * 100 <= raw.count
        }
        return result
    }

    /// The sha256 of a file, read in 1 MiB chunks, and its first 4 KiB.
    static func hashFile(_ path: String) throws -> (String, [UInt8]) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ExtractionError(.io, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw ExtractionError(.io, "is a directory")
        }
        var hasher = SHA256()
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExtractionError(.io, "cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if head.count < 4096 { head += buffer[0..<min(n, 4096 - head.count)] }
        }
        return (hex(hasher.finalize()), head)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExtractionError(.io, "cannot read: \(String(cString: strerror(errno)))")
        }
        return [UInt8](data)
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var view = String.UnicodeScalarView()
        for b in digest {
            view.append(digits[Int(b >> 4)])
            view.append(digits[Int(b & 15)])
        }
        return String(view)
    }
}
