import Foundation
import Shared

/// Plain text: decoded (BOM, UTF-8, UTF-16, windows-1251, Latin-1 fallback), CRLF → LF, NFC, and
/// hard-wrapped prose reflowed into one line per paragraph.
///
/// Files are streamed: the encoding and the wrap width come from the first 64 KiB, then the file
/// is read in pieces cut at line ends (a newline byte never sits inside a character in UTF-8, the
/// single-byte encodings or the ASCII-compatible CJK ones; in UTF-16 the cut follows a whole
/// newline code unit), and each piece is decoded, cleaned and reflowed before the next is read. So
/// memory holds the output text and one piece, not the file and its copies.
enum PlainTextExtractor {
    static let sampleSize = 1 << 16

    static func extract(_ bytes: [UInt8], options: ExtractionOptions) throws -> ExtractedDocument {
        var position = 0
        return try extract(options: options) { buffer in
            let n = min(buffer.count, bytes.count - position)
            for i in 0..<n { buffer[i] = bytes[position + i] }
            position += n
            return n
        }
    }

    static func extract(path: String, options: ExtractionOptions, pieceSize: Int = 1 << 20) throws -> ExtractedDocument {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ExtractionError(.io, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try extract(options: options, pieceSize: pieceSize) { buffer in
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n >= 0 { return n }
                if errno != EINTR { throw ExtractionError(.io, "cannot read: \(String(cString: strerror(errno)))") }
            }
        }
    }

    /// `read` fills the front of its buffer and returns the byte count, 0 at the end.
    static func extract(options: ExtractionOptions, pieceSize: Int = 1 << 20,
                        read: (inout [UInt8]) throws -> Int) throws -> ExtractedDocument {
        var chunk = [UInt8](repeating: 0, count: max(pieceSize, 16))
        // The sample decides the encoding and the wrap width.
        var pending: [UInt8] = []
        var atEnd = false
        while pending.count < sampleSize && !atEnd {
            let n = try read(&chunk)
            if n == 0 { atEnd = true } else { pending += chunk[0..<n] }
        }
        let decision = pending.withUnsafeBytes { raw -> (label: String, bom: Int, evidence: String) in
            if let forced = options.encoding { return (TextDecoding.canonicalLabel(forced), 0, "forced") }
            if let (label, length) = TextDecoding.byteOrderMark(raw) { return (label, length, "bom") }
            // An unfinished character at the end of the sample is not evidence against UTF-8.
            var sample = UnsafeRawBufferPointer(rebasing: raw[...])
            if !atEnd { sample = UnsafeRawBufferPointer(rebasing: raw[..<TextDecoding.utf8Boundary(raw)]) }
            return (TextDecoding.detect(sample), 0, "detected")
        }
        pending.removeFirst(decision.bom)
        let unit = decision.label.hasPrefix("utf-32") ? 4 : (decision.label.hasPrefix("utf-16") ? 2 : 1)

        var reflow = Reflower(sample: try decodeForSample(pending, label: decision.label))
        var carriedCR = false
        while true {
            // Every pass reads (until the end), so a file without newlines still makes progress.
            if !atEnd {
                let n = try read(&chunk)
                if n == 0 { atEnd = true } else { pending += chunk[0..<n] }
                if !atEnd && pending.count < pieceSize { continue }
            }
            // Cut after the last newline of what is pending (all of it at the end of the file).
            var cut = pending.count
            if !atEnd {
                cut = lastNewlineEnd(pending, label: decision.label)
                // No newline in a whole piece: cut anyway at a character boundary.
                if cut == 0 { cut = pending.count < 4 * pieceSize ? 0 : characterBoundary(pending, unit: unit, label: decision.label) }
                if cut == 0 { continue }
            }
            let piece = try pending.withUnsafeBytes { try TextDecoding.convert(UnsafeRawBufferPointer(rebasing: $0[..<cut]), from: decision.label) }
            pending.removeFirst(cut)
            var text = piece
            // A CR ending the previous piece and an LF starting this one are one line break.
            if carriedCR, text.unicodeScalars.first == "\n" { text.unicodeScalars.removeFirst() }
            carriedCR = text.unicodeScalars.last == "\r"
            reflow.feed(TextCleanup.clean(text))
            if atEnd && pending.isEmpty { break }
        }
        var meta: [(String, JSONValue)] = [("encoding", .string(decision.label))]
        if decision.evidence == "detected" && decision.label != "utf-8" {
            meta.append(("encoding_detected", .bool(true)))
        }
        return ExtractedDocument(format: .text, text: reflow.finish(), meta: meta)
    }

    private static func decodeForSample(_ bytes: [UInt8], label: String) throws -> String {
        let prefix = bytes.prefix(sampleSize)
        return TextCleanup.clean(try prefix.withUnsafeBytes { try TextDecoding.convert($0, from: label) })
    }

    /// The offset just past the last newline in `bytes` (0 when there is none).
    static func lastNewlineEnd(_ bytes: [UInt8], label: String) -> Int {
        switch label {
        case "utf-16le":
            var i = (bytes.count & ~1) - 2
            while i >= 0 { if bytes[i] == 0x0A && bytes[i + 1] == 0 { return i + 2 }; i -= 2 }
        case "utf-16be":
            var i = (bytes.count & ~1) - 2
            while i >= 0 { if bytes[i] == 0 && bytes[i + 1] == 0x0A { return i + 2 }; i -= 2 }
        case "utf-32le", "utf-32be":
            var i = (bytes.count & ~3) - 4
            let le = label == "utf-32le"
            while i >= 0 {
                if (le && bytes[i] == 0x0A && bytes[i + 1] == 0 && bytes[i + 2] == 0 && bytes[i + 3] == 0)
                    || (!le && bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 0 && bytes[i + 3] == 0x0A) { return i + 4 }
                i -= 4
            }
        default:
            if let i = bytes.lastIndex(of: 0x0A) { return i + 1 }
        }
        return 0
    }

    /// A cut that does not split a character: a UTF-8 lead byte, an even UTF-16 offset that does
    /// not split a surrogate pair, a whole UTF-32 unit, or any byte of a single-byte encoding.
    static func characterBoundary(_ bytes: [UInt8], unit: Int, label: String) -> Int {
        var cut = bytes.count - bytes.count % unit
        if unit == 2 && cut >= 2 {
            let high = label == "utf-16le" ? bytes[cut - 1] : bytes[cut - 2]
            if high >= 0xD8 && high <= 0xDB { cut -= 2 }
        } else if unit == 1 && label == "utf-8" {
            cut = bytes.withUnsafeBytes { TextDecoding.utf8Boundary($0) }
        }
        return cut
    }
}

/// Reflow of hard-wrapped text, fed line by line so that a file can be streamed through it.
///
/// The wrap width is the length that the longest lines reach (the 90th percentile of line lengths
/// in the sample); texts whose lines are short (under 40 characters) are left as they are. Inside
/// a paragraph (lines between blank lines), a line is joined to the next when it was evidently
/// broken for width: the next line's first word would not have fit on it. Short lines — verse,
/// lists, addresses, headings — keep their breaks, and so does a line that starts like a list item
/// or is indented (code). Hyphenated line ends are joined as in PDFs. Runs of blank lines become one.
struct Reflower {
    private let width: Int?
    private var hyphenation = Hyphenation()
    private var output = ""
    private var current: [Unicode.Scalar]?
    private var previousLength = 0
    private var previousIsCode = false
    private var blankPending = false
    private var partialLine = ""

    init(sample: String) {
        let lines = sample.split(separator: "\n", omittingEmptySubsequences: false)
        let lengths = lines.map { $0.unicodeScalars.count }.filter { $0 > 0 }.sorted()
        let w = lengths.isEmpty ? 0 : lengths[min(lengths.count - 1, lengths.count * 9 / 10)]
        width = lengths.count >= 4 && w >= 40 ? w : nil
        for line in lines { hyphenation.learn(Array(line.unicodeScalars)) }
    }

    /// Feeds text; a last line without its newline waits for the next call.
    mutating func feed(_ text: String) {
        var lines = (partialLine + text).split(separator: "\n", omittingEmptySubsequences: false)
        partialLine = lines.isEmpty ? "" : String(lines.removeLast())
        for line in lines { add(String(line)) }
    }

    /// The reflowed text.
    mutating func finish() -> String {
        if !partialLine.isEmpty { add(partialLine); partialLine = "" }
        flushParagraph()
        return output
    }

    private mutating func add(_ line: String) {
        var scalars = Array(line.unicodeScalars)
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        let isCode = line.hasPrefix("    ") || line.hasPrefix("\t")
        defer {
            previousLength = scalars.count
            previousIsCode = isCode
        }
        if scalars.isEmpty {
            flushParagraph()
            blankPending = !output.isEmpty
            return
        }
        guard var paragraph = current else {
            current = scalars
            return
        }
        let firstWord = scalars.drop(while: { $0 == " " }).prefix(while: { $0 != " " }).count
        if let width, previousLength + 1 + firstWord > width - 2, !Self.startsBlock(line), !previousIsCode {
            hyphenation.append(scalars, to: &paragraph)
        } else {
            paragraph.append("\n")
            paragraph.append(contentsOf: scalars)
        }
        current = paragraph
    }

    private mutating func flushParagraph() {
        guard let paragraph = current else { return }
        if !output.isEmpty { output += blankPending ? "\n\n" : "\n" }
        blankPending = false
        var view = String.UnicodeScalarView()
        view.append(contentsOf: paragraph)
        output += String(view)
        current = nil
    }

    /// A line that begins a list item, a table row, a heading, or is indented (code, verse).
    private static func startsBlock(_ line: String) -> Bool {
        if line.hasPrefix("    ") || line.hasPrefix("\t") { return true }
        let t = line.drop(while: { $0 == " " })
        if t.hasPrefix("- ") || t.hasPrefix("* ") || t.hasPrefix("• ") || t.hasPrefix("|") || t.hasPrefix("#") { return true }
        // "1. ", "a) ", "12) "
        let marker = t.prefix(while: { $0.isNumber || $0.isLetter })
        guard !marker.isEmpty, marker.count <= 3, marker.allSatisfy({ $0.isNumber }) || marker.count == 1 else { return false }
        let rest = t.dropFirst(marker.count)
        return rest.hasPrefix(". ") || rest.hasPrefix(") ")
    }
}

enum Reflow {
    /// Reflows a whole text (see `Reflower`).
    static func paragraphs(_ text: String) -> String {
        var r = Reflower(sample: String(text.unicodeScalars.prefix(PlainTextExtractor.sampleSize)))
        r.feed(text)
        return r.finish()
    }
}
