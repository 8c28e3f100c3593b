import Foundation

/// Token-level F1 between an extracted text and a reference, the measure lf-extract's quality
/// check uses: both texts NFKC-normalised and lowercased, split into word tokens (runs of letters,
/// marks and digits), compared as multisets (the SQuAD-style bag-of-tokens F1).
public struct TokenF1: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var candidateTokens: Int
    public var referenceTokens: Int

    public init(candidate: String, reference: String) {
        let c = Self.tokens(candidate), r = Self.tokens(reference)
        var counts: [String: Int] = [:]
        for t in r { counts[t, default: 0] += 1 }
        var common = 0
        for t in c {
            if let n = counts[t], n > 0 {
                common += 1
                counts[t] = n - 1
            }
        }
        candidateTokens = c.count
        referenceTokens = r.count
        if c.isEmpty && r.isEmpty {
            precision = 1; recall = 1; f1 = 1
            return
        }
        precision = c.isEmpty ? 0 : Double(common) / Double(c.count)
        recall = r.isEmpty ? 0 : Double(common) / Double(r.count)
        f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    /// NFKC, lowercased, maximal runs of letters, combining marks and digits.
    public static func tokens(_ text: String) -> [String] {
        let normalized = text.precomposedStringWithCompatibilityMapping.lowercased()
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in normalized.unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark
                || p.generalCategory == .spacingMark || p.generalCategory == .decimalNumber {
                current.append(scalar)
            } else if !current.isEmpty {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }
}
