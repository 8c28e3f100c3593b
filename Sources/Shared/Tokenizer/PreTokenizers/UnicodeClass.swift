/// Unicode general categories as bit sets, looked up in a table for the Basic Multilingual Plane
/// (built once) and from the scalar's properties above it. The split scanners ask "is this \p{L}?"
/// for every character, so the lookup must be a load, not a property query.
struct UnicodeClass: OptionSet, Sendable {
    let rawValue: UInt16

    static let letter = UnicodeClass(rawValue: 1 << 0)       // \p{L}
    static let upper = UnicodeClass(rawValue: 1 << 1)        // \p{Lu}
    static let lower = UnicodeClass(rawValue: 1 << 2)        // \p{Ll}
    static let title = UnicodeClass(rawValue: 1 << 3)        // \p{Lt}
    static let modifier = UnicodeClass(rawValue: 1 << 4)     // \p{Lm}
    static let otherLetter = UnicodeClass(rawValue: 1 << 5)  // \p{Lo}
    static let mark = UnicodeClass(rawValue: 1 << 6)         // \p{M}
    static let number = UnicodeClass(rawValue: 1 << 7)       // \p{N}
    static let punctuation = UnicodeClass(rawValue: 1 << 8)  // \p{P}
    static let symbol = UnicodeClass(rawValue: 1 << 9)       // \p{S}
    static let space = UnicodeClass(rawValue: 1 << 10)       // \s: the White_Space property, as Oniguruma has it
    static let digit = UnicodeClass(rawValue: 1 << 11)       // \p{Nd}
    static let control = UnicodeClass(rawValue: 1 << 12)     // \p{Cc}
    static let word = UnicodeClass(rawValue: 1 << 13)        // \w: letters, marks, decimal digits, connector punctuation

    private static let bmp: [UInt16] = (0..<0x10000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return 0 }  // surrogates
        return compute(scalar).rawValue
    }

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> UnicodeClass {
        let v = scalar.value
        if v < 0x10000 { return bmp.withUnsafeBufferPointer { UnicodeClass(rawValue: $0[Int(v)]) } }
        return compute(scalar)
    }

    static func compute(_ scalar: Unicode.Scalar) -> UnicodeClass {
        let p = scalar.properties
        var c: UnicodeClass = p.isWhitespace ? .space : []
        switch p.generalCategory {
        case .uppercaseLetter: c.formUnion([.letter, .upper, .word])
        case .lowercaseLetter: c.formUnion([.letter, .lower, .word])
        case .titlecaseLetter: c.formUnion([.letter, .title, .word])
        case .modifierLetter: c.formUnion([.letter, .modifier, .word])
        case .otherLetter: c.formUnion([.letter, .otherLetter, .word])
        case .nonspacingMark, .spacingMark, .enclosingMark: c.formUnion([.mark, .word])
        case .decimalNumber: c.formUnion([.number, .digit, .word])
        case .letterNumber, .otherNumber: c.formUnion(.number)
        case .connectorPunctuation: c.formUnion([.punctuation, .word])
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
            c.formUnion(.punctuation)
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: c.formUnion(.symbol)
        case .control: c.formUnion(.control)
        default: break
        }
        return c
    }
}
