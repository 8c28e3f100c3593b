import Foundation

/// A shell-style glob for `--include` / `--exclude`.
///
/// `*` matches any run of characters except `/`, `?` one character except `/`, `[abc]`, `[a-z]`
/// and `[!abc]` one character of a set, `**` any run including `/` (so `**/drafts/**` matches at any
/// depth), and `\x` the character x. A pattern without `/` is matched against the file name
/// alone (`*.pdf`); a pattern with `/` against the path relative to the directory walked
/// (`reports/*.pdf`).
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let scalars: [Unicode.Scalar]
    public let matchesNameOnly: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        var p = pattern
        while p.hasPrefix("./") { p.removeFirst(2) }
        scalars = Array(p.unicodeScalars)
        matchesNameOnly = !p.contains("/")
    }

    public var description: String { pattern }

    /// Matches `relativePath` (components joined with `/`).
    public func matches(relativePath: String) -> Bool {
        let subject: Substring.UnicodeScalarView
        if matchesNameOnly, let slash = relativePath.lastIndex(of: "/") {
            subject = relativePath[relativePath.index(after: slash)...].unicodeScalars
        } else {
            subject = relativePath[...].unicodeScalars
        }
        return Self.match(scalars[...], Array(subject)[...])
    }

    private static func match(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = p, s = s
        while let c = p.first {
            switch c {
            case "*":
                let isDouble = p.dropFirst().first == "*"
                var rest = p.dropFirst(isDouble ? 2 : 1)
                // "**/" also matches zero directories.
                if isDouble && rest.first == "/" {
                    if match(rest.dropFirst(), s) { return true }
                    rest = rest[...]
                }
                var i = s.startIndex
                while true {
                    if match(rest, s[i...]) { return true }
                    if i == s.endIndex { return false }
                    if !isDouble && s[i] == "/" { return false }
                    i += 1
                }
            case "?":
                guard let x = s.first, x != "/" else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            case "[":
                guard let x = s.first, x != "/", let (matched, rest) = matchClass(p.dropFirst(), x) else {
                    // An unclosed "[" is a literal.
                    if s.first == "[" && !p.dropFirst().contains("]") { p = p.dropFirst(); s = s.dropFirst(); continue }
                    return false
                }
                guard matched else { return false }
                p = rest; s = s.dropFirst()
            case "\\" where p.count >= 2:
                let literal = p[p.startIndex + 1]
                guard s.first == literal else { return false }
                p = p.dropFirst(2); s = s.dropFirst()
            default:
                guard s.first == c else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            }
        }
        return s.isEmpty
    }

    /// Matches one character against the set after `[`; returns whether it matched and the pattern
    /// after the closing `]`, or nil when there is no closing bracket.
    private static func matchClass(_ p: ArraySlice<Unicode.Scalar>, _ x: Unicode.Scalar) -> (Bool, ArraySlice<Unicode.Scalar>)? {
        var p = p
        var negate = false
        if p.first == "!" || p.first == "^" { negate = true; p = p.dropFirst() }
        var matched = false
        var first = true
        while let c = p.first {
            if c == "]" && !first { return (matched != negate, p.dropFirst()) }
            first = false
            let afterC = p.dropFirst()
            if afterC.first == "-", let hi = afterC.dropFirst().first, hi != "]" {
                if c.value <= x.value && x.value <= hi.value { matched = true }
                p = afterC.dropFirst(2)
            } else {
                if c == x { matched = true }
                p = afterC
            }
        }
        return nil
    }
}
