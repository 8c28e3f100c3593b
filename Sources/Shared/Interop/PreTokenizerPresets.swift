/// The Hugging Face `pre_tokenizer` (and normalizer) that corresponds to each `tokenizer.ggml.pre`
/// name of a byte-level BPE GGUF.
///
/// llama.cpp picks a list of split regexes by that name (llama-vocab.cpp) and applies them one
/// after the other, keeping matches and the text between them as pieces: that is HF's `Split`
/// with behaviour `Isolated`. Where the model family has a well-known tokenizer.json (GPT-2,
/// Llama 3, Qwen2, SmolLM2, GPT-4o), lf writes that file's exact pre-tokenizer; both tokenise alike.
public struct PreTokenizerPreset: Sendable {
    public let normalizer: JSONValue
    public let preTokenizer: JSONValue
    /// Llama 3's tokenizer.json sets `ignore_merges` (llama.cpp does the same for `llama-bpe`).
    public let ignoreMerges: Bool

    /// The names lf knows, with the aliases llama.cpp treats identically.
    public static let supportedNames: [String] = [
        "default", "gpt-2", "mpt", "olmo", "jais", "smollm", "starcoder", "refact", "command-r", "codeshell",
        "exaone", "minerva", "llama-bpe", "llama3", "qwen2", "stablelm2", "gpt-4o",
    ]

    public static func named(_ name: String?) -> PreTokenizerPreset? {
        switch name ?? "default" {
        case "default":
            // llama.cpp's fallback list (used when convert did not recognise the tokenizer).
            return PreTokenizerPreset(
                normalizer: .null,
                preTokenizer: sequence(splits: [
                    #"[\p{P}\$\+<=>\^~\|]+"#,
                    #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#,
                    #"\p{N}+"#,
                    #"[0-9][0-9][0-9]"#,
                ]),
                ignoreMerges: false)
        case "gpt-2", "mpt", "olmo", "jais":
            // GPT-2's own pre-tokenizer: ByteLevel with its built-in regex.
            return PreTokenizerPreset(normalizer: .null, preTokenizer: byteLevel(useRegex: true, trimOffsets: true), ignoreMerges: false)
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva":
            // \p{N} split first, then the GPT-2 regex: SmolLM2's Digits + ByteLevel.
            return PreTokenizerPreset(
                normalizer: .null,
                preTokenizer: .object([
                    ("type", .string("Sequence")),
                    ("pretokenizers", .array([
                        .object([("type", .string("Digits")), ("individual_digits", .bool(true))]),
                        byteLevel(useRegex: true, trimOffsets: true),
                    ])),
                ]),
                ignoreMerges: false)
        case "llama-bpe", "llama3":
            return PreTokenizerPreset(
                normalizer: .null,
                preTokenizer: sequence(splits: [
                    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
                ]),
                ignoreMerges: true)
        case "qwen2", "stablelm2":
            return PreTokenizerPreset(
                normalizer: .object([("type", .string("NFC"))]),
                preTokenizer: sequence(splits: [
                    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
                ], trimOffsets: false),
                ignoreMerges: false)
        case "gpt-4o":
            return PreTokenizerPreset(
                normalizer: .null,
                preTokenizer: sequence(splits: [
                    #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
                ], trimOffsets: false),
                ignoreMerges: false)
        default:
            return nil
        }
    }

    static func byteLevel(useRegex: Bool, trimOffsets: Bool) -> JSONValue {
        .object([
            ("type", .string("ByteLevel")),
            ("add_prefix_space", .bool(false)),
            ("trim_offsets", .bool(trimOffsets)),
            ("use_regex", .bool(useRegex)),
        ])
    }

    /// `Sequence[Split(r, Isolated) for r in splits] + ByteLevel(use_regex: false)`.
    static func sequence(splits: [String], trimOffsets: Bool = true) -> JSONValue {
        let splitters: [JSONValue] = splits.map { pattern in
            .object([
                ("type", .string("Split")),
                ("pattern", .object([("Regex", .string(pattern))])),
                ("behavior", .string("Isolated")),
                ("invert", .bool(false)),
            ])
        }
        return .object([
            ("type", .string("Sequence")),
            ("pretokenizers", .array(splitters + [byteLevel(useRegex: false, trimOffsets: trimOffsets)])),
        ])
    }
}
