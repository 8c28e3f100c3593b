import Foundation

/// A chat format: how a conversation becomes the text a model was trained on, which part of that text
/// is the assistant's answer (the part a supervised fine-tune trains), and which token ends an answer.
///
/// A template is a handful of *slots*, as in LLaMA-Factory's `register_template` (format_prefix,
/// format_system, format_user, format_assistant): strings with `{content}` where a message's text
/// goes, and `{bos}` / `{eos}` where the model's begin/end-of-sequence tokens go. The built-in ones
/// are listed in `BuiltinTemplates.swift` with the sources their strings were checked against.
///
/// Rendering `[system?, user, assistant, user, assistant, …]` gives
///
///     prefix                 = slot(prefix) + slot(system, system content)      (may be empty)
///     turn i: prompt         = slot(user, user content)      — ends with the assistant header
///             response       = slot(assistant, answer)       — ends with the stop token (+ newline)
///
/// and the conversation's text is `prefix + prompt₀ + response₀ + prompt₁ + response₁ + …`. The
/// response of each turn (the answer, its stop token and whatever the slot writes after it, as
/// LLaMA-Factory labels it) is the span a fine-tune trains.
public struct ChatTemplate: Sendable, Equatable {
    /// The name used on the command line (`chatml`, `llama3`, …).
    public let name: String
    /// One line for `--help` and logs.
    public let summary: String

    /// Written once at the start (usually `{bos}` or nothing).
    let prefix: String
    /// The system block, with `{content}`; nil when the model has no system turn and the system
    /// prompt is folded into the first user message with `foldedSystem` instead.
    let system: String?
    /// How a system prompt joins the first user message (`{system}` and `{content}`), when `system` is nil.
    let foldedSystem: String?
    /// A user turn, with `{content}`; the text after `{content}` is the assistant header.
    let user: String
    /// An assistant turn, with `{content}`; the text after `{content}` is the stop suffix.
    let assistant: String
    /// Roles whose content is stripped of surrounding whitespace first (Jinja's `| trim`).
    let trimmedRoles: Set<ChatMessage.Role>
    /// Prepended to an assistant answer that has no `</think>` (DeepSeek-R1's empty reasoning block).
    let emptyThought: String?
    /// Written before the text of a `{"text"}` record (`{bos}` for models whose every sequence starts with BOS).
    let textPrefix: String
    /// Candidates for the token that ends a `{"text"}` record, first one the tokenizer has wins
    /// (`{eos}` is the model's EOS token).
    let documentEndCandidates: [String]
    /// Special tokens written literally in the slots; each must be one token of the model's vocabulary.
    let markerTokens: [String]

    /// The system prompt used when a conversation has none (SmolLM2's and Qwen's templates inject one).
    public var defaultSystem: String?
    /// The model's begin-of-sequence token text (`<s>`, `<|begin_of_text|>` …), if the template uses one.
    public var bosToken: String?
    /// The model's end-of-sequence token text, if the template uses one.
    public var eosToken: String?
    /// The tokens that end an assistant turn, the first being the one the template writes
    /// (`{eos}` stands for the model's EOS token).
    let stopTokenSlots: [String]

    /// The tokens that end an assistant turn, the first being the one the template writes.
    public var stopTokens: [String] {
        stopTokenSlots.compactMap { $0 == "{eos}" ? eosToken : $0 }
    }

    init(name: String, summary: String, prefix: String = "", system: String?, foldedSystem: String? = nil,
         user: String, assistant: String, trimmedRoles: Set<ChatMessage.Role> = [], emptyThought: String? = nil,
         textPrefix: String = "", documentEndCandidates: [String], markerTokens: [String],
         defaultSystem: String? = nil, bosToken: String? = nil, eosToken: String? = nil, stopTokens: [String]) {
        precondition(user.components(separatedBy: "{content}").count == 2, "user slot of \(name) needs one {content}")
        precondition(assistant.components(separatedBy: "{content}").count == 2, "assistant slot of \(name) needs one {content}")
        precondition((system == nil) != (foldedSystem == nil), "\(name): a system slot or a folded system, not both")
        if let foldedSystem {
            let parts = foldedSystem.components(separatedBy: "{system}")
            precondition(parts.count == 2 && parts[1].components(separatedBy: "{content}").count == 2,
                         "\(name): the folded system needs {system} before {content}")
        }
        self.name = name
        self.summary = summary
        self.prefix = prefix
        self.system = system
        self.foldedSystem = foldedSystem
        self.user = user
        self.assistant = assistant
        self.trimmedRoles = trimmedRoles
        self.emptyThought = emptyThought
        self.textPrefix = textPrefix
        self.documentEndCandidates = documentEndCandidates
        self.markerTokens = markerTokens
        self.defaultSystem = defaultSystem
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.stopTokenSlots = stopTokens
    }

    // MARK: Rendering

    /// Renders a conversation for training: an optional system message first, then user and
    /// assistant messages alternating, starting with user and ending with assistant.
    public func render(_ messages: [ChatMessage]) throws -> RenderedConversation {
        try render(messages, addGenerationPrompt: false)
    }

    /// Renders a conversation. With `addGenerationPrompt` it must end with a user message, and the
    /// text ends with the assistant header (what a model continues from at inference).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> RenderedConversation {
        let (systemContent, pairs) = try Self.checkRoles(messages, addGenerationPrompt: addGenerationPrompt)
        var prefixText = try substitute(prefix)
        let system = systemContent.map { trimmedRoles.contains(.system) ? JinjaText.trim($0) : $0 } ?? defaultSystem
        if let system, let slot = self.system {
            prefixText += try fill(slot, content: system)
        }
        var turns: [RenderedConversation.Turn] = []
        for (i, pair) in pairs.enumerated() {
            var userContent = trimmedRoles.contains(.user) ? JinjaText.trim(pair.user) : pair.user
            if i == 0, let system, let fold = foldedSystem {
                userContent = Self.fold(fold, system: system, content: userContent)
            }
            let prompt = try fill(user, content: userContent)
            var response = ""
            if let answer = pair.assistant {
                var content = trimmedRoles.contains(.assistant) ? JinjaText.trim(answer) : answer
                if let emptyThought, !content.contains("</think>") { content = emptyThought + content }
                response = try fill(assistant, content: content)
            }
            turns.append(.init(prompt: prompt, response: response))
        }
        return RenderedConversation(prefix: prefixText, turns: turns, assistantHeader: try assistantHeader(),
                                    stopSuffix: try stopSuffix(), endsWithGenerationPrompt: addGenerationPrompt)
    }

    /// `{system}…{content}` with both filled in one pass, so braces inside either text stay as written.
    static func fold(_ pattern: String, system: String, content: String) -> String {
        let s = pattern.range(of: "{system}")!
        let rest = pattern[s.upperBound...]
        let c = rest.range(of: "{content}")!
        return String(pattern[..<s.lowerBound]) + system + String(rest[..<c.lowerBound]) + content + String(rest[c.upperBound...])
    }

    /// The text at the end of every prompt that introduces the answer (`<|im_start|>assistant\n`).
    public func assistantHeader() throws -> String {
        try substitute(String(user[user.range(of: "{content}")!.upperBound...]))
    }

    /// The text at the end of every answer: the stop token and what the template writes after it.
    public func stopSuffix() throws -> String {
        try substitute(String(assistant[assistant.range(of: "{content}")!.upperBound...]))
    }

    /// The text written before a `{"text"}` record.
    public func textRecordPrefix() throws -> String { try substitute(textPrefix) }

    /// Every special token the template writes; each must be a single token of the model's tokenizer.
    public func requiredTokens() throws -> [String] {
        var tokens = markerTokens
        let slots = [prefix, system ?? "", user, assistant]
        if slots.contains(where: { $0.contains("{bos}") }) {
            guard let bosToken else { throw missingSpecial("BOS (begin-of-sequence)", "bos_token") }
            tokens.append(bosToken)
        }
        if slots.contains(where: { $0.contains("{eos}") }) {
            guard let eosToken else { throw missingSpecial("EOS (end-of-sequence)", "eos_token") }
            tokens.append(eosToken)
        }
        var seen = Set<String>()
        return tokens.filter { seen.insert($0).inserted }
    }

    /// The token that ends a `{"text"}` record: the first candidate that `hasToken` accepts.
    public func documentEnd(hasToken: (String) -> Bool) -> String? {
        for candidate in documentEndCandidates {
            if candidate == "{eos}" {
                if let eosToken, hasToken(eosToken) { return eosToken }
            } else if hasToken(candidate) {
                return candidate
            }
        }
        return nil
    }

    private func missingSpecial(_ what: String, _ key: String) -> LFError {
        LFError("the \(name) template writes the model's \(what) token, but the model does not name one",
                hint: "tokenizer_config.json should have \"\(key)\"; or pick the template that matches the model (--template auto)")
    }

    private func substitute(_ slot: String) throws -> String {
        var s = slot
        if s.contains("{bos}") {
            guard let bosToken else { throw missingSpecial("BOS (begin-of-sequence)", "bos_token") }
            s = s.replacingOccurrences(of: "{bos}", with: bosToken)
        }
        if s.contains("{eos}") {
            guard let eosToken else { throw missingSpecial("EOS (end-of-sequence)", "eos_token") }
            s = s.replacingOccurrences(of: "{eos}", with: eosToken)
        }
        return s
    }

    /// The slot with `content` in place of `{content}`. Placeholders are replaced in the slot before
    /// the content goes in, so text like `{eos}` inside a message stays as written.
    private func fill(_ slot: String, content: String) throws -> String {
        let range = slot.range(of: "{content}")!
        return try substitute(String(slot[..<range.lowerBound])) + content + substitute(String(slot[range.upperBound...]))
    }

    // MARK: Role rules

    /// The system content (if the first message is a system message) and the (user, assistant) pairs.
    ///
    /// The rule is LLaMA-Factory's (and most models' own templates'): at most one system message, and
    /// only first; then user and assistant strictly alternating, starting with user. For training the
    /// last message is an assistant message (a final user message with no answer teaches nothing and
    /// is refused rather than silently dropped).
    static func checkRoles(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> (String?, [(user: String, assistant: String?)]) {
        guard !messages.isEmpty else { throw ConversationError.empty }
        var system: String?
        var rest = messages[...]
        if messages[0].role == .system {
            system = messages[0].content
            rest = messages.dropFirst()
        }
        var pairs: [(user: String, assistant: String?)] = []
        for (i, message) in zip(rest.indices, rest) {
            let expected: ChatMessage.Role = (i - rest.startIndex) % 2 == 0 ? .user : .assistant
            guard message.role == expected else {
                if message.role == .system { throw ConversationError.systemNotFirst(index: i) }
                throw ConversationError.outOfOrder(index: i, expected: expected, found: message.role)
            }
            if expected == .user {
                pairs.append((message.content, nil))
            } else {
                pairs[pairs.count - 1].assistant = message.content
            }
        }
        if addGenerationPrompt {
            guard let last = pairs.last, last.assistant == nil else { throw ConversationError.noFinalUser }
        } else {
            guard pairs.contains(where: { $0.assistant != nil }) else { throw ConversationError.noAssistant }
            guard pairs.last?.assistant != nil else { throw ConversationError.endsWithUser(index: messages.count - 1) }
        }
        return (system, pairs)
    }
}

/// Why a conversation cannot be rendered. The packer adds the file and line.
public enum ConversationError: Error, Equatable, CustomStringConvertible, Sendable {
    case empty
    case noAssistant
    case endsWithUser(index: Int)
    case noFinalUser
    case systemNotFirst(index: Int)
    case outOfOrder(index: Int, expected: ChatMessage.Role, found: ChatMessage.Role)

    public var description: String {
        switch self {
        case .empty: return "empty conversation: \"messages\" has no messages"
        case .noAssistant: return "the conversation has no assistant message, so there is nothing to train on"
        case .endsWithUser(let i): return "messages[\(i)] is a user message with no assistant answer after it"
        case .noFinalUser: return "a generation prompt needs a conversation that ends with a user message"
        case .systemNotFirst(let i): return "messages[\(i)] is a system message; a system message may only come first"
        case .outOfOrder(let i, let expected, let found):
            return "messages[\(i)] has role \"\(found.rawValue)\" where \"\(expected.rawValue)\" was expected"
        }
    }

    /// A short reason key for counts (`--skip-invalid`).
    public var reason: String {
        switch self {
        case .empty: return "empty_conversation"
        case .noAssistant: return "no_assistant_turn"
        case .endsWithUser: return "ends_with_user"
        case .noFinalUser: return "no_final_user"
        case .systemNotFirst, .outOfOrder: return "roles_out_of_order"
        }
    }

    public var hint: String {
        switch self {
        case .empty, .noAssistant, .endsWithUser, .noFinalUser:
            return "a training conversation is [system?] user assistant [user assistant …]"
        case .systemNotFirst, .outOfOrder:
            return "after an optional first system message, roles must alternate user, assistant, user, … (as in LLaMA-Factory)"
        }
    }
}

/// A rendered conversation: its text, split where the trained spans begin and end.
public struct RenderedConversation: Sendable, Equatable {
    public struct Turn: Sendable, Equatable {
        /// The user turn up to and including the assistant header.
        public var prompt: String
        /// The answer with its stop suffix; empty for a generation prompt's last turn.
        public var response: String
    }

    /// BOS and the system block (empty for templates without either).
    public var prefix: String
    public var turns: [Turn]
    /// The text that ends every prompt (`<|im_start|>assistant\n`).
    public var assistantHeader: String
    /// The text that ends every response (`<|im_end|>\n`).
    public var stopSuffix: String
    public var endsWithGenerationPrompt: Bool

    /// The whole text, as the model's chat template writes it.
    public var text: String {
        var s = prefix
        for turn in turns { s += turn.prompt; s += turn.response }
        return s
    }

    public enum SegmentKind: Sendable, Equatable { case prefix, prompt, response }

    public struct Segment: Sendable, Equatable {
        public var kind: SegmentKind
        /// The turn the segment belongs to (nil for the prefix).
        public var turn: Int?
        public var text: String
    }

    /// The pieces that are tokenized separately: the prefix, then each turn's prompt and response.
    /// Their concatenation is `text`. Token ids are `segments.flatMap { encode($0.text, parseSpecial: true) }`.
    public var segments: [Segment] {
        var out: [Segment] = []
        if !prefix.isEmpty { out.append(Segment(kind: .prefix, turn: nil, text: prefix)) }
        for (i, turn) in turns.enumerated() {
            out.append(Segment(kind: .prompt, turn: i, text: turn.prompt))
            if !turn.response.isEmpty { out.append(Segment(kind: .response, turn: i, text: turn.response)) }
        }
        return out
    }

    /// The UTF-8 byte ranges of `text` that are assistant responses (answer + stop suffix), in order.
    public var responseSpans: [Range<Int>] {
        var spans: [Range<Int>] = []
        var offset = prefix.utf8.count
        for turn in turns {
            offset += turn.prompt.utf8.count
            let n = turn.response.utf8.count
            if n > 0 { spans.append(offset ..< offset + n) }
            offset += n
        }
        return spans
    }
}

/// Jinja's string behaviour where the templates rely on it.
public enum JinjaText {
    /// Python's `str.strip()` (what Jinja's `| trim` and `.strip()` do): removes leading and trailing
    /// characters for which `str.isspace()` is true.
    public static func trim(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPythonSpace($0) })!
        return String(scalars[first...last])
    }

    /// `str.isspace()`: Unicode White_Space plus the ASCII separators U+001C…U+001F.
    public static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}

