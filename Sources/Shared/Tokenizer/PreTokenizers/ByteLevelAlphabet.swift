/// GPT-2's reversible byte ↔ character mapping (`bytes_to_unicode`): printable bytes stand for
/// themselves, the others (controls, space, 0x7F–0xA0, 0xAD) for U+0100 upward, so that every byte
/// sequence is a printable string. Byte-level vocabularies are written in this alphabet.
enum ByteLevelAlphabet {
    /// byte → character.
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// character → byte, for the 256 characters of the alphabet.
    static let bytes: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, c) in characters.enumerated() { map[c.value] = UInt8(b) }
        return map
    }()

    /// The raw bytes a byte-level token stands for, or nil if it has a character outside the alphabet.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for c in token.unicodeScalars {
            guard let b = bytes[c.value] else { return nil }
            out.append(b)
        }
        return out
    }

    /// The byte-level spelling of `bytes`.
    static func encode(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characters[Int(b)]) }
        return String(s)
    }
}
