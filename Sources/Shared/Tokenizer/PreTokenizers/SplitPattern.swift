import Foundation

/// A pattern that finds non-overlapping matches in a run of Unicode scalars, leftmost first, as
/// the regex engine of HF tokenizers (Oniguruma) does.
///
/// The split regexes of GPT-2, Llama 3 and Qwen2 (and their kin) are recognised by their exact text
/// and run as hand-written scanners over a category table; any other regex runs through ICU
/// (NSRegularExpression), and a `{"String": …}` pattern is a literal search.
public struct SplitPattern: Sendable {
    public enum Source: Equatable, Sendable {
        case literal(String)
        case regex(String)
    }

    enum Engine: Sendable {
        case gpt2
        /// Llama 3 (numbers in runs of at most 3) and Qwen2 (single numbers).
        case llama3(maxDigits: Int)
        case literal([Unicode.Scalar])
        case icu(NSRegularExpressionBox)
    }

    let engine: Engine
    public let source: Source

    public static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    public static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    public static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    public init(_ source: Source) throws {
        self.source = source
        switch source {
        case .literal(let s):
            engine = .literal(Array(s.unicodeScalars))
        case .regex(Self.gpt2Regex):
            engine = .gpt2
        case .regex(Self.llama3Regex):
            engine = .llama3(maxDigits: 3)
        case .regex(Self.qwen2Regex):
            engine = .llama3(maxDigits: 1)
        case .regex(let pattern):
            engine = .icu(try NSRegularExpressionBox(pattern))
        }
    }

    /// The general ICU path for any regex, even one a scanner knows (tests compare the two).
    init(icu pattern: String) {
        source = .regex(pattern)
        engine = .icu(try! NSRegularExpressionBox(pattern))
    }

    /// Whether this pattern runs as a hand-written scanner (the fast path).
    public var isScanner: Bool {
        switch engine {
        case .gpt2, .llama3: true
        case .literal, .icu: false
        }
    }

    /// Calls `body` with each match range, in order.
    func forEachMatch(in s: UnsafeBufferPointer<Unicode.Scalar>, _ body: (Range<Int>) -> Void) {
        switch engine {
        case .gpt2:
            var i = 0
            while i < s.count {
                let end = Self.gpt2Match(s, at: i)
                body(i..<end)
                i = end
            }
        case .llama3(let maxDigits):
            var i = 0
            while i < s.count {
                let end = Self.llama3Match(s, at: i, maxDigits: maxDigits)
                body(i..<end)
                i = end
            }
        case .literal(let needle):
            guard !needle.isEmpty, needle.count <= s.count else { return }
            var i = 0
            while i + needle.count <= s.count {
                if s[i] == needle[0] && (1..<needle.count).allSatisfy({ s[i + $0] == needle[$0] }) {
                    body(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
        case .icu(let box):
            box.forEachMatch(in: s, body)
        }
    }

    // MARK: - Scanners

    @inline(__always) static func cls(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int) -> UnicodeClass {
        UnicodeClass.of(s[i])
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` at i (case-insensitively when asked); returns the end or nil.
    @inline(__always)
    static func contraction(_ s: UnsafeBufferPointer<Unicode.Scalar>, at i: Int, ignoreCase: Bool) -> Int? {
        guard s[i] == "'", i + 1 < s.count else { return nil }
        func lower(_ k: Int) -> UInt32? {
            guard k < s.count else { return nil }
            let v = s[k].value
            if ignoreCase, v >= 0x41, v <= 0x5A { return v + 0x20 }
            if ignoreCase, v == 0x17F { return 0x73 }  // ſ folds to s
            return v
        }
        switch lower(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return i + 2                             // s t m d
        case 0x72: return lower(i + 2) == 0x65 ? i + 3 : nil                   // re
        case 0x76: return lower(i + 2) == 0x65 ? i + 3 : nil                   // ve
        case 0x6C: return lower(i + 2) == 0x6C ? i + 3 : nil                   // ll
        default: return nil
        }
    }

    /// The end of the run of characters from `i` whose class intersects `c`.
    @inline(__always)
    static func run(_ s: UnsafeBufferPointer<Unicode.Scalar>, from i: Int, _ c: UnicodeClass) -> Int {
        var j = i
        while j < s.count, !cls(s, j).isDisjoint(with: c) { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at i (s[i] is whitespace): the whitespace run, minus its last character when
    /// a non-space follows and the run is longer than one.
    @inline(__always)
    static func trailingSpace(_ s: UnsafeBufferPointer<Unicode.Scalar>, at i: Int) -> Int {
        let j = run(s, from: i, .space)
        if j == s.count || j - i == 1 { return j }
        return j - 1
    }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    static func gpt2Match(_ s: UnsafeBufferPointer<Unicode.Scalar>, at i: Int) -> Int {
        if let end = contraction(s, at: i, ignoreCase: false) { return end }
        let c = cls(s, i)
        // ` ?X+` for the three classes: an optional U+0020, then one class's run.
        var start = i
        var head = c
        if s[i] == " ", i + 1 < s.count {
            let next = cls(s, i + 1)
            if !next.contains(.space) {
                start = i + 1
                head = next
            }
        }
        if head.contains(.letter) { return run(s, from: start, .letter) }
        if head.contains(.number) { return run(s, from: start, .number) }
        if !head.contains(.space) { return runOfOther(s, from: start) }
        return trailingSpace(s, at: i)
    }

    /// `[^\s\p{L}\p{N}]+` from i.
    @inline(__always)
    static func runOfOther(_ s: UnsafeBufferPointer<Unicode.Scalar>, from i: Int) -> Int {
        var j = i
        while j < s.count, cls(s, j).isDisjoint(with: [.space, .letter, .number]) { j += 1 }
        return j
    }

    @inline(__always) static func isCRLF(_ x: Unicode.Scalar) -> Bool { x == "\r" || x == "\n" }

    /// Llama 3 / Qwen2:
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    static func llama3Match(_ s: UnsafeBufferPointer<Unicode.Scalar>, at i: Int, maxDigits: Int) -> Int {
        if let end = contraction(s, at: i, ignoreCase: true) { return end }
        let c = cls(s, i)
        // [^\r\n\p{L}\p{N}]?\p{L}+ : one leading non-letter, non-number, non-CR/LF character is
        // taken along (a space, a tab, punctuation) when letters follow.
        if c.contains(.letter) { return run(s, from: i, .letter) }
        if !c.contains(.number), !isCRLF(s[i]), i + 1 < s.count, cls(s, i + 1).contains(.letter) {
            return run(s, from: i + 1, .letter)
        }
        // \p{N}{1,N}
        if c.contains(.number) {
            var j = i + 1
            while j < s.count, j - i < maxDigits, cls(s, j).contains(.number) { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var start = i
        if s[i] == " ", i + 1 < s.count, cls(s, i + 1).isDisjoint(with: [.space, .letter, .number]) { start = i + 1 }
        if cls(s, start).isDisjoint(with: [.space, .letter, .number]) {
            var j = runOfOther(s, from: start)
            while j < s.count, isCRLF(s[j]) { j += 1 }
            return j
        }
        // Whitespace from here on. `\s*[\r\n]+`: up to and including the last CR/LF of the run.
        let runEnd = run(s, from: i, .space)
        var k = runEnd - 1
        while k >= i, !isCRLF(s[k]) { k -= 1 }
        if k >= i { return k + 1 }
        // `\s+(?!\S)|\s+`
        if runEnd == s.count || runEnd - i == 1 { return runEnd }
        return runEnd - 1
    }
}

/// NSRegularExpression wrapped for use across threads (ICU regexes are thread-safe for matching).
final class NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression

    init(_ pattern: String) throws {
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [])
        } catch {
            throw LFError("the split pattern is not a valid regular expression: \(pattern)")
        }
    }

    /// Matches over the scalars, converting ICU's UTF-16 offsets back to scalar indices.
    func forEachMatch(in s: UnsafeBufferPointer<Unicode.Scalar>, _ body: (Range<Int>) -> Void) {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: s)
        let string = String(text)
        // UTF-16 offset → scalar index.
        var scalarAt: [Int] = []
        scalarAt.reserveCapacity(s.count * 2 + 1)
        for (index, scalar) in s.enumerated() {
            scalarAt.append(index)
            if scalar.value > 0xFFFF { scalarAt.append(index) }
        }
        scalarAt.append(s.count)
        let ns = string as NSString
        for match in regex.matches(in: string, options: [], range: NSRange(location: 0, length: ns.length)) {
            let r = match.range
            guard r.length > 0 else { continue }
            body(scalarAt[r.location]..<scalarAt[r.location + r.length])
        }
    }
}
