/// What the stages that consume token ids (packing, counting, chunking, evaluation) need from a
/// tokenizer. `Tokenizer` (tokenizer.json) is the implementation; tests may use small stand-ins.
public protocol TextTokenizer: Sendable {
    /// The ids of `text`. With `parseSpecial`, special tokens written in the text (`<|im_end|>`)
    /// become their ids; without it they are tokenised as ordinary text.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]

    /// The text of `ids`; with `skipSpecial`, special tokens are left out.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String

    /// The id of a token written as in the vocabulary or as an added token (`<|im_end|>`), if any.
    func tokenID(_ token: String) -> Int32?

    /// One more than the largest id (ids fit in u16 shards when this is ≤ 65536).
    var vocabularySize: Int { get }

    /// The sha256 of the tokenizer's canonical JSON: shards record it, and readers refuse a model
    /// whose tokenizer differs.
    var fingerprint: String { get }
}
