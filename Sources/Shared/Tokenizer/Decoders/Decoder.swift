import Foundation

/// tokenizer.json `decoder`: turns token strings back into text (HF `decode_chain`: each step maps
/// the list of token strings to a new list; the result is joined).
protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

enum DecoderType: String, CaseIterable {
    case byteLevel = "ByteLevel", byteFallback = "ByteFallback", fuse = "Fuse", strip = "Strip"
    case replace = "Replace", metaspace = "Metaspace", sequence = "Sequence"
}

enum TokenDecoders {
    static func make(_ json: TokenizerJSON) throws -> TokenDecoder {
        let name = try json.type()
        guard let type = DecoderType(rawValue: name) else {
            throw json.unsupported("decoder", name, supported: DecoderType.allCases.map(\.rawValue))
        }
        switch type {
        case .byteLevel: return ByteLevelDecoder()
        case .byteFallback: return ByteFallbackDecoder()
        case .fuse: return FuseDecoder()
        case .strip:
            let content = try json.string("content")
            guard let c = content.unicodeScalars.first, content.unicodeScalars.count == 1 else {
                throw json.error("Strip content must be one character")
            }
            return StripDecoder(content: c, start: try json.int("start", default: 0), stop: try json.int("stop", default: 0))
        case .replace:
            return ReplaceDecoder(replace: try Replace(pattern: json.pattern(), content: json.string("content")))
        case .metaspace:
            let replacement = try json.optionalString("replacement") ?? "\u{2581}"
            var scheme = try json.optionalString("prepend_scheme")
            if scheme == nil, let add = try json["add_prefix_space"]?.bool() { scheme = add ? "always" : "never" }
            return MetaspaceDecoder(replacement: replacement.unicodeScalars.first ?? "\u{2581}", stripFirst: (scheme ?? "always") != "never")
        case .sequence:
            return DecoderSequence(steps: try json.required("decoders").array().map(make))
        }
    }
}

/// Byte-level characters back to bytes; the bytes of all tokens are decoded together as UTF-8,
/// invalid sequences becoming U+FFFD. A token with a character outside the byte alphabet (an added
/// token such as "<|im_end|>" written in plain text) contributes its own UTF-8 bytes.
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            if let b = ByteLevelAlphabet.decode(token) { bytes += b } else { bytes += Array(token.utf8) }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// `<0x41>`-style tokens become bytes; consecutive byte tokens are decoded together, and an invalid
/// run becomes one U+FFFD per byte.
struct ByteFallbackDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validating: pending, as: UTF8.self) {
                out.append(s)
            } else {
                out += Array(repeating: "\u{FFFD}", count: pending.count)
            }
            pending.removeAll()
        }
        for token in tokens {
            let u = Array(token.utf8)
            if u.count == 6, token.hasPrefix("<0x"), u[5] == UInt8(ascii: ">"),
               let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                pending.append(b)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }
}

struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Removes up to `start` leading and `stop` trailing occurrences of `content` from each token.
struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let s = Array(token.unicodeScalars)
            var lo = 0
            while lo < start, lo < s.count, s[lo] == content { lo += 1 }
            var hi = s.count
            while s.count - hi < stop, hi > lo, s[hi - 1] == content { hi -= 1 }
            return String(String.UnicodeScalarView(s[lo..<hi]))
        }
    }
}

struct ReplaceDecoder: TokenDecoder {
    let replace: Replace
    func decodeChain(_ tokens: [String]) -> [String] { tokens.map(replace.normalize) }
}

/// `▁` back to spaces; in the first token, `▁` is dropped (it was the prepended one).
struct MetaspaceDecoder: TokenDecoder {
    let replacement: Unicode.Scalar
    let stripFirst: Bool

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var out = String.UnicodeScalarView()
            for c in token.unicodeScalars {
                if c == replacement {
                    if !(i == 0 && stripFirst) { out.append(" ") }
                } else {
                    out.append(c)
                }
            }
            return String(out)
        }
    }
}

struct DecoderSequence: TokenDecoder {
    let steps: [TokenDecoder]
    func decodeChain(_ tokens: [String]) -> [String] { steps.reduce(tokens) { $1.decodeChain($0) } }
}
