import Foundation

/// Cuts a text into pieces of at most `size` Unicode code points, each starting `overlap` code points
/// before the previous one ended, for people who feed lf-format's text mode directly.
///
/// A cut goes at the last paragraph break (blank line) in the second half of the window, else at the
/// last line break, else after the last sentence end (`. ` `! ` `? `), else at the last space, and
/// only inside a word when the window has no space at all. The overlap is moved forward to the next
/// space so that no chunk starts inside a word. Leading and trailing whitespace is trimmed from each
/// piece.
public struct Chunking: Sendable, Equatable {
    public var size: Int
    public var overlap: Int

    public init(size: Int, overlap: Int) {
        self.size = size
        self.overlap = overlap
    }

    public func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        guard size > 0 else { return [text] }
        var pieces: [String] = []
        var start = 0
        while start < s.count {
            // Skip whitespace at the start of a piece.
            while start < s.count && Self.isSpace(s[start]) { start += 1 }
            guard start < s.count else { break }
            var end = min(start + size, s.count)
            if end < s.count {
                end = cut(s, from: start, to: end)
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s[start..<end])
            let piece = String(view).trimmingCharacters(in: .whitespacesAndNewlines)
            if !piece.isEmpty { pieces.append(piece) }
            if end >= s.count { break }
            var next = max(end - overlap, start + 1)
            if overlap > 0 {
                // Start the overlap at a word boundary.
                while next < end && !Self.isSpace(s[next - 1]) { next += 1 }
            }
            start = next
        }
        return pieces
    }

    /// The best place to end a piece that would otherwise end at `limit`.
    private func cut(_ s: [Unicode.Scalar], from start: Int, to limit: Int) -> Int {
        let floor = start + max(1, (limit - start) / 2)
        var lineBreak: Int?, sentence: Int?, space: Int?
        var i = limit
        while i > floor {
            let c = s[i - 1]
            if c == "\n" {
                if i >= 2 && s[i - 2] == "\n" { return i }
                if lineBreak == nil { lineBreak = i }
            } else if Self.isSpace(c) {
                if space == nil { space = i }
                if sentence == nil, i >= 2, ".!?".unicodeScalars.contains(s[i - 2]) { sentence = i }
            }
            i -= 1
        }
        if let lineBreak { return lineBreak }
        if let sentence { return sentence }
        if let space { return space }
        // No space in the second half: look in the first half before cutting a word.
        var j = floor
        while j > start + 1 {
            if Self.isSpace(s[j - 1]) { return j }
            j -= 1
        }
        return limit
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\n" || c == "\t" }
}
