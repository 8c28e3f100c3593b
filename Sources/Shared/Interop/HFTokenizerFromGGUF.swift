/// Rebuilds the Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json,
/// special_tokens_map.json) from a GGUF vocabulary.
///
/// - `gpt2` vocabularies become byte-level BPE with the pre-tokenizer `tokenizer.ggml.pre` names
///   (see PreTokenizerPreset); no normalizer except Qwen2's NFC; decoder ByteLevel.
/// - `llama` (SentencePiece) vocabularies become what transformers' LlamaConverter writes:
///   normalizer Prepend("▁") + Replace(" " → "▁"), BPE with byte fallback and merges rebuilt from
///   the scores, decoder Replace/ByteFallback/Fuse/Strip.
/// Control and unknown tokens become special added tokens; user-defined tokens plain added tokens.
/// A post-processor is written only when the GGUF says BOS or EOS is added.
public struct HFTokenizerFiles {
    public var tokenizerJSON: JSONValue
    public var tokenizerConfig: JSONValue
    public var specialTokensMap: JSONValue

    /// - Parameters:
    ///   - source: the file name for error messages.
    ///   - modelMaxLength: the context length (`model_max_length` in tokenizer_config.json).
    public init(vocabulary v: GGUFVocabulary, modelMaxLength: Int?, source: String) throws {
        let n = v.tokens.count
        guard n > 0 else {
            throw LFError.input("the GGUF vocabulary is empty", file: source, field: "tokenizer.ggml.tokens")
        }
        guard v.tokenTypes.count == n else {
            throw LFError.input("tokenizer.ggml.token_type has \(v.tokenTypes.count) entries for \(n) tokens",
                                file: source, field: "tokenizer.ggml.token_type")
        }
        for (name, id) in [("bos", v.bosID), ("eos", v.eosID), ("unknown", v.unknownID), ("padding", v.paddingID), ("eot", v.endOfTurnID)] {
            if let id, id < 0 || id >= n {
                throw LFError.input("tokenizer.ggml.\(name)_token_id is \(id), outside the vocabulary of \(n) tokens",
                                    file: source, field: "tokenizer.ggml.\(name)_token_id")
            }
        }
        var vocab: [(String, JSONValue)] = []
        vocab.reserveCapacity(n)
        var seen = Set<String>(minimumCapacity: n)
        for (id, token) in v.tokens.enumerated() {
            guard seen.insert(token).inserted else {
                throw LFError.input("token \(id) (\(token.debugDescription)) appears twice in the vocabulary",
                                    file: source, field: "tokenizer.ggml.tokens")
            }
            vocab.append((token, .int(id)))
        }

        let added = Self.addedTokens(v)
        let model: JSONValue
        let normalizer: JSONValue
        let preTokenizer: JSONValue
        let decoder: JSONValue
        switch v.model {
        case .gpt2:
            guard let preset = PreTokenizerPreset.named(v.pre) else {
                throw LFError.input("unknown pre-tokenizer \"\(v.pre ?? "")\"", file: source, field: "tokenizer.ggml.pre",
                                    hint: "lf knows: " + PreTokenizerPreset.supportedNames.joined(separator: ", "))
            }
            let merges = try Self.mergePairs(v.merges, source: source)
            model = Self.bpeModel(vocab: vocab, merges: merges, unknown: nil, byteFallback: false, fuseUnknown: false,
                                  ignoreMerges: preset.ignoreMerges)
            normalizer = preset.normalizer
            preTokenizer = preset.preTokenizer
            decoder = .object([
                ("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                ("trim_offsets", .bool(true)), ("use_regex", .bool(true)),
            ])
        case .llama:
            guard let scores = v.scores, scores.count == n else {
                throw LFError.input("a SentencePiece vocabulary needs tokenizer.ggml.scores with one score per token",
                                    file: source, field: "tokenizer.ggml.scores")
            }
            let merges = v.merges.isEmpty ? Self.sentencePieceMerges(tokens: v.tokens, scores: scores)
                                           : try Self.mergePairs(v.merges, source: source)
            let prefix = v.addSpacePrefix ?? true
            model = Self.bpeModel(vocab: vocab, merges: merges, unknown: v.token(v.unknownID), byteFallback: true,
                                  fuseUnknown: true, ignoreMerges: false)
            let replace: JSONValue = .object([
                ("type", .string("Replace")), ("pattern", .object([("String", .string(" "))])), ("content", .string("\u{2581}")),
            ])
            normalizer = prefix
                ? .object([("type", .string("Sequence")), ("normalizers", .array([
                    .object([("type", .string("Prepend")), ("prepend", .string("\u{2581}"))]), replace,
                ]))])
                : replace
            preTokenizer = .null
            var decoders: [JSONValue] = [
                .object([("type", .string("Replace")), ("pattern", .object([("String", .string("\u{2581}"))])), ("content", .string(" "))]),
                .object([("type", .string("ByteFallback"))]),
                .object([("type", .string("Fuse"))]),
            ]
            if prefix {
                decoders.append(.object([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))]))
            }
            decoder = .object([("type", .string("Sequence")), ("decoders", .array(decoders))])
        }

        tokenizerJSON = .object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(added.map { Self.addedTokenJSON($0, withID: true) })),
            ("normalizer", normalizer),
            ("pre_tokenizer", preTokenizer),
            ("post_processor", Self.postProcessor(v)),
            ("decoder", decoder),
            ("model", model),
        ])

        // tokenizer_config.json and special_tokens_map.json, keys sorted as transformers writes them.
        let inTemplate = added.filter { $0.special && (v.chatTemplate?.contains($0.content) ?? false) }.map(\.content)
        var config: [(String, JSONValue)] = []
        if v.model == .gpt2 { config.append(("add_prefix_space", .bool(false))) }
        if v.addBOS == true { config.append(("add_bos_token", .bool(true))) }
        if v.addEOS == true { config.append(("add_eos_token", .bool(true))) }
        config.append(("added_tokens_decoder", .object(added.map { (String($0.id), Self.addedTokenJSON($0, withID: false)) })))
        if !inTemplate.isEmpty { config.append(("additional_special_tokens", .array(inTemplate.map { .string($0) }))) }
        let named: [(String, Int?)] = [("bos_token", v.bosID), ("eos_token", v.eosID), ("pad_token", v.paddingID), ("unk_token", v.unknownID)]
        for (key, id) in named {
            config.append((key, v.token(id).map { .string($0) } ?? .null))
        }
        if let template = v.chatTemplate { config.append(("chat_template", .string(template))) }
        config.append(("clean_up_tokenization_spaces", .bool(false)))
        if let modelMaxLength { config.append(("model_max_length", .int(modelMaxLength))) }
        config.append(("tokenizer_class", .string("PreTrainedTokenizerFast")))
        config.append(("vocab_size", .int(n)))
        tokenizerConfig = .object(config.sorted { $0.0 < $1.0 })

        var map: [(String, JSONValue)] = []
        if !inTemplate.isEmpty { map.append(("additional_special_tokens", .array(inTemplate.map { .string($0) }))) }
        for (key, id) in named {
            if let token = v.token(id) { map.append((key, .string(token))) }
        }
        specialTokensMap = .object(map)
    }

    struct AddedToken {
        var id: Int
        var content: String
        var special: Bool
    }

    /// Control and unknown tokens (special), and user-defined ones (not special), in id order.
    static func addedTokens(_ v: GGUFVocabulary) -> [AddedToken] {
        var out: [AddedToken] = []
        for (id, type) in v.tokenTypes.enumerated() {
            switch type {
            case .control, .unknown: out.append(AddedToken(id: id, content: v.tokens[id], special: true))
            case .userDefined: out.append(AddedToken(id: id, content: v.tokens[id], special: false))
            default: break
            }
        }
        return out
    }

    static func addedTokenJSON(_ t: AddedToken, withID: Bool) -> JSONValue {
        // The two files order the fields differently: tokenizer.json as the Rust crate writes it,
        // tokenizer_config.json sorted.
        if withID {
            return .object([
                ("id", .int(t.id)), ("content", .string(t.content)), ("single_word", .bool(false)),
                ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(!t.special)),
                ("special", .bool(t.special)),
            ])
        }
        return .object([
            ("content", .string(t.content)), ("lstrip", .bool(false)), ("normalized", .bool(!t.special)),
            ("rstrip", .bool(false)), ("single_word", .bool(false)), ("special", .bool(t.special)),
        ])
    }

    static func bpeModel(vocab: [(String, JSONValue)], merges: [(String, String)], unknown: String?, byteFallback: Bool,
                         fuseUnknown: Bool, ignoreMerges: Bool) -> JSONValue {
        .object([
            ("type", .string("BPE")),
            ("dropout", .null),
            ("unk_token", unknown.map { .string($0) } ?? .null),
            ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null),
            ("fuse_unk", .bool(fuseUnknown)),
            ("byte_fallback", .bool(byteFallback)),
            ("ignore_merges", .bool(ignoreMerges)),
            ("vocab", .object(vocab)),
            ("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) })),
        ])
    }

    /// `"Ġ t"` → ("Ġ", "t"). Byte-level tokens never contain a plain space, so the first space splits.
    static func mergePairs(_ merges: [String], source: String) throws -> [(String, String)] {
        try merges.enumerated().map { index, merge in
            guard let space = merge.firstIndex(of: " "), space != merge.startIndex, merge.index(after: space) != merge.endIndex else {
                throw LFError.input("merge \(index) (\(merge.debugDescription)) is not two tokens separated by a space",
                                    file: source, field: "tokenizer.ggml.merges")
            }
            return (String(merge[..<space]), String(merge[merge.index(after: space)...]))
        }
    }

    /// A TemplateProcessing that adds BOS and/or EOS, as the GGUF's add_bos/add_eos flags say.
    static func postProcessor(_ v: GGUFVocabulary) -> JSONValue {
        let bos = v.addBOS == true ? v.token(v.bosID) : nil
        let eos = v.addEOS == true ? v.token(v.eosID) : nil
        guard bos != nil || eos != nil else { return .null }
        func special(_ token: String, _ typeID: Int) -> JSONValue {
            .object([("SpecialToken", .object([("id", .string(token)), ("type_id", .int(typeID))]))])
        }
        func sequence(_ id: String, _ typeID: Int) -> JSONValue {
            .object([("Sequence", .object([("id", .string(id)), ("type_id", .int(typeID))]))])
        }
        var single: [JSONValue] = []
        var pair: [JSONValue] = []
        if let bos { single.append(special(bos, 0)) }
        single.append(sequence("A", 0))
        if let eos { single.append(special(eos, 0)) }
        pair = single
        if let bos { pair.append(special(bos, 1)) }
        pair.append(sequence("B", 1))
        if let eos { pair.append(special(eos, 1)) }
        var specials: [(String, JSONValue)] = []
        for (token, id) in [(bos, v.bosID), (eos, v.eosID)] {
            guard let token, let id, !specials.contains(where: { $0.0 == token }) else { continue }
            specials.append((token, .object([("id", .string(token)), ("ids", .array([.int(id)])), ("tokens", .array([.string(token)]))])))
        }
        return .object([
            ("type", .string("TemplateProcessing")),
            ("single", .array(single)),
            ("pair", .array(pair)),
            ("special_tokens", .object(specials)),
        ])
    }

    /// Merges of a SentencePiece BPE vocabulary, as transformers' `generate_merges` derives them:
    /// every split of every piece into two pieces of the vocabulary is a merge; merges are ordered
    /// by the score of the merged piece (highest first), then by the lengths of the two halves
    /// (longer first), stably in vocabulary order.
    public static func sentencePieceMerges(tokens: [String], scores: [Float]) -> [(String, String)] {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        struct Candidate { var left: String; var right: String; var score: Float; var leftLength: Int; var rightLength: Int; var order: Int }
        var candidates: [Candidate] = []
        for (pieceID, piece) in tokens.enumerated() {
            let scalars = Array(piece.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(Int, Int, Candidate)] = []
            for cut in 1..<scalars.count {
                let left = String(String.UnicodeScalarView(scalars[..<cut]))
                let right = String(String.UnicodeScalarView(scalars[cut...]))
                if let l = ids[left], let r = ids[right] {
                    local.append((l, r, Candidate(left: left, right: right, score: scores[pieceID], leftLength: cut,
                                                  rightLength: scalars.count - cut, order: 0)))
                }
            }
            local.sort { ($0.0, $0.1) < ($1.0, $1.1) }
            for (_, _, c) in local {
                var c = c
                c.order = candidates.count
                candidates.append(c)
            }
        }
        // Python: sorted(key=(score, len(l), len(r)), reverse=True) is stable, so equal keys keep
        // their original order.
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return a.order < b.order
        }
        return candidates.map { ($0.left, $0.right) }
    }
}
