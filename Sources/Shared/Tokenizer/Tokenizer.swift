import Foundation

/// A Hugging Face tokenizer loaded from tokenizer.json, encoding and decoding exactly as the
/// `tokenizers` library does: added tokens → normalizer → pre-tokenizer → BPE → post-processor,
/// and decoder for the way back.
public final class Tokenizer: TextTokenizer, @unchecked Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    let added: AddedVocabulary
    let byteLevel: Bool
    /// The sha256 of the canonical JSON (computed on first use: sorting a large vocabulary takes time).
    public var fingerprint: String { fingerprintLock.withLock { computedFingerprint } }
    private let fingerprintLock = NSLock()
    private lazy var computedFingerprint: String = SHA256.hex(root.canonical().serialized(pretty: false))
    private let root: TokenizerJSON
    public let vocabularySize: Int
    /// Where the tokenizer was read from, for messages.
    public let source: String

    /// Loads `tokenizer.json` from a model directory.
    public static func load(directory: String) throws -> Tokenizer {
        try Tokenizer(path: directory)
    }

    /// Loads a tokenizer.json file, or the tokenizer.json of a model directory.
    public convenience init(path: String) throws {
        let file = try Self.tokenizerFile(path)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw LFError.io("read", path: file)
        }
        try self.init(data: data, source: file)
    }

    /// `path` itself, or `path/tokenizer.json` when `path` is a directory.
    static func tokenizerFile(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LFError("no such file or directory", at: SourceLocation(file: path),
                          hint: "give a Hugging Face model directory or its tokenizer.json")
        }
        guard isDirectory.boolValue else { return path }
        let file = (path as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file) else {
            let hasModel = FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("tokenizer.model"))
            throw LFError("no tokenizer.json in the model directory", at: SourceLocation(file: path),
                          hint: hasModel ? "only a sentencepiece tokenizer.model is there; save the tokenizer with transformers (AutoTokenizer.from_pretrained(dir).save_pretrained(dir)) to get tokenizer.json"
                                         : "point to a Hugging Face model directory or a tokenizer.json file")
        }
        return file
    }

    public init(data: Data, source: String) throws {
        self.source = source
        let root = try TokenizerJSON.parse(data, file: source)
        guard case .object = root.value else { throw root.error("expected a JSON object at the top level") }
        self.root = root

        normalizer = try root["normalizer"].map(Normalizers.make)
        preTokenizer = try root["pre_tokenizer"].map(PreTokenizers.make)
        postProcessor = try root["post_processor"].map(PostProcessors.make)
        decoder = try root["decoder"].map(TokenDecoders.make)

        let modelNode = try root.required("model")
        let modelType = try modelNode["type"]?.string() ?? (modelNode["merges"] != nil ? "BPE" : "?")
        guard modelType == "BPE" else {
            throw modelNode.unsupported("model", modelType, supported: ["BPE"])
        }
        model = try BPEModel(modelNode)
        byteLevel = preTokenizer?.isByteLevel ?? false

        var addedTokens: [AddedToken] = []
        for node in try root["added_tokens"]?.array() ?? [] {
            let id = try node.required("id").int()
            guard id >= 0, id < Int(Int32.max) else { throw node.error("added token id \(id) is out of range") }
            let content = try node.string("content")
            // A token the model's vocabulary already has keeps the model's id, as HF re-adds them.
            let modelID = model.vocab.get(content)
            if modelID == nil, id < model.tokens.count, !model.tokens[id].isEmpty {
                throw node.error("added token \(content.debugDescription) has id \(id), which the vocabulary gives to \(model.tokens[id].debugDescription)")
            }
            addedTokens.append(AddedToken(
                id: modelID ?? Int32(id), content: content, special: try node.bool("special", default: false),
                normalized: try node.bool("normalized", default: true), lstrip: try node.bool("lstrip", default: false),
                rstrip: try node.bool("rstrip", default: false), singleWord: try node.bool("single_word", default: false)))
        }
        added = AddedVocabulary(addedTokens, normalizer: normalizer)
        vocabularySize = max(model.tokens.count, Int(addedTokens.map(\.id).max() ?? -1) + 1)

        // The fingerprint hashes the canonical form (keys sorted, no whitespace), so that a file
        // re-saved with other formatting is the same tokenizer.
    }

    // MARK: - Encoding

    /// An encoder for one thread, with its own word cache (no locking). Loops that encode many
    /// texts, one session per thread, are the fast path; `Tokenizer.encode` shares one session
    /// behind a lock.
    public final class Session {
        let tokenizer: Tokenizer
        let cache = WordCache()

        init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }

        public func encode(_ text: String, parseSpecial: Bool = true, addSpecialTokens: Bool = false) -> [Int32] {
            tokenizer.encode(text, parseSpecial: parseSpecial, addSpecialTokens: addSpecialTokens, cache: cache)
        }
    }

    public func makeSession() -> Session { Session(self) }

    private let sharedLock = NSLock()
    private lazy var sharedCache = WordCache()

    /// The ids of `text`; special tokens written in the text are recognised when `parseSpecial`.
    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        encode(text, parseSpecial: parseSpecial, addSpecialTokens: false)
    }

    /// As above; `addSpecialTokens` runs the post-processor (BOS for Llama 3 and SentencePiece models).
    public func encode(_ text: String, parseSpecial: Bool = true, addSpecialTokens: Bool) -> [Int32] {
        sharedLock.withLock { encode(text, parseSpecial: parseSpecial, addSpecialTokens: addSpecialTokens, cache: sharedCache) }
    }

    func encode(_ text: String, parseSpecial: Bool, addSpecialTokens: Bool, cache: WordCache) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        for segment in added.segments(of: text, normalizer: normalizer, parseSpecial: parseSpecial) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let scalars, let atStart):
                if preTokenizer?.onlySplits ?? true {
                    encodeSplitting(scalars, cache: cache, into: &ids)
                } else {
                    let piece = Piece(scalars: scalars, atStart: atStart)
                    for p in preTokenizer?.preTokenize([piece]) ?? [piece] {
                        model.encode(p.scalars, byteLevel: byteLevel, cache: cache, into: &ids)
                    }
                }
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
        return ids
    }

    /// The fast path, for pre-tokenizers that only cut text: pieces are ranges of one buffer of
    /// scalars and one of their UTF-8 bytes, and nothing is copied per piece.
    private func encodeSplitting(_ scalars: [Unicode.Scalar], cache: WordCache, into ids: inout [Int32]) {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(scalars.count + scalars.count / 2)
        var offsets: [Int] = []
        offsets.reserveCapacity(scalars.count + 1)
        for c in scalars {
            offsets.append(utf8.count)
            UTF8.encode(c) { utf8.append($0) }
        }
        offsets.append(utf8.count)
        scalars.withUnsafeBufferPointer { s in
            utf8.withUnsafeBytes { b in
                offsets.withUnsafeBufferPointer { o in
                    func emit(_ r: Range<Int>) {
                        model.encode(bytes: UnsafeRawBufferPointer(rebasing: b[o[r.lowerBound]..<o[r.upperBound]]),
                                     scalars: UnsafeBufferPointer(rebasing: s[r]), byteLevel: byteLevel, cache: cache, into: &ids)
                    }
                    if let preTokenizer { preTokenizer.forEachPiece(in: s, 0..<s.count, emit) } else if !s.isEmpty { emit(0..<s.count) }
                }
            }
        }
    }

    // MARK: - Decoding

    public func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let a = added.byID[id] {
                if skipSpecial && a.special { continue }
                tokens.append(added.decodedContent(a))
            } else if id >= 0, Int(id) < model.tokens.count, !model.tokens[Int(id)].isEmpty {
                tokens.append(model.tokens[Int(id)])
            }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }

    public func tokenID(_ token: String) -> Int32? {
        added.byContent.get(token) ?? model.vocab.get(token)
    }

    /// The string of token `id` as the vocabulary writes it (byte-level alphabet for GPT-2-style models).
    public func token(_ id: Int32) -> String? {
        if let a = added.byID[id] { return a.content }
        guard id >= 0, Int(id) < model.tokens.count, !model.tokens[Int(id)].isEmpty else { return nil }
        return model.tokens[Int(id)]
    }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int32) -> Bool { added.byID[id]?.special ?? false }
}
