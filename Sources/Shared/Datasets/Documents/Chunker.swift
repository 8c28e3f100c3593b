import Foundation

/// How long a chunk may be: in characters (Unicode scalars), or in tokens of a tokenizer.
public enum ChunkUnit {
    case characters
    case tokens(any TextTokenizer)

    public var name: String {
        switch self {
        case .characters: return "characters"
        case .tokens: return "tokens"
        }
    }

    func measure(_ text: String) -> Int {
        switch self {
        case .characters: return TextMeasure.characters(text)
        case .tokens(let tokenizer): return tokenizer.encode(text, parseSpecial: false).count
        }
    }
}

/// Cuts a document into continued-pre-training chunks of at most `size` units that overlap by up
/// to `overlap` units, cutting at paragraph boundaries where possible, else at sentence boundaries,
/// else between words, and only as a last resort inside a word (text without spaces, such as
/// Chinese, is cut at sentence punctuation `。！？` first).
///
/// Pieces (paragraphs, or the sentences and word runs of a paragraph too long to be one piece) are
/// packed greedily into a chunk while it fits; the next chunk starts with as many of the previous
/// chunk's last pieces as fit in `overlap` (never the whole previous chunk, so chunks always
/// advance). A chunk is exactly the document's text between its first and last piece.
public struct DocumentChunker {
    public let size: Int
    public let overlap: Int
    public let unit: ChunkUnit

    public init(size: Int, overlap: Int, unit: ChunkUnit) {
        self.size = size
        self.overlap = overlap
        self.unit = unit
    }

    /// A piece of the document and the whitespace that separates it from the previous piece.
    struct Piece {
        var separator: String
        var text: String
        var length: Int
    }

    public func chunks(_ text: String) -> [String] {
        let pieces = self.pieces(text)
        if pieces.isEmpty { return [] }
        var chunks: [String] = []
        var current: [Piece] = []
        var index = 0
        var carried = 0  // how many of `current`'s first pieces were carried over as overlap
        while index < pieces.count {
            let piece = pieces[index]
            if current.isEmpty || fits(current + [piece]) {
                current.append(piece)
                index += 1
                continue
            }
            if carried > 0 && carried == current.count {
                // The overlap alone leaves no room for the next piece: drop overlap from the front.
                current.removeFirst()
                carried -= 1
                continue
            }
            chunks.append(join(current))
            current = overlapTail(current)
            carried = current.count
        }
        if current.count > carried || chunks.isEmpty { chunks.append(join(current)) }
        return chunks
    }

    private func fits(_ pieces: [Piece]) -> Bool {
        switch unit {
        case .characters:
            var total = 0
            for (i, p) in pieces.enumerated() {
                total += p.length + (i > 0 ? p.separator.unicodeScalars.count : 0)
            }
            return total <= size
        case .tokens:
            return unit.measure(join(pieces)) <= size
        }
    }

    /// The last pieces of a chunk that fit in `overlap`, never all of them.
    private func overlapTail(_ pieces: [Piece]) -> [Piece] {
        guard overlap > 0, pieces.count > 1 else { return [] }
        var tail: [Piece] = []
        for piece in pieces.dropFirst().reversed() {
            let candidate = [piece] + tail
            guard measureJoined(candidate) <= overlap else { break }
            tail = candidate
        }
        return tail
    }

    private func measureJoined(_ pieces: [Piece]) -> Int {
        unit.measure(join(pieces))
    }

    private func join(_ pieces: [Piece]) -> String {
        var out = ""
        for (i, p) in pieces.enumerated() {
            if i > 0 { out += p.separator }
            out += p.text
        }
        return out
    }

    // MARK: - Pieces

    func pieces(_ text: String) -> [Piece] {
        var result: [Piece] = []
        let paragraphs = text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        for paragraph in paragraphs {
            let length = unit.measure(paragraph)
            if length <= size {
                result.append(Piece(separator: "\n\n", text: paragraph, length: length))
                continue
            }
            var first = true
            for sentence in sentences(paragraph) {
                for var part in split(sentence.text) {
                    part.separator = first ? "\n\n" : (part.separator.isEmpty ? sentence.separator : part.separator)
                    first = false
                    result.append(part)
                }
            }
        }
        return result
    }

    /// Sentences of a paragraph with the whitespace before each: a sentence ends after `.`, `!`,
    /// `?`, `…` (with closing quotes or brackets) before whitespace, after `。！？`, or at a line break.
    func sentences(_ paragraph: String) -> [(separator: String, text: String)] {
        var result: [(String, String)] = []
        var current = String.UnicodeScalarView()
        var separator = ""
        var pendingEnd = false
        var whitespace = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { result.append((separator, String(current))) }
            current = String.UnicodeScalarView()
        }
        for s in paragraph.unicodeScalars {
            if s.properties.isWhitespace {
                if pendingEnd || s == "\n" {
                    whitespace.append(s)
                    if !current.isEmpty { flush(); separator = "" }
                    pendingEnd = false
                    continue
                }
                if !whitespace.isEmpty || current.isEmpty { whitespace.append(s); continue }
                current.append(s)
                continue
            }
            if !whitespace.isEmpty {
                separator = String(whitespace)
                whitespace = String.UnicodeScalarView()
            }
            current.append(s)
            switch s {
            case ".", "!", "?", "…": pendingEnd = true
            case "\"", "'", ")", "]", "\u{201D}", "\u{2019}", "»": break  // closing marks keep a pending end
            case "。", "！", "？":
                flush()
                separator = ""
                pendingEnd = false
            default: pendingEnd = false
            }
        }
        flush()
        return result.map { (separator: $0.0, text: $0.1) }
    }

    /// A sentence as pieces no longer than `size`: the sentence itself, else runs of words, else
    /// hard cuts (by characters, or by token ids decoded back to text).
    func split(_ sentence: String) -> [Piece] {
        let length = unit.measure(sentence)
        if length <= size { return [Piece(separator: "", text: sentence, length: length)] }
        let words = sentence.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var result: [Piece] = []
        var run = ""
        func flushRun() {
            if !run.isEmpty {
                result.append(Piece(separator: result.isEmpty ? "" : " ", text: run, length: unit.measure(run)))
                run = ""
            }
        }
        for word in words {
            let candidate = run.isEmpty ? word : run + " " + word
            if unit.measure(candidate) <= size {
                run = candidate
                continue
            }
            flushRun()
            if unit.measure(word) <= size {
                run = word
            } else {
                for (i, cut) in hardCuts(word).enumerated() {
                    result.append(Piece(separator: (i == 0 && !result.isEmpty) ? " " : "", text: cut, length: unit.measure(cut)))
                }
            }
        }
        flushRun()
        return result
    }

    private func hardCuts(_ word: String) -> [String] {
        switch unit {
        case .characters:
            var cuts: [String] = []
            var scalars = String.UnicodeScalarView()
            for s in word.unicodeScalars {
                scalars.append(s)
                if scalars.count == size {
                    cuts.append(String(scalars))
                    scalars = String.UnicodeScalarView()
                }
            }
            if !scalars.isEmpty { cuts.append(String(scalars)) }
            return cuts
        case .tokens(let tokenizer):
            let ids = tokenizer.encode(word, parseSpecial: false)
            return stride(from: 0, to: ids.count, by: max(1, size)).map {
                tokenizer.decode(Array(ids[$0..<min($0 + size, ids.count)]), skipSpecial: false)
            }
        }
    }
}
