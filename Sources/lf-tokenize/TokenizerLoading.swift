import Shared

/// The one place lf-tokenize's pack, stats and cat turn a model directory into a tokenizer.
///
/// The tokenizer itself (tokenizer.json → `Tokenizer`, a `TextTokenizer`) is built on another branch
/// of issue #4; until it is merged this says so. At the merge this becomes
/// `try Tokenizer(modelDirectory: modelDirectory)` (or whatever that branch names it).
func loadTokenizer(modelDirectory: String) throws -> any TextTokenizer {
    throw LFError("the tokenizer is not merged yet: lf-tokenize cannot read \(modelDirectory)/tokenizer.json in this build",
                  at: SourceLocation(file: modelDirectory),
                  hint: "tokenizer.json loading arrives with the encode/decode work of issue #4; "
                      + "stats and cat (without --tokenizer) work on existing shard directories")
}
