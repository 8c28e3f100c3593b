import Foundation

/// Why a document gave no record. `kind` is what the `--json` summary counts; the message and hint
/// are what a person reads on stderr.
public struct ExtractionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The PDF needs a user password (none, or a wrong one, was given).
        case encrypted
        /// No page has a text layer (scanned or image-only); `pages` lists them.
        case needsOCR = "needs_ocr"
        /// The file is truncated or corrupt: not a readable PDF, ZIP, OOXML or EPUB package.
        case damaged
        /// The file's format is not one lf-extract reads.
        case unsupported
        /// A ZIP entry or the whole container inflates past the limit (a ZIP bomb), or too many entries.
        case tooLarge = "too_large"
        /// The document opened but holds no text at all.
        case empty
        /// Reading the file failed (permissions, a vanished file, a directory).
        case io
        /// With `--isolate`: the child process reading the file died from a signal.
        case crashed
        /// With `--isolate --timeout`: the child process did not finish in time.
        case timeout
    }

    public var kind: Kind
    public var message: String
    public var hint: String?
    /// 1-based page numbers the error is about (pages without a text layer).
    public var pages: [Int]

    public init(_ kind: Kind, _ message: String, hint: String? = nil, pages: [Int] = []) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.pages = pages
    }

    public var description: String {
        hint.map { "\(message)\nhint: \($0)" } ?? message
    }
}

/// "1-3, 7, 9-10" for a sorted list of page numbers.
public func pageRanges(_ pages: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    while i < pages.count {
        var j = i
        while j + 1 < pages.count && pages[j + 1] == pages[j] + 1 { j += 1 }
        parts.append(j > i ? "\(pages[i])-\(pages[j])" : "\(pages[i])")
        i = j + 1
    }
    return parts.joined(separator: ", ")
}
