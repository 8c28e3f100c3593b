/// A tokenized training document: ids and which of them are trained targets (first token never is).
public struct Document: Sendable, Equatable {
    /// (T) token ids.
    public var ids: [Int32]
    /// (T) true = the loss includes predicting this token.
    public var mask: [Bool]

    public init(ids: [Int32], mask: [Bool]) {
        precondition(ids.count == mask.count)
        self.ids = ids
        self.mask = mask
    }

    public var count: Int { ids.count }
    public var trainedCount: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// What became of one record.
public enum EncodedRecord: Sendable, Equatable {
    /// One document (several for a `{"text"}` record cut into pieces). `truncated`: turns or tokens
    /// were cut to fit `maxLength`; `split`: a text record was cut into several documents.
    case documents([Document], truncated: Bool, split: Bool)
    /// Left out, with the reason counted in the manifest (`too_long`, `too_long_to_truncate`).
    case dropped(reason: String)
}

/// Turns canonical dataset records into documents: chat template → token ids → loss mask →
/// truncation (or dropping) to `maxLength`.
///
/// **Token ids.** A conversation is rendered by its template into segments (prefix, then each turn's
/// prompt and response, see `RenderedConversation.segments`); each segment is encoded on its own,
/// with special tokens written in the text recognised (`parseSpecial: true`), and the ids are
/// concatenated. That is what LLaMA-Factory does (one `encode` per prompt and per response), and it
/// equals encoding the whole text at once whenever every segment boundary is a place where the
/// tokenizer splits anyway: next to a special token, or between a newline and a word. Built-in
/// templates put every boundary there, so for byte-level BPE tokenizers the ids are those of the
/// whole text unless a message begins or ends with whitespace that the pre-tokenizer would have
/// merged across the boundary. A `{"text"}` record is encoded as plain text (special-token text in
/// it stays text).
///
/// **Mask.** By default only the responses are trained: each answer, its stop token and what the
/// template writes after it. `trainOnPrompt` trains everything; `maskHistory` only the last answer.
/// A text record is trained everywhere. The first token of every document is never a target.
///
/// **Text records** get the template's BOS prefix (for models whose sequences start with BOS) and
/// end with the model's end-of-document token: the first of the template's candidates that the
/// tokenizer has (`<|endoftext|>` for ChatML and Phi models, `<|end_of_text|>` for Llama 3, else
/// the EOS token of tokenizer_config.json).
///
/// **Too long.** With `dropLong`, a record longer than `maxLength` is dropped (`too_long`).
/// Otherwise a conversation is truncated by turns, and no kept turn loses its stop token:
///
/// 1. the prefix (BOS, system block) is always kept;
/// 2. whole turns are kept in order while they fit, and the rest are dropped. With `maskHistory`
///    (only the last answer trained) the last turn is kept first and earlier turns are added back,
///    newest first, while they fit;
/// 3. if not even the first turn to keep fits, that turn is cut inside: the token budget is split
///    between prompt and response as LLaMA-Factory's `infer_seqlen` does, then the prompt keeps its
///    beginning and its assistant header (the tail of the user's message is cut) and the response
///    keeps its beginning and its stop suffix (the tail of the answer is cut). A turn that cannot
///    keep one prompt token before its header and one answer token before its stop suffix is
///    dropped (`too_long_to_truncate`), as is a record whose prefix alone fills `maxLength`.
///
/// A text record longer than `maxLength` is not truncated but cut into consecutive documents of
/// `maxLength` tokens (only the first has BOS, only the last the end-of-document token), so
/// continued pre-training loses nothing.
public struct RecordEncoder: Sendable {
    public let template: ChatTemplate
    public let options: PackingOptions
    let tokenizer: any TextTokenizer
    /// Tokens of the assistant header and of the stop suffix, measured once.
    let headerLength: Int
    let stopLength: Int
    let textPrefix: [Int32]
    /// The token that ends a text record, if the tokenizer has one of the template's candidates.
    public let documentEndToken: String?
    let documentEnd: Int32?

    public init(tokenizer: any TextTokenizer, template: ChatTemplate, options: PackingOptions) throws {
        guard options.maxLength >= 2 else { throw LFError.usage("--max-len must be at least 2") }
        if options.trainOnPrompt && options.maskHistory {
            throw LFError.usage("--train-on-prompt and --mask-history contradict each other",
                                hint: "--train-on-prompt trains every token, --mask-history only the last answer; choose one")
        }
        for token in try template.requiredTokens() {
            guard let id = tokenizer.tokenID(token) else {
                throw LFError("the \(template.name) template writes \(token), which is not a token of this tokenizer",
                              hint: "the template does not match the model; use --template auto, or the template the model was trained with")
            }
            let encoded = tokenizer.encode(token, parseSpecial: true)
            guard encoded == [id] else {
                throw LFError("the \(template.name) template writes \(token), but the tokenizer encodes it as \(encoded.count) tokens "
                              + "instead of the single token \(id)",
                              hint: "the template does not match the model; use --template auto, or the template the model was trained with")
            }
        }
        self.tokenizer = tokenizer
        self.template = template
        self.options = options
        headerLength = tokenizer.encode(try template.assistantHeader(), parseSpecial: true).count
        stopLength = tokenizer.encode(try template.stopSuffix(), parseSpecial: true).count
        let prefixText = try template.textRecordPrefix()
        textPrefix = prefixText.isEmpty ? [] : tokenizer.encode(prefixText, parseSpecial: true)
        documentEndToken = template.documentEnd { tokenizer.tokenID($0) != nil }
        documentEnd = documentEndToken.flatMap { tokenizer.tokenID($0) }
    }

    /// Encodes one record. Throws `ConversationError` for a conversation the template cannot
    /// render (the caller adds file and line), or an `LFError` for a text record when the model
    /// has no end-of-document token.
    public func encode(_ record: DatasetRecord) throws -> EncodedRecord {
        switch record {
        case .chat(let messages): return try encodeConversation(messages)
        case .text(let text): return try encodeText(text)
        }
    }

    // MARK: Conversations

    struct Turn {
        var prompt: [Int32]
        var response: [Int32]
        var count: Int { prompt.count + response.count }
    }

    public func encodeConversation(_ messages: [ChatMessage]) throws -> EncodedRecord {
        let rendered = try template.render(messages)
        let prefix = rendered.prefix.isEmpty ? [] : tokenizer.encode(rendered.prefix, parseSpecial: true)
        let turns = rendered.turns.map {
            Turn(prompt: tokenizer.encode($0.prompt, parseSpecial: true), response: tokenizer.encode($0.response, parseSpecial: true))
        }
        let last = turns.count - 1
        let total = prefix.count + turns.reduce(0) { $0 + $1.count }
        let maxLength = options.maxLength
        if total <= maxLength {
            return .documents([assemble(prefix: prefix, turns: turns[...], firstIndex: 0, lastIndex: last)], truncated: false, split: false)
        }
        if options.dropLong { return .dropped(reason: "too_long") }
        let budget = maxLength - prefix.count
        guard budget > 0 else { return .dropped(reason: "too_long_to_truncate") }
        if options.maskHistory {
            // The trained last turn first, then history back in, newest first, while it fits.
            guard turns[last].count <= budget else {
                guard let cut = cutTurn(turns[last], budget: budget) else { return .dropped(reason: "too_long_to_truncate") }
                return .documents([assemble(prefix: prefix, turns: [cut][...], firstIndex: last, lastIndex: last)], truncated: true, split: false)
            }
            var from = last
            var used = turns[last].count
            while from > 0 && used + turns[from - 1].count <= budget {
                from -= 1
                used += turns[from].count
            }
            return .documents([assemble(prefix: prefix, turns: turns[from...], firstIndex: from, lastIndex: last)], truncated: true, split: false)
        }
        var kept = 0
        var used = 0
        while kept < turns.count && used + turns[kept].count <= budget {
            used += turns[kept].count
            kept += 1
        }
        if kept == 0 {
            guard let cut = cutTurn(turns[0], budget: budget) else { return .dropped(reason: "too_long_to_truncate") }
            return .documents([assemble(prefix: prefix, turns: [cut][...], firstIndex: 0, lastIndex: last)], truncated: true, split: false)
        }
        return .documents([assemble(prefix: prefix, turns: turns[..<kept], firstIndex: 0, lastIndex: last)], truncated: true, split: false)
    }

    /// The document of `prefix` and `turns` (turns[k] is the conversation's turn firstIndex + k),
    /// with the mask the options ask for.
    func assemble(prefix: [Int32], turns: ArraySlice<Turn>, firstIndex: Int, lastIndex: Int) -> Document {
        let all = options.trainOnPrompt
        var ids = prefix
        var mask = [Bool](repeating: all, count: prefix.count)
        for (k, turn) in turns.enumerated() {
            let index = firstIndex + k
            ids += turn.prompt
            mask += repeatElement(all, count: turn.prompt.count)
            let trained = all || !options.maskHistory || index == lastIndex
            ids += turn.response
            mask += repeatElement(trained, count: turn.response.count)
        }
        if !mask.isEmpty { mask[0] = false }
        return Document(ids: ids, mask: mask)
    }

    /// Cuts one turn to `budget` tokens, keeping the beginning and the assistant header of the
    /// prompt and the beginning and the stop suffix of the response; nil if it cannot.
    func cutTurn(_ turn: Turn, budget: Int) -> Turn? {
        let p = turn.prompt.count, r = turn.response.count
        let h = min(headerLength, p), s = min(stopLength, r)
        let minP = min(p, h + 1), minR = min(r, s + 1)
        guard minP + minR <= budget else { return nil }
        var (newP, newR) = Self.inferSeqlen(source: p, target: r, cutoff: budget)
        newR = max(newR, minR)
        newP = min(p, budget - newR)
        if newP < minP {
            newP = minP
            newR = min(r, budget - newP)
        }
        var cut = turn
        if newP < p { cut.prompt = Array(turn.prompt[..<(newP - h)] + turn.prompt[(p - h)...]) }
        if newR < r { cut.response = Array(turn.response[..<(newR - s)] + turn.response[(r - s)...]) }
        return cut
    }

    /// LLaMA-Factory's `infer_seqlen`: how many prompt (source) and response (target) tokens to keep
    /// within `cutoff`. A response shorter than half the budget is kept whole; else a prompt shorter
    /// than half is kept whole; else both are cut in proportion.
    static func inferSeqlen(source: Int, target: Int, cutoff: Int) -> (Int, Int) {
        let maxTarget: Int
        if target * 2 < cutoff {
            maxTarget = cutoff
        } else if source * 2 < cutoff {
            maxTarget = cutoff - source
        } else {
            maxTarget = Int(Double(cutoff) * (Double(target) / Double(source + target)))
        }
        let newTarget = min(maxTarget, target)
        let newSource = min(max(cutoff - newTarget, 0), source)
        return (newSource, newTarget)
    }

    // MARK: Text

    public func encodeText(_ text: String) throws -> EncodedRecord {
        guard let documentEnd else {
            throw LFError("text records end with the model's end-of-document token, but this tokenizer has none of "
                          + "\(template.documentEndCandidates.map { $0 == "{eos}" ? (template.eosToken ?? "an EOS token") : $0 }.joined(separator: ", "))",
                          hint: "tokenizer_config.json should name an \"eos_token\" the tokenizer has")
        }
        let ids = textPrefix + tokenizer.encode(text, parseSpecial: false) + [documentEnd]
        let maxLength = options.maxLength
        func document(_ slice: ArraySlice<Int32>) -> Document {
            var mask = [Bool](repeating: true, count: slice.count)
            mask[0] = false
            return Document(ids: Array(slice), mask: mask)
        }
        if ids.count <= maxLength { return .documents([document(ids[...])], truncated: false, split: false) }
        if options.dropLong { return .dropped(reason: "too_long") }
        let pieces = stride(from: 0, to: ids.count, by: maxLength).map { document(ids[$0 ..< min($0 + maxLength, ids.count)]) }
        return .documents(pieces, truncated: false, split: true)
    }
}
