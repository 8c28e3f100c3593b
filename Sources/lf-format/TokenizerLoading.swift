import Shared

/// The one place lf-format gets a tokenizer for `--tokenizer DIR` (token limits, token chunking,
/// token percentiles). Everything token-based is written against `TextTokenizer`; this function is
/// wired to lf's tokenizer.json loader when that lands (issue #4).
func loadTokenizer(directory: String) throws -> any TextTokenizer {
    throw LFError.usage(
        "--tokenizer \(directory): token-based options need lf's tokenizer (issue #4), which is not merged yet",
        hint: "use the character-based options for now: --min-chars/--max-chars, --chunk-unit chars")
}
