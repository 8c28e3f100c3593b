/// How records become training sequences (lf-tokenize pack's options).
public struct PackingOptions: Sendable, Equatable {
    /// The most tokens in a sequence (and so in a document).
    public var maxLength: Int = 2048
    /// Drop records longer than `maxLength` instead of truncating them.
    public var dropLong = false
    /// Put several documents in one sequence (with their boundaries stored) instead of one per sequence.
    public var packing = false
    /// Train on every token of a conversation, not only the assistant's answers.
    public var trainOnPrompt = false
    /// Train only on the last assistant answer of each conversation.
    public var maskHistory = false
    /// Shuffle the documents (and the packed sequences) with `seed`.
    public var shuffle = true
    public var seed: UInt64 = 0

    public init(maxLength: Int = 2048, dropLong: Bool = false, packing: Bool = false, trainOnPrompt: Bool = false,
                maskHistory: Bool = false, shuffle: Bool = true, seed: UInt64 = 0) {
        self.maxLength = maxLength
        self.dropLong = dropLong
        self.packing = packing
        self.trainOnPrompt = trainOnPrompt
        self.maskHistory = maskHistory
        self.shuffle = shuffle
        self.seed = seed
    }

    var manifestSettings: ShardManifest.Settings {
        var s = ShardManifest.Settings()
        s.trainOnPrompt = trainOnPrompt
        s.maskHistory = maskHistory
        s.dropLong = dropLong
        s.shuffle = shuffle
        s.seed = seed
        return s
    }
}
