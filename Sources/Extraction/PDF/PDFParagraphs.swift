import Foundation

/// A paragraph-sized block of a PDF page.
struct PDFBlock {
    enum Kind: Equatable { case text, heading, listItem }
    var kind: Kind
    var lines: [PDFLine]
    var height: Double { lines.map(\.height).max() ?? 0 }
}

/// Groups a page's lines (reading order, furniture already removed) into paragraphs, headings and
/// list items, from the geometry poppler reports.
///
/// A new block starts when the next line
/// - lies above the previous one or to its right (a new column or a text box),
/// - is further down than the document's line spacing explains,
/// - changes font size (a heading, a footnote),
/// - is indented against the previous line (a paragraph's first line),
/// - follows a short line that ends a sentence,
/// - or begins with a list marker.
enum PDFParagraphs {
    static func group(_ lines: [PDFLine], bodyHeight: Double, linePitch: Double = 1.2) -> [PDFBlock] {
        var blocks: [PDFBlock] = []
        var current: [PDFLine] = []
        var currentRight = 0.0
        func flush() {
            guard !current.isEmpty else { return }
            blocks.append(PDFBlock(kind: kind(of: current, bodyHeight: bodyHeight), lines: current))
            current = []
            currentRight = 0
        }
        for line in lines where !line.isFurniture && !line.isBlank {
            if let previous = current.last {
                let right = max(currentRight, previous.x2, line.x2)
                if startsNewBlock(previous, line, right: right, bodyHeight: bodyHeight, linePitch: linePitch, first: current.first ?? previous) {
                    flush()
                }
            }
            current.append(line)
            currentRight = max(currentRight, line.x2)
        }
        flush()
        return blocks
    }

    /// `linePitch` is the document's usual distance from one line to the next, in line heights
    /// (about 1.2 for single spacing, 2 for double spacing).
    static func startsNewBlock(_ a: PDFLine, _ b: PDFLine, right: Double, bodyHeight: Double, linePitch: Double,
                               first: PDFLine) -> Bool {
        let h = max(a.height, b.height, 1)
        // Above the previous line, or beside it: another column or box.
        if b.y1 < a.y1 - 0.5 * h || b.x1 > a.x2 + h { return true }
        // More space than the line spacing.
        if b.y1 - a.y1 > (linePitch * 1.3 + 0.15) * h { return true }
        // A different font size.
        if abs(a.height - b.height) > 0.18 * h { return true }
        if isListMarker(b.scalars) { return true }
        let isLarge = a.height >= 1.15 * bodyHeight
        // Indented against the previous line: a new paragraph (headings are often centred, so
        // their lines are not compared this way, and list items hang their continuation lines).
        if !isLarge && !isListMarker(first.scalars) && b.x1 - a.x1 > 0.6 * h && b.x1 - a.x1 < 8 * h && a.x1 <= first.x1 + 0.1 * h { return true }
        // A short line that ends a sentence ends its paragraph.
        let width = right - min(a.x1, b.x1)
        if width > 0, right - a.x2 > 0.12 * width, let end = a.scalars.last(where: { $0 != " " }),
           ".:!?;".unicodeScalars.contains(end) || b.scalars.first.map({ $0.properties.isUppercase }) == true {
            return true
        }
        return false
    }

    static func kind(of lines: [PDFLine], bodyHeight: Double) -> PDFBlock.Kind {
        if let first = lines.first, isListMarker(first.scalars) { return .listItem }
        let height = lines.map(\.height).min() ?? 0
        let length = lines.reduce(0) { $0 + $1.scalars.count }
        // Mostly letters, and a word among them: a tall line of dot leaders, digits or a displayed
        // formula is not a heading.
        let letters = lines.reduce(0) { $0 + $1.scalars.filter(Hyphenation.isLetter).count }
        let visible = lines.reduce(0) { $0 + $1.scalars.filter { $0 != " " }.count }
        let hasWord = lines.contains { line in
            var run = 0
            for s in line.scalars { run = Hyphenation.isLetter(s) ? run + 1 : 0; if run >= 3 { return true } }
            return false
        }
        if bodyHeight > 0, height >= 1.15 * bodyHeight, lines.count <= 3, length <= 200, hasWord, letters * 10 >= visible * 6,
           lines.last?.scalars.last(where: { $0 != " " }) != "." {
            return .heading
        }
        return .text
    }

    /// "• ", "◦ ", "▪ ", "– ", "- ", "* ", "1. ", "1) ", "(a) ", "a) ", "iv. " at the start of a line.
    static func isListMarker(_ s: [Unicode.Scalar]) -> Bool {
        var i = 0
        while i < s.count && s[i] == " " { i += 1 }
        guard i < s.count else { return false }
        if "•◦▪■●○‣⁃∙·".unicodeScalars.contains(s[i]) { return true }
        if "-–*".unicodeScalars.contains(s[i]) { return i + 1 < s.count && s[i + 1] == " " }
        var j = i
        if s[j] == "(" { j += 1 }
        let start = j
        while j < s.count && j - start < 4 && (isDigit(s[j]) || (s[j].value >= 0x61 && s[j].value <= 0x7A && j - start < 3)) { j += 1 }
        guard j > start, j + 1 < s.count, s[j] == "." || s[j] == ")", s[j + 1] == " " else { return false }
        let token = s[start..<j]
        // Digits, or a single letter, or a roman numeral: "1.", "a)", "iv.".
        if token.allSatisfy(isDigit) { return true }
        if token.count == 1 { return s[j] == ")" }
        return token.allSatisfy { "ivx".unicodeScalars.contains($0) }
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
}
