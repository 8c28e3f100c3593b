/// tokenizer.json `added_tokens`: tokens matched in the text before any splitting (`<|im_end|>`),
/// with HF's options: `special`, `normalized` (matched after normalization), `lstrip`/`rstrip`
/// (swallow the whitespace beside them), `single_word` (only between non-word characters).
struct AddedToken: Sendable {
    var id: Int32
    var content: String
    var special: Bool
    var normalized: Bool
    var lstrip: Bool
    var rstrip: Bool
    var singleWord: Bool
}

/// A piece of input after added tokens are taken out: either text still to be tokenized, or an
/// added token's id.
enum Segment {
    case text([Unicode.Scalar], atStart: Bool)
    case token(Int32)
}

struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let byID: [Int32: AddedToken]
    let byContent: TokenTable
    private let raw: TokenMatcher
    private let normalized: TokenMatcher
    /// The normalized content of `normalized` tokens, which is what HF decodes them to.
    private let normalizedContent: [Int32: String]

    init(_ tokens: [AddedToken], normalizer: Normalizer?) {
        self.tokens = tokens
        byID = Dictionary(tokens.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        var table = TokenTable(expectedCount: tokens.count)
        for token in tokens { table.set(token.content, token.id) }
        byContent = table
        raw = TokenMatcher(tokens.filter { !$0.normalized }.map { ($0, Array($0.content.unicodeScalars)) })
        normalized = TokenMatcher(tokens.filter(\.normalized).map { token in
            let content = normalizer?.normalize(token.content) ?? token.content
            return (token, Array(content.unicodeScalars))
        })
        normalizedContent = Dictionary(tokens.filter(\.normalized).map { ($0.id, normalizer?.normalize($0.content) ?? $0.content) },
                                       uniquingKeysWith: { _, last in last })
    }

    /// The text an added token decodes to.
    func decodedContent(_ token: AddedToken) -> String {
        normalizedContent[token.id] ?? token.content
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// HF's `extract_and_normalize`: added tokens are found in the raw text, the rest is normalized,
    /// then normalized added tokens are found in it. With `parseSpecial` false, special tokens are
    /// not matched (they are tokenized as text), other added tokens still are.
    func segments(of text: String, normalizer: Normalizer?, parseSpecial: Bool) -> [Segment] {
        var out: [Segment] = []
        let scalars = Array(text.unicodeScalars)
        for first in raw.split(scalars, parseSpecial: parseSpecial, atStart: true) {
            guard case .text(let piece, let atStart) = first else { out.append(first); continue }
            let normal = normalizer.map { Array($0.normalize(String(String.UnicodeScalarView(piece))).unicodeScalars) } ?? piece
            out += normalized.split(normal, parseSpecial: parseSpecial, atStart: atStart)
        }
        return out
    }
}

/// Leftmost-longest matching of a set of token strings (what HF builds with Aho-Corasick),
/// indexed by first character.
struct TokenMatcher: Sendable {
    /// first scalar → candidates, longest first.
    private let candidates: [Unicode.Scalar: [(AddedToken, [Unicode.Scalar])]]
    /// Bit `v & 1023` is set when some token starts with a scalar whose value is `v` (mod 1024):
    /// most characters of ordinary text are rejected with one load, before any hashing.
    private let firstBits: [UInt64]

    init(_ entries: [(AddedToken, [Unicode.Scalar])]) {
        var map: [Unicode.Scalar: [(AddedToken, [Unicode.Scalar])]] = [:]
        var bits = [UInt64](repeating: 0, count: 16)
        for entry in entries where !entry.1.isEmpty {
            map[entry.1[0], default: []].append(entry)
            let v = Int(entry.1[0].value & 1023)
            bits[v >> 6] |= 1 << UInt64(v & 63)
        }
        candidates = map.mapValues { $0.sorted { $0.1.count > $1.1.count } }
        firstBits = bits
    }

    @inline(__always)
    private func mayStartToken(_ c: Unicode.Scalar) -> Bool {
        let v = Int(c.value & 1023)
        return firstBits[v >> 6] & (1 << UInt64(v & 63)) != 0
    }

    func split(_ s: [Unicode.Scalar], parseSpecial: Bool, atStart: Bool) -> [Segment] {
        guard !candidates.isEmpty, !s.isEmpty else { return s.isEmpty ? [] : [.text(s, atStart: atStart)] }
        var out: [Segment] = []
        var emitted = 0  // end of what has been emitted
        var i = 0
        while i < s.count {
            guard mayStartToken(s[i]), let options = candidates[s[i]],
                  let (token, content) = options.first(where: { i + $0.1.count <= s.count && s[i..<(i + $0.1.count)].elementsEqual($0.1) })
            else { i += 1; continue }
            var start = i, stop = i + content.count
            // A special token is plain text unless specials are parsed; the matcher moves on past it.
            if token.special && !parseSpecial { i = stop; continue }
            if token.singleWord {
                let wordBefore = start > 0 && Self.isWordCharacter(s[start - 1])
                let wordAfter = stop < s.count && Self.isWordCharacter(s[stop])
                if wordBefore || wordAfter { i = stop; continue }
            }
            if token.lstrip {
                var k = start
                while k > emitted, s[k - 1].properties.isWhitespace { k -= 1 }
                start = k
            }
            if token.rstrip {
                while stop < s.count, s[stop].properties.isWhitespace { stop += 1 }
            }
            if emitted < start { out.append(.text(Array(s[emitted..<start]), atStart: atStart && emitted == 0)) }
            out.append(.token(token.id))
            emitted = stop
            i = stop
        }
        if emitted < s.count { out.append(.text(Array(s[emitted...]), atStart: atStart && emitted == 0)) }
        return out
    }

    /// `\w` (letters, marks, decimal digits, connector punctuation), HF's word test for `single_word`.
    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        UnicodeClass.of(c).contains(.word)
    }
}
