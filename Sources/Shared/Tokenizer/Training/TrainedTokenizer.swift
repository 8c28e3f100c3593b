import Foundation

/// The tokenizer.json of a vocabulary lf trains, for one of the byte-level pre-tokenizer families,
/// laid out as Hugging Face tokenizers writes the same tokenizer (so it loads there and here).
public enum TrainedTokenizer {
    public enum Family: String, CaseIterable, Sendable {
        case smollm, gpt2, llama3, qwen2
    }

    /// The normalizer and pre-tokenizer a family trains and encodes with.
    static func pipeline(_ family: Family) -> (normalizer: JSONValue, preTokenizer: JSONValue) {
        let byteLevel = { (regex: Bool, trim: Bool) -> JSONValue in
            .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(trim)), ("use_regex", .bool(regex))])
        }
        let split = { (regex: String) -> JSONValue in
            .object([("type", .string("Split")), ("pattern", .object([("Regex", .string(regex))])),
                     ("behavior", .string("Isolated")), ("invert", .bool(false))])
        }
        switch family {
        case .gpt2:
            return (.null, byteLevel(true, true))
        case .smollm:
            return (.null, .object([("type", .string("Sequence")), ("pretokenizers", .array([
                .object([("type", .string("Digits")), ("individual_digits", .bool(true))]), byteLevel(true, true),
            ]))]))
        case .llama3:
            return (.null, .object([("type", .string("Sequence")), ("pretokenizers", .array([split(SplitPattern.llama3Regex), byteLevel(false, true)]))]))
        case .qwen2:
            return (.object([("type", .string("NFC"))]),
                    .object([("type", .string("Sequence")), ("pretokenizers", .array([split(SplitPattern.qwen2Regex), byteLevel(false, false)]))]))
        }
    }

    /// The normalizer and pre-tokenizer as objects, for cutting the training text into words.
    static func components(_ family: Family) throws -> (Normalizer?, PreTokenizer) {
        let (normalizer, pre) = pipeline(family)
        let node = { (value: JSONValue) throws -> TokenizerJSON in
            try TokenizerJSON.parse(Data(value.serialized(pretty: false).utf8), file: "<\(family.rawValue) preset>")
        }
        return (normalizer == .null ? nil : try Normalizers.make(node(normalizer)), try PreTokenizers.make(node(pre)))
    }

    /// Counts the words of `texts` as `family` cuts them (normalizer, added special tokens, pre-tokenizer).
    public static func countWords<S: Sequence>(_ texts: S, family: Family, specialTokens: [String]) throws -> BPETrainer.WordCounts
    where S.Element == String {
        let (normalizer, pre) = try components(family)
        let specials = AddedVocabulary(specialTokens.enumerated().map {
            AddedToken(id: Int32($0.offset), content: $0.element, special: true, normalized: false, lstrip: false, rstrip: false, singleWord: false)
        }, normalizer: normalizer)
        var counts = BPETrainer.WordCounts()
        for text in texts {
            for segment in specials.segments(of: text, normalizer: normalizer, parseSpecial: true) {
                guard case .text(let scalars, let atStart) = segment else { continue }
                for piece in pre.preTokenize([Piece(scalars: scalars, atStart: atStart)]) {
                    var bytes: [UInt8] = []
                    for c in piece.scalars { UTF8.encode(c) { bytes.append($0) } }
                    counts.add(bytes)
                }
            }
        }
        return counts
    }

    /// tokenizer.json for a training result.
    public static func json(_ result: BPETrainer.Result, family: Family, specialTokens: [String]) -> JSONValue {
        let (normalizer, pre) = pipeline(family)
        let byteLevelPost: JSONValue = .object([
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(false)), ("use_regex", .bool(true)),
        ])
        let added: [JSONValue] = specialTokens.map { token in
            .object([("id", .int(result.vocabulary.firstIndex(of: token) ?? 0)), ("content", .string(token)), ("single_word", .bool(false)),
                     ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)), ("special", .bool(true))])
        }
        return .object([
            ("version", .string("1.0")),
            ("truncation", .null),
            ("padding", .null),
            ("added_tokens", .array(added)),
            ("normalizer", normalizer),
            ("pre_tokenizer", pre),
            // SmolLM2's own file has no post-processor; the others carry ByteLevel's (offsets only).
            ("post_processor", family == .smollm ? .null : byteLevelPost),
            ("decoder", .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)), ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])),
            ("model", .object([
                ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
                ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
                ("ignore_merges", .bool(family == .llama3)),
                ("vocab", .object(result.vocabulary.enumerated().map { ($0.element, .int($0.offset)) })),
                ("merges", .array(result.merges.map { .array([.string($0.0), .string($0.1)]) })),
            ])),
        ])
    }
}
