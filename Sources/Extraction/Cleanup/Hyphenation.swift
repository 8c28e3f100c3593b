import Foundation

/// Joins the lines of a paragraph, undoing end-of-line hyphenation.
///
/// "com-" + "pile" becomes "compile"; "trace-" + "based" stays "trace-based" when the document
/// also writes "trace-based" inside a line (a real compound split at its hyphen); "Jean-" +
/// "Pierre" keeps its hyphen (the next line does not start with a lowercase letter). A soft hyphen
/// (U+00AD) at a line end is always removed, and "2023-" + "0379" becomes "2023-0379".
struct Hyphenation {
    /// Lowercased hyphenated compounds seen inside lines, e.g. "trace-based".
    private(set) var compounds = Set<String>()

    /// Records the compounds written inside `line`.
    mutating func learn(_ line: [Unicode.Scalar]) {
        var i = 0
        let n = line.count
        while i < n {
            guard Self.isLetter(line[i]) else { i += 1; continue }
            var j = i
            var hasHyphen = false
            while j < n, Self.isLetter(line[j]) || (Self.isHyphen(line[j]) && j + 1 < n && Self.isLetter(line[j + 1]) && j > i) {
                if Self.isHyphen(line[j]) { hasHyphen = true }
                j += 1
            }
            if hasHyphen {
                var word = String.UnicodeScalarView()
                word.append(contentsOf: line[i..<j])
                let parts = String(word).lowercased().split(whereSeparator: { $0 == "-" || $0 == "\u{2010}" })
                // Every adjacent pair is a compound that may be split at its hyphen.
                for k in 1..<max(parts.count, 1) { compounds.insert(parts[k - 1] + "-" + parts[k]) }
            }
            i = max(j, i + 1)
        }
    }

    /// Appends `next` (a following line of the same paragraph) to `text`.
    func append(_ next: [Unicode.Scalar], to text: inout [Unicode.Scalar]) {
        while let last = text.last, last == " " { text.removeLast() }
        var start = 0
        while start < next.count && next[start] == " " { start += 1 }
        guard start < next.count else { return }
        guard let last = text.last else { text.append(contentsOf: next[start...]); return }
        if Self.isHyphen(last) || last == "\u{00AD}", text.count >= 2, Self.isLetter(text[text.count - 2]) {
            let first = next[start]
            if last == "\u{00AD}" {
                text.removeLast()
            } else if first.properties.isLowercase {
                let left = Self.trailingWord(text.dropLast())
                let right = Self.leadingWord(next[start...])
                if !compounds.contains((left + "-" + right).lowercased()) { text.removeLast() }
            }
            text.append(contentsOf: next[start...])
            return
        }
        // "2023-" + "0379", "ISO-" + "8859": a hyphen after a digit or before a digit or capital
        // joins without a space.
        if Self.isHyphen(last), text.count >= 2, Self.isAlphanumeric(text[text.count - 2]),
           Self.isAlphanumeric(next[start]), !next[start].properties.isLowercase {
            text.append(contentsOf: next[start...])
            return
        }
        text.append(" ")
        text.append(contentsOf: next[start...])
    }

    static func isAlphanumeric(_ s: Unicode.Scalar) -> Bool {
        isLetter(s) || (s.value >= 0x30 && s.value <= 0x39)
    }

    static func isHyphen(_ s: Unicode.Scalar) -> Bool { s == "-" || s == "\u{2010}" }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }
        return s.properties.isAlphabetic
    }

    private static func trailingWord(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.reversed().prefix(while: isLetter).reversed())
        return String(view)
    }

    private static func leadingWord(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(while: isLetter))
        return String(view)
    }
}
