import Foundation

/// tokenizer.json `normalizer`: rewrites text before it is split (HF `tokenizers::normalizers`).
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
}

/// The normalizer types lf reads, raw-valued by their JSON `type`.
enum NormalizerType: String, CaseIterable {
    case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"
    case lowercase = "Lowercase", prepend = "Prepend", replace = "Replace", strip = "Strip", sequence = "Sequence"
}

enum Normalizers {
    static func make(_ json: TokenizerJSON) throws -> Normalizer {
        let name = try json.type()
        guard let type = NormalizerType(rawValue: name) else {
            throw json.unsupported("normalizer", name, supported: NormalizerType.allCases.map(\.rawValue))
        }
        switch type {
        case .nfc: return UnicodeNormalization(form: .nfc)
        case .nfd: return UnicodeNormalization(form: .nfd)
        case .nfkc: return UnicodeNormalization(form: .nfkc)
        case .nfkd: return UnicodeNormalization(form: .nfkd)
        case .lowercase: return Lowercase()
        case .prepend: return Prepend(prefix: try json.string("prepend"))
        case .replace: return try Replace(pattern: json.pattern(), content: json.string("content"))
        case .strip: return Strip(left: try json.bool("strip_left", default: true), right: try json.bool("strip_right", default: true))
        case .sequence: return NormalizerSequence(steps: try json.required("normalizers").array().map(make))
        }
    }
}

struct UnicodeNormalization: Normalizer {
    enum Form { case nfc, nfd, nfkc, nfkd }
    let form: Form

    func normalize(_ text: String) -> String {
        switch form {
        case .nfc: text.precomposedStringWithCanonicalMapping
        case .nfd: text.decomposedStringWithCanonicalMapping
        case .nfkc: text.precomposedStringWithCompatibilityMapping
        case .nfkd: text.decomposedStringWithCompatibilityMapping
        }
    }
}

struct Lowercase: Normalizer {
    func normalize(_ text: String) -> String { text.lowercased() }
}

/// Prepends `prefix` to non-empty text.
struct Prepend: Normalizer {
    let prefix: String
    func normalize(_ text: String) -> String { text.isEmpty ? text : prefix + text }
}

/// Replaces every match of a literal or regex with `content`.
struct Replace: Normalizer {
    let pattern: SplitPattern
    let content: String

    init(pattern: SplitPattern.Source, content: String) throws {
        self.pattern = try SplitPattern(pattern)
        self.content = content
    }

    func normalize(_ text: String) -> String {
        // Scalar by scalar, never Foundation's string comparison (which treats canonically
        // equivalent text as equal).
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var last = 0
        scalars.withUnsafeBufferPointer { s in
            pattern.forEachMatch(in: s) { r in
                out.append(contentsOf: s[last..<r.lowerBound])
                out.append(contentsOf: content.unicodeScalars)
                last = r.upperBound
            }
            out.append(contentsOf: s[last...])
        }
        return String(out)
    }
}

/// Removes leading and/or trailing whitespace (the White_Space property, as Rust's `char::is_whitespace`).
struct Strip: Normalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars[...]
        if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
        if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }
}

struct NormalizerSequence: Normalizer {
    let steps: [Normalizer]
    func normalize(_ text: String) -> String { steps.reduce(text) { $1.normalize($0) } }
}
