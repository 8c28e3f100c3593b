import Foundation

/// Why a record was not written. The raw values are the keys of `--json`'s `rejected` object and of
/// the `reason` field in `--rejects`.
public enum RejectReason: String, CaseIterable, Sendable, Comparable {
    // Invalid input: an error unless --skip-invalid.
    case malformedJSON = "malformed_json"
    case badRecord = "bad_record"
    case roleOrder = "role_order"
    // Filtered by a rule: counted, never an error.
    case emptyTurn = "empty_turn"
    case toolUse = "tool_use"
    case tooShort = "too_short"
    case tooLong = "too_long"
    case tooFewTokens = "too_few_tokens"
    case tooManyTokens = "too_many_tokens"
    case symbolRatio = "symbol_ratio"
    case duplicate = "duplicate"
    case nearDuplicate = "near_duplicate"
    /// A document from which `--mode qa` made no record.
    case noContent = "no_content"

    /// Invalid records stop the run unless `--skip-invalid`; the others are quality filters.
    public var isInvalid: Bool {
        self == .malformedJSON || self == .badRecord || self == .roleOrder
    }

    public static func < (a: RejectReason, b: RejectReason) -> Bool { a.rawValue < b.rawValue }
}

/// The quality rules of issue #7. Lengths are counted over all message contents of a record (or its
/// text), characters as Unicode scalars (Python's `len`), tokens with `--tokenizer`.
public struct RecordRules: Sendable {
    public var minChars: Int?
    public var maxChars: Int?
    public var minTokens: Int?
    public var maxTokens: Int?
    /// The largest share of non-whitespace characters that may be neither letters nor digits.
    public var maxSymbolRatio: Double?

    public init(minChars: Int? = nil, maxChars: Int? = nil, minTokens: Int? = nil, maxTokens: Int? = nil, maxSymbolRatio: Double? = nil) {
        self.minChars = minChars
        self.maxChars = maxChars
        self.minTokens = minTokens
        self.maxTokens = maxTokens
        self.maxSymbolRatio = maxSymbolRatio
    }

    public var needsTokens: Bool { minTokens != nil || maxTokens != nil }

    /// Drops an empty system message (an empty system prompt is no system prompt), then checks the
    /// structure: one optional system message first, then user and assistant alternating from a
    /// user turn and ending with the assistant; no empty turn; text records not empty.
    public static func structure(_ record: inout DatasetRecord) -> (RejectReason, String)? {
        switch record {
        case .text(let text):
            return text.isEmpty ? (.emptyTurn, "the text is empty") : nil
        case .chat(var messages):
            if let first = messages.first, first.role == .system, first.content.isEmpty {
                messages.removeFirst()
                record = .chat(messages)
            }
            var turn = 0
            for (i, message) in messages.enumerated() {
                if message.role == .system {
                    if i != 0 { return (.roleOrder, "message \(i + 1) is a system message; only the first may be") }
                    continue
                }
                let expected: ChatMessage.Role = turn % 2 == 0 ? .user : .assistant
                if message.role != expected {
                    return (.roleOrder, "message \(i + 1) is \(message.role.rawValue), expected \(expected.rawValue)")
                }
                if message.content.isEmpty {
                    return (.emptyTurn, "message \(i + 1) (\(message.role.rawValue)) is empty")
                }
                turn += 1
            }
            if turn == 0 { return (.roleOrder, "the conversation has no user or assistant message") }
            if turn % 2 == 1 { return (.roleOrder, "the conversation ends with a user message; it must end with the assistant's answer") }
            return nil
        }
    }

    /// The first rule the record breaks, with a message, or nil. `tokens` is needed only for the
    /// token rules.
    public func check(characters: Int, tokens: Int?, symbolRatio: () -> Double) -> (RejectReason, String)? {
        if let minChars, characters < minChars { return (.tooShort, "\(characters) characters, fewer than --min-chars \(minChars)") }
        if let maxChars, characters > maxChars { return (.tooLong, "\(characters) characters, more than --max-chars \(maxChars)") }
        if let tokens {
            if let minTokens, tokens < minTokens { return (.tooFewTokens, "\(tokens) tokens, fewer than --min-tokens \(minTokens)") }
            if let maxTokens, tokens > maxTokens { return (.tooManyTokens, "\(tokens) tokens, more than --max-tokens \(maxTokens)") }
        }
        if let maxSymbolRatio {
            let ratio = symbolRatio()
            if ratio > maxSymbolRatio {
                return (.symbolRatio, String(format: "%.0f%% of the characters are symbols, more than --max-symbol-ratio %g", ratio * 100, maxSymbolRatio))
            }
        }
        return nil
    }
}

/// Length measures of records.
public enum TextMeasure {
    /// The number of Unicode scalars (Python's `len`), counted on the UTF-8 bytes.
    public static func characters(_ s: String) -> Int {
        var s = s
        return s.withUTF8 { b in
            guard let p = b.baseAddress else { return 0 }
            var continuation = 0
            var i = 0
            while i + 8 <= b.count {
                continuation += WordScan.continuationBytes(WordScan.load(p, i))
                i += 8
            }
            while i < b.count {
                if b[i] & 0xC0 == 0x80 { continuation += 1 }
                i += 1
            }
            return b.count - continuation
        }
    }

    public static func characters(_ record: DatasetRecord) -> Int {
        switch record {
        case .text(let t): return characters(t)
        case .chat(let messages): return messages.reduce(0) { $0 + characters($1.content) }
        }
    }

    /// The share of non-whitespace scalars that are neither letters nor digits (0 for blank text).
    public static func symbolRatio(_ record: DatasetRecord) -> Double {
        var symbols = 0, total = 0
        func count(_ s: String) {
            for scalar in s.unicodeScalars {
                let v = scalar.value
                if v < 0x80 {
                    let c = UInt8(v)
                    if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { continue }
                    total += 1
                    let isAlnum = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A)
                    if !isAlnum { symbols += 1 }
                } else {
                    let p = scalar.properties
                    if p.isWhitespace { continue }
                    total += 1
                    if !(p.isAlphabetic || p.numericType != nil) { symbols += 1 }
                }
            }
        }
        switch record {
        case .text(let t): count(t)
        case .chat(let messages): for m in messages { count(m.content) }
        }
        return total == 0 ? 0 : Double(symbols) / Double(total)
    }

    /// Tokens of all contents (each message encoded alone, without a chat template or specials).
    public static func tokens(_ record: DatasetRecord, tokenizer: any TextTokenizer) -> Int {
        switch record {
        case .text(let t): return tokenizer.encode(t, parseSpecial: false).count
        case .chat(let messages): return messages.reduce(0) { $0 + tokenizer.encode($1.content, parseSpecial: false).count }
        }
    }
}
