/// A piece of text on its way through pre-tokenization. `atStart` is true when the piece begins
/// at offset 0 of the original input (Metaspace's `prepend_scheme: first` needs it).
struct Piece {
    var scalars: [Unicode.Scalar]
    var atStart: Bool
}

/// tokenizer.json `pre_tokenizer`: splits normalized text into the pieces the model encodes one by
/// one (HF `tokenizers::pre_tokenizers`).
protocol PreTokenizer: Sendable {
    func preTokenize(_ pieces: [Piece]) -> [Piece]
    /// True if the model sees bytes (ByteLevel): pieces are then encoded as UTF-8 and each byte is a symbol.
    var isByteLevel: Bool { get }
    /// True if this pre-tokenizer only cuts text (no character is added or replaced): then
    /// `forEachPiece` gives the same pieces as ranges, without copying (the fast path).
    var onlySplits: Bool { get }
    /// The pieces of `s[range]` as ranges of `s`, in order (only when `onlySplits`).
    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void)
}

extension PreTokenizer {
    var onlySplits: Bool { false }
    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        preconditionFailure("\(Self.self) rewrites text; use preTokenize")
    }
}

enum PreTokenizerType: String, CaseIterable {
    case byteLevel = "ByteLevel", split = "Split", digits = "Digits", metaspace = "Metaspace"
    case whitespace = "Whitespace", whitespaceSplit = "WhitespaceSplit", punctuation = "Punctuation"
    case bert = "BertPreTokenizer", sequence = "Sequence"
}

/// HF's `SplitDelimiterBehavior`.
enum SplitBehavior: String, CaseIterable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"

    init(_ json: TokenizerJSON, default fallback: SplitBehavior) throws {
        guard let node = json["behavior"] else { self = fallback; return }
        let name = try node.string()
        guard let value = SplitBehavior(rawValue: name) else {
            throw node.error("unknown split behavior \"\(name)\"", hint: "one of " + SplitBehavior.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }
}

enum PreTokenizers {
    static func make(_ json: TokenizerJSON) throws -> PreTokenizer {
        let name = try json.type()
        guard let type = PreTokenizerType(rawValue: name) else {
            throw json.unsupported("pre-tokenizer", name, supported: PreTokenizerType.allCases.map(\.rawValue))
        }
        switch type {
        case .byteLevel:
            return ByteLevelPreTokenizer(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                                         useRegex: try json.bool("use_regex", default: true))
        case .split:
            let pattern = try SplitPattern(json.pattern())
            return SplitPreTokenizer(pattern: pattern, behavior: try SplitBehavior(json, default: .isolated),
                                     invert: try json.bool("invert", default: false))
        case .digits:
            return CharacterSplit(behavior: try json.bool("individual_digits", default: false) ? .isolated : .contiguous) {
                UnicodeClass.of($0).contains(.number)
            }
        case .metaspace:
            let replacement = try json.optionalString("replacement") ?? "\u{2581}"
            guard let scalar = replacement.unicodeScalars.first, replacement.unicodeScalars.count == 1 else {
                throw json.error("the Metaspace replacement must be one character")
            }
            var scheme = try json.optionalString("prepend_scheme")
            if scheme == nil, let add = try json["add_prefix_space"]?.bool() { scheme = add ? "always" : "never" }
            guard let prepend = Metaspace.Prepend(rawValue: scheme ?? "always") else {
                throw json.error("unknown prepend_scheme \"\(scheme ?? "")\"", hint: "always, first or never")
            }
            return Metaspace(replacement: scalar, prepend: prepend, split: try json.bool("split", default: true))
        case .whitespace:
            return WhitespacePreTokenizer()
        case .whitespaceSplit:
            return CharacterSplit(behavior: .removed) { $0.properties.isWhitespace }
        case .punctuation:
            return CharacterSplit(behavior: try SplitBehavior(json, default: .isolated), predicate: isPunctuation)
        case .bert:
            return PreTokenizerSequence(steps: [
                CharacterSplit(behavior: .removed) { $0.properties.isWhitespace },
                CharacterSplit(behavior: .isolated, predicate: isPunctuation),
            ])
        case .sequence:
            return PreTokenizerSequence(steps: try json.required("pretokenizers").array().map(make))
        }
    }

    /// Rust's `char::is_ascii_punctuation || is_punctuation` (HF's `is_punc`).
    @Sendable static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return (0x21...0x2F).contains(c.value) || (0x3A...0x40).contains(c.value) || (0x5B...0x60).contains(c.value) || (0x7B...0x7E).contains(c.value) }
        return UnicodeClass.of(c).contains(.punctuation)
    }

    /// The pieces of `s[range]` for `matches` (relative to the range) under `behavior`, as ranges of `s`.
    /// Isolated, the common case, emits directly; the others go through `split`'s rules.
    static func emitPieces(_ range: Range<Int>, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool,
                           _ emit: (Range<Int>) -> Void) {
        let base = range.lowerBound, n = range.count
        guard n > 0 else { return }
        if behavior == .isolated {
            var previous = 0
            for m in matches {
                if previous < m.lowerBound { emit((base + previous)..<(base + m.lowerBound)) }
                emit((base + m.lowerBound)..<(base + m.upperBound))
                previous = m.upperBound
            }
            if previous < n { emit((base + previous)..<(base + n)) }
            return
        }
        split(count: n, matches: matches, behavior: behavior, invert: invert) { r in
            emit((base + r.lowerBound)..<(base + r.upperBound))
        }
    }

    /// Applies a split behaviour to `piece` given its matches (in order, non-overlapping), as
    /// `NormalizedString::split` does: the text is cut into matches and the gaps between them,
    /// matches are merged or removed as the behaviour says, and empty pieces are dropped.
    static func split(_ piece: Piece, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool, into out: inout [Piece]) {
        split(count: piece.scalars.count, matches: matches, behavior: behavior, invert: invert) { r in
            out.append(Piece(scalars: Array(piece.scalars[r]), atStart: piece.atStart && r.lowerBound == 0))
        }
    }

    /// The ranges of the pieces of a text of `count` scalars.
    static func split(count n: Int, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool, _ emit: (Range<Int>) -> Void) {
        guard n > 0 else { return }
        // (range, isMatch) covering the whole piece.
        var parts: [(Range<Int>, Bool)] = []
        parts.reserveCapacity(matches.count * 2 + 1)
        var previous = 0
        for m in matches {
            if previous < m.lowerBound { parts.append((previous..<m.lowerBound, invert)) }
            parts.append((m, !invert))
            previous = m.upperBound
        }
        if previous < n { parts.append((previous..<n, invert)) }

        var kept: [Range<Int>] = []
        kept.reserveCapacity(parts.count)
        switch behavior {
        case .removed:
            kept = parts.filter { !$0.1 }.map(\.0)
        case .isolated:
            kept = parts.map(\.0)
        case .contiguous:
            var previousMatch = false
            for (i, (range, isMatch)) in parts.enumerated() {
                if i > 0, isMatch == previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for (range, isMatch) in parts {
                if isMatch, !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (range, isMatch) in parts.reversed() {
                if isMatch, !previousMatch, let last = kept.last {
                    kept[kept.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    kept.append(range)
                }
                previousMatch = isMatch
            }
            kept.reverse()
        }
        for r in kept where !r.isEmpty { emit(r) }
    }
}

/// `ByteLevel`: optionally prepends a space, optionally splits with GPT-2's regex; the model then
/// works on the UTF-8 bytes of each piece.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    // Force-unwrapped: the GPT-2 regex is a compile-time constant that the scanner recognises.
    static let gpt2 = try! SplitPattern(.regex(SplitPattern.gpt2Regex))

    var isByteLevel: Bool { true }
    var onlySplits: Bool { !addPrefixSpace }

    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        guard useRegex else { if !range.isEmpty { emit(range) }; return }
        let base = range.lowerBound
        Self.gpt2.forEachMatch(in: UnsafeBufferPointer(rebasing: s[range])) { emit((base + $0.lowerBound)..<(base + $0.upperBound)) }
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        out.reserveCapacity(pieces.count * 4)
        for var piece in pieces {
            if addPrefixSpace, piece.scalars.first != " " { piece.scalars.insert(" ", at: 0) }
            guard useRegex else { out.append(piece); continue }
            var matches: [Range<Int>] = []
            piece.scalars.withUnsafeBufferPointer { s in Self.gpt2.forEachMatch(in: s) { matches.append($0) } }
            PreTokenizers.split(piece, matches: matches, behavior: .isolated, invert: false, into: &out)
        }
        return out
    }
}

/// `Split`: a regex or literal pattern with a behaviour.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: SplitPattern
    let behavior: SplitBehavior
    let invert: Bool
    var isByteLevel: Bool { false }
    var onlySplits: Bool { true }

    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        if behavior == .isolated, !invert, pattern.isScanner {
            // Scanner patterns match every character, so the matches are the pieces.
            let base = range.lowerBound
            pattern.forEachMatch(in: UnsafeBufferPointer(rebasing: s[range])) { emit((base + $0.lowerBound)..<(base + $0.upperBound)) }
            return
        }
        var matches: [Range<Int>] = []
        pattern.forEachMatch(in: UnsafeBufferPointer(rebasing: s[range])) { matches.append($0) }
        PreTokenizers.emitPieces(range, matches: matches, behavior: behavior, invert: invert, emit)
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        out.reserveCapacity(pieces.count * 4)
        for piece in pieces {
            var matches: [Range<Int>] = []
            piece.scalars.withUnsafeBufferPointer { s in pattern.forEachMatch(in: s) { matches.append($0) } }
            PreTokenizers.split(piece, matches: matches, behavior: behavior, invert: invert, into: &out)
        }
        return out
    }
}

/// Splits where a character predicate holds, each such character being one match (Digits,
/// WhitespaceSplit, Punctuation).
struct CharacterSplit: PreTokenizer {
    let behavior: SplitBehavior
    let predicate: @Sendable (Unicode.Scalar) -> Bool
    var isByteLevel: Bool { false }
    var onlySplits: Bool { true }

    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        switch behavior {
        case .isolated:
            var start = range.lowerBound
            for i in range where predicate(s[i]) {
                if start < i { emit(start..<i) }
                emit(i..<(i + 1))
                start = i + 1
            }
            if start < range.upperBound { emit(start..<range.upperBound) }
        default:
            var matches: [Range<Int>] = []
            for i in range where predicate(s[i]) { matches.append((i - range.lowerBound)..<(i - range.lowerBound + 1)) }
            PreTokenizers.emitPieces(range, matches: matches, behavior: behavior, invert: false, emit)
        }
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        out.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            var matches: [Range<Int>] = []
            for (i, c) in piece.scalars.enumerated() where predicate(c) { matches.append(i..<(i + 1)) }
            PreTokenizers.split(piece, matches: matches, behavior: behavior, invert: false, into: &out)
        }
        return out
    }
}

/// `Whitespace`: the runs of `\w+|[^\w\s]+`, whitespace dropped.
struct WhitespacePreTokenizer: PreTokenizer {
    var isByteLevel: Bool { false }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for piece in pieces {
            var matches: [Range<Int>] = []
            let s = piece.scalars
            var i = 0
            while i < s.count {
                let c = UnicodeClass.of(s[i])
                if c.contains(.space) { i += 1; continue }
                let word = c.contains(.word)
                var j = i + 1
                while j < s.count {
                    let d = UnicodeClass.of(s[j])
                    if d.contains(.space) || d.contains(.word) != word { break }
                    j += 1
                }
                matches.append(i..<j)
                i = j
            }
            PreTokenizers.split(piece, matches: matches, behavior: .removed, invert: true, into: &out)
        }
        return out
    }
}

/// `Metaspace`: spaces become `▁`, a `▁` is prepended as the scheme says, and (with `split`) each
/// piece starts at a `▁`.
struct Metaspace: PreTokenizer {
    enum Prepend: String { case always, first, never }
    let replacement: Unicode.Scalar
    let prepend: Prepend
    let split: Bool
    var isByteLevel: Bool { false }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for var piece in pieces {
            piece.scalars = piece.scalars.map { $0 == " " ? replacement : $0 }
            let shouldPrepend = prepend == .always || (prepend == .first && piece.atStart)
            if shouldPrepend, piece.scalars.first != replacement { piece.scalars.insert(replacement, at: 0) }
            guard split else { out.append(piece); continue }
            let matches = piece.scalars.indices.filter { piece.scalars[$0] == replacement }.map { $0..<($0 + 1) }
            PreTokenizers.split(piece, matches: matches, behavior: .mergedWithNext, invert: false, into: &out)
        }
        return out
    }
}

struct PreTokenizerSequence: PreTokenizer {
    let steps: [PreTokenizer]
    var isByteLevel: Bool { steps.contains { $0.isByteLevel } }
    var onlySplits: Bool { steps.allSatisfy(\.onlySplits) }

    func forEachPiece(in s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        func run(_ step: Int, _ r: Range<Int>) {
            if step == steps.count { emit(r); return }
            steps[step].forEachPiece(in: s, r) { run(step + 1, $0) }
        }
        run(0, range)
    }

    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        steps.reduce(pieces) { $1.preTokenize($0) }
    }
}
