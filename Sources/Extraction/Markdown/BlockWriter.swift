import Foundation

/// A structured block of a document, as HTML, EPUB and DOCX readers produce them.
enum Block: Equatable {
    case heading(level: Int, text: String)
    /// A paragraph; `lines` are kept apart where the source had hard line breaks (`<br>`, verse).
    case paragraph(lines: [String], indent: Int, quote: Int)
    /// A list item at nesting `depth` (0 = top level) with its marker (`-`, `1.`, `a)`).
    case listItem(depth: Int, marker: String, lines: [String], quote: Int)
    case code(language: String?, text: String)
    case table(rows: [[String]])
}

/// Collects inline text with HTML's whitespace rules and turns finished blocks into Markdown.
struct BlockWriter {
    private(set) var blocks: [Block] = []
    private var lines: [String] = []
    private var current = String.UnicodeScalarView()
    private var pendingSpace = false

    /// True when no inline text is waiting.
    var isEmpty: Bool { lines.isEmpty && current.isEmpty }

    /// Appends running text: whitespace runs become one space; `preformatted` keeps it as it is.
    mutating func text(_ s: String, preformatted: Bool = false) {
        if preformatted {
            for scalar in s.unicodeScalars {
                if scalar == "\n" { lineBreak(force: true) } else { current.append(scalar) }
            }
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r", "\u{0C}":
                pendingSpace = true
            default:
                if pendingSpace && !current.isEmpty { current.append(" ") }
                pendingSpace = false
                current.append(scalar)
            }
        }
    }

    /// A separator between inline runs that must not touch (table cells, `<td>`s of a layout table).
    mutating func space() { pendingSpace = true }

    /// A hard line break (`<br>`).
    mutating func lineBreak(force: Bool = false) {
        let line = String(current)
        if force || !line.isEmpty || !lines.isEmpty { lines.append(line) }
        current = String.UnicodeScalarView()
        pendingSpace = false
    }

    /// Takes the waiting inline text (lines trimmed, empty trailing lines dropped).
    mutating func takeLines(preformatted: Bool = false) -> [String] {
        if !current.isEmpty || preformatted { lines.append(String(current)) }
        current = String.UnicodeScalarView()
        pendingSpace = false
        var out = lines
        lines = []
        if !preformatted {
            out = out.map { $0.trimmingCharacters(in: .whitespaces) }
            while let last = out.last, last.isEmpty { out.removeLast() }
            while let first = out.first, first.isEmpty { out.removeFirst() }
        }
        return out
    }

    /// Ends the waiting text as a paragraph (nothing if it is empty).
    mutating func endParagraph(indent: Int = 0, quote: Int = 0) {
        let taken = takeLines()
        guard !taken.isEmpty else { return }
        blocks.append(.paragraph(lines: taken, indent: indent, quote: quote))
    }

    mutating func append(_ block: Block) { blocks.append(block) }

    /// The blocks as Markdown: blank lines between blocks, items of one list on consecutive lines.
    static func render(_ blocks: [Block]) -> String {
        var out = ""
        var previousWasItem = false
        for block in blocks {
            let rendered: String
            var isItem = false
            switch block {
            case .heading(let level, let text):
                let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !t.isEmpty else { continue }
                rendered = String(repeating: "#", count: max(1, min(level, 6))) + " " + t.replacingOccurrences(of: "\n", with: " ")
            case .paragraph(let lines, let indent, let quote):
                let nonEmpty = lines.contains { !$0.isEmpty }
                guard nonEmpty else { continue }
                let pad = String(repeating: "  ", count: indent)
                let q = String(repeating: "> ", count: quote)
                rendered = lines.map { q + pad + $0 }.joined(separator: "\n")
            case .listItem(let depth, let marker, let lines, let quote):
                guard let first = lines.first, lines.contains(where: { !$0.isEmpty }) else { continue }
                isItem = true
                let pad = String(repeating: "  ", count: depth)
                let q = String(repeating: "> ", count: quote)
                let hang = String(repeating: " ", count: marker.unicodeScalars.count + 1)
                rendered = ([q + pad + marker + " " + first] + lines.dropFirst().map { q + pad + hang + $0 }).joined(separator: "\n")
            case .code(let language, let text):
                let body = text.trimmingCharacters(in: .newlines)
                guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
                let fence = body.contains("```") ? "~~~~" : "```"
                rendered = fence + (language ?? "") + "\n" + body + "\n" + fence
            case .table(let rows):
                guard let r = renderTable(rows) else { continue }
                rendered = r
            }
            if !out.isEmpty { out += (isItem && previousWasItem) ? "\n" : "\n\n" }
            out += rendered
            previousWasItem = isItem
        }
        return out
    }

    /// A GitHub-style pipe table; the first row is the header. Nil when no cell has text.
    static func renderTable(_ rows: [[String]]) -> String? {
        let cleaned = rows.map { row in row.map { cell in
            cell.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
                .trimmingCharacters(in: .whitespaces)
        } }.filter { !$0.isEmpty }
        guard cleaned.contains(where: { $0.contains { !$0.isEmpty } }) else { return nil }
        let columns = cleaned.map(\.count).max() ?? 0
        // A one-column table is a list of lines, not a table.
        if columns == 1 { return cleaned.compactMap { $0.first }.filter { !$0.isEmpty }.joined(separator: "\n\n") }
        var lines: [String] = []
        for (i, row) in cleaned.enumerated() {
            let padded = row + Array(repeating: "", count: columns - row.count)
            lines.append("| " + padded.joined(separator: " | ") + " |")
            if i == 0 { lines.append("|" + Array(repeating: " --- |", count: columns).joined()) }
        }
        return lines.joined(separator: "\n")
    }
}
