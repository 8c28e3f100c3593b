/// The tokenizer as a GGUF file stores it (`tokenizer.ggml.*`), independent of how it was read.
public struct GGUFVocabulary: Sendable {
    /// `tokenizer.ggml.model`: `gpt2` is byte-level BPE with merges; `llama` is a SentencePiece
    /// vocabulary with scores (merges are rebuilt from the scores).
    public enum Model: String, Sendable { case gpt2, llama }

    /// `tokenizer.ggml.token_type`, llama.cpp's `llama_token_type`.
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public var model: Model
    /// `tokenizer.ggml.pre`: which pre-tokenizer llama.cpp uses (gpt2 models only).
    public var pre: String?
    public var tokens: [String]
    public var tokenTypes: [TokenType]
    /// `"left right"` strings, in merge priority order (gpt2 models).
    public var merges: [String]
    /// Per-token scores (SentencePiece models: higher merges first).
    public var scores: [Float]?
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// End of turn (Llama 3's `<|eot_id|>`), a second stop token for generation.
    public var endOfTurnID: Int?
    public var addBOS: Bool?
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece's dummy prefix).
    public var addSpacePrefix: Bool?
    public var chatTemplate: String?

    public init(model: Model, pre: String? = nil, tokens: [String], tokenTypes: [TokenType]? = nil, merges: [String] = [],
                scores: [Float]? = nil, bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil, paddingID: Int? = nil,
                endOfTurnID: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil,
                chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes ?? Array(repeating: .normal, count: tokens.count)
        self.merges = merges
        self.scores = scores
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.endOfTurnID = endOfTurnID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }

    /// The token string at `id`, if `id` is in range.
    public func token(_ id: Int?) -> String? {
        guard let id, id >= 0, id < tokens.count else { return nil }
        return tokens[id]
    }
}
