import Shared

/// The one place lf-format gets a tokenizer for `--tokenizer DIR` (token limits, token chunking,
/// token percentiles): a Hugging Face model directory or its tokenizer.json.
func loadTokenizer(directory: String) throws -> any TextTokenizer {
    try Tokenizer(path: directory)
}
