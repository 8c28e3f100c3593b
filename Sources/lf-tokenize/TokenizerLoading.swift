import Shared

/// The one place lf-tokenize's pack, stats and cat turn a model directory (or a tokenizer.json)
/// into a tokenizer.
func loadTokenizer(modelDirectory: String) throws -> any TextTokenizer {
    try Tokenizer(path: modelDirectory)
}
