import Foundation

/// manifest.json of a shard directory (the binary layout of the shard files is described at the
/// top of ShardWriter.swift).
///
/// ```json
/// {
///   "format": "lf-shards",
///   "format_version": 1,
///   "tokenizer": {"fingerprint": "<sha256 of the tokenizer's canonical JSON>", "vocab_size": 49152},
///   "id_bytes": 2,
///   "template": {"name": "chatml", "default_system": "…" | null, "bos_token": … | null,
///                "eos_token": … | null, "stop_tokens": ["<|im_end|>"]},
///   "max_length": 2048,
///   "packing": true,
///   "settings": {"train_on_prompt": false, "mask_history": false, "drop_long": false,
///                "shuffle": true, "seed": 0},
///   "counts": {"records": 1000, "chat_records": 990, "text_records": 10, "records_truncated": 3,
///              "text_records_split": 1, "records_dropped": {"too_long": 2},
///              "documents": 998, "sequences": 420, "tokens": 812345, "trained_tokens": 301234},
///   "files": [{"name": "shard-00000.zst", "bytes": 1048000, "sha256": "…",
///              "sequences": 420, "tokens": 812345, "trained_tokens": 301234}]
/// }
/// ```
///
/// Keys are written in this order, so the same inputs give the same bytes. Readers require
/// `format`, `format_version`, `tokenizer`, `id_bytes`, `max_length`, `counts` and `files`, and
/// ignore keys they do not know (a later minor addition does not break them).
public struct ShardManifest: Sendable, Equatable {
    public static let formatName = "lf-shards"
    public static let formatVersion = 1
    public static let fileName = "manifest.json"

    public struct Template: Sendable, Equatable {
        public var name: String
        public var defaultSystem: String?
        public var bosToken: String?
        public var eosToken: String?
        public var stopTokens: [String]

        public init(name: String, defaultSystem: String? = nil, bosToken: String? = nil, eosToken: String? = nil, stopTokens: [String] = []) {
            self.name = name
            self.defaultSystem = defaultSystem
            self.bosToken = bosToken
            self.eosToken = eosToken
            self.stopTokens = stopTokens
        }
    }

    public struct Settings: Sendable, Equatable {
        public var trainOnPrompt = false
        public var maskHistory = false
        public var dropLong = false
        public var shuffle = false
        public var seed: UInt64 = 0
        public init() {}
    }

    public struct Counts: Sendable, Equatable {
        public var records = 0
        public var chatRecords = 0
        public var textRecords = 0
        public var recordsTruncated = 0
        public var textRecordsSplit = 0
        /// Records left out, by reason (`too_long`, `too_long_to_truncate`, and with `--skip-invalid`
        /// the reasons records were invalid).
        public var recordsDropped: [String: Int] = [:]
        public var documents = 0
        public var sequences = 0
        public var tokens = 0
        public var trainedTokens = 0
        public init() {}

        public var droppedTotal: Int { recordsDropped.values.reduce(0, +) }
    }

    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var sha256: String
        public var sequences: Int
        public var tokens: Int
        public var trainedTokens: Int

        public init(name: String, bytes: Int, sha256: String, sequences: Int, tokens: Int, trainedTokens: Int) {
            self.name = name
            self.bytes = bytes
            self.sha256 = sha256
            self.sequences = sequences
            self.tokens = tokens
            self.trainedTokens = trainedTokens
        }
    }

    public var tokenizerFingerprint: String
    public var vocabularySize: Int
    /// 2 (u16 ids) when every id fits, else 4 (u32).
    public var idBytes: Int
    public var template: Template?
    public var maxLength: Int
    public var packing: Bool
    public var settings: Settings
    public var counts: Counts
    public var files: [File]

    public init(tokenizerFingerprint: String, vocabularySize: Int, idBytes: Int = 2, template: Template?, maxLength: Int,
                packing: Bool, settings: Settings = Settings(), counts: Counts = Counts(), files: [File] = []) {
        self.tokenizerFingerprint = tokenizerFingerprint
        self.vocabularySize = vocabularySize
        self.idBytes = idBytes
        self.template = template
        self.maxLength = maxLength
        self.packing = packing
        self.settings = settings
        self.counts = counts
        self.files = files
    }

    // MARK: JSON

    public var json: JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let template: JSONValue = self.template.map { t in
            .object([
                ("name", .string(t.name)),
                ("default_system", optional(t.defaultSystem)),
                ("bos_token", optional(t.bosToken)),
                ("eos_token", optional(t.eosToken)),
                ("stop_tokens", .array(t.stopTokens.map { .string($0) })),
            ])
        } ?? .null
        return .object([
            ("format", .string(Self.formatName)),
            ("format_version", .int(Self.formatVersion)),
            ("tokenizer", .object([("fingerprint", .string(tokenizerFingerprint)), ("vocab_size", .int(vocabularySize))])),
            ("id_bytes", .int(idBytes)),
            ("template", template),
            ("max_length", .int(maxLength)),
            ("packing", .bool(packing)),
            ("settings", .object([
                ("train_on_prompt", .bool(settings.trainOnPrompt)),
                ("mask_history", .bool(settings.maskHistory)),
                ("drop_long", .bool(settings.dropLong)),
                ("shuffle", .bool(settings.shuffle)),
                ("seed", .int(Int(truncatingIfNeeded: settings.seed))),
            ])),
            ("counts", .object([
                ("records", .int(counts.records)),
                ("chat_records", .int(counts.chatRecords)),
                ("text_records", .int(counts.textRecords)),
                ("records_truncated", .int(counts.recordsTruncated)),
                ("text_records_split", .int(counts.textRecordsSplit)),
                ("records_dropped", .object(counts.recordsDropped.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("documents", .int(counts.documents)),
                ("sequences", .int(counts.sequences)),
                ("tokens", .int(counts.tokens)),
                ("trained_tokens", .int(counts.trainedTokens)),
            ])),
            ("files", .array(files.map { f in
                .object([
                    ("name", .string(f.name)), ("bytes", .int(f.bytes)), ("sha256", .string(f.sha256)),
                    ("sequences", .int(f.sequences)), ("tokens", .int(f.tokens)), ("trained_tokens", .int(f.trainedTokens)),
                ])
            })),
        ])
    }

    /// Reads and checks manifest.json. Every problem names the file and the key.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            if !FileManager.default.fileExists(atPath: path) {
                throw LFError("the shard directory has no manifest.json", at: SourceLocation(file: path),
                              hint: "is this a directory written by lf-tokenize pack? An interrupted pack leaves no directory at all")
            }
            throw LFError.io("read", path: path)
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            throw LFError("manifest.json is not valid JSON", at: SourceLocation(file: path), hint: "the shard directory is damaged; pack it again")
        }
        try self.init(json: value, file: path)
    }

    public init(json value: JSONValue, file: String) throws {
        let r = ManifestReader(file: file)
        let format = try r.string(value, "format")
        guard format == Self.formatName else {
            throw r.error("\"format\" is \"\(format)\", not \"\(Self.formatName)\"", key: "format")
        }
        let version = try r.int(value, "format_version")
        guard version == Self.formatVersion else {
            throw r.error("format_version \(version) is not supported (this lf reads version \(Self.formatVersion))", key: "format_version",
                          hint: "use the lf-tokenize that wrote it, or pack the data again")
        }
        let tokenizer = try r.object(value, "tokenizer")
        tokenizerFingerprint = try r.string(tokenizer, "fingerprint", path: "tokenizer.fingerprint")
        vocabularySize = try r.int(tokenizer, "vocab_size", path: "tokenizer.vocab_size", min: 1)
        idBytes = try r.int(value, "id_bytes")
        guard idBytes == 2 || idBytes == 4 else { throw r.error("id_bytes is \(idBytes), expected 2 or 4", key: "id_bytes") }
        guard idBytes == 4 || vocabularySize <= 65536 else {
            throw r.error("id_bytes is 2 but the vocabulary has \(vocabularySize) ids", key: "id_bytes")
        }
        if case .object? = value["template"], let t = value["template"] {
            let name = try r.string(t, "name", path: "template.name")
            var stops: [String] = []
            if case .array(let items)? = t["stop_tokens"] {
                for item in items { if case .string(let s) = item { stops.append(s) } }
            }
            template = Template(name: name, defaultSystem: r.optionalString(t, "default_system"), bosToken: r.optionalString(t, "bos_token"),
                                eosToken: r.optionalString(t, "eos_token"), stopTokens: stops)
        } else {
            template = nil
        }
        maxLength = try r.int(value, "max_length", min: 1)
        if case .bool(let b)? = value["packing"] { packing = b } else { packing = false }
        settings = Settings()
        if let s = value["settings"] {
            if case .bool(let b)? = s["train_on_prompt"] { settings.trainOnPrompt = b }
            if case .bool(let b)? = s["mask_history"] { settings.maskHistory = b }
            if case .bool(let b)? = s["drop_long"] { settings.dropLong = b }
            if case .bool(let b)? = s["shuffle"] { settings.shuffle = b }
            if case .int(let n)? = s["seed"] { settings.seed = UInt64(truncatingIfNeeded: n) }
        }
        let c = try r.object(value, "counts")
        counts = Counts()
        counts.records = r.optionalInt(c, "records") ?? 0
        counts.chatRecords = r.optionalInt(c, "chat_records") ?? 0
        counts.textRecords = r.optionalInt(c, "text_records") ?? 0
        counts.recordsTruncated = r.optionalInt(c, "records_truncated") ?? 0
        counts.textRecordsSplit = r.optionalInt(c, "text_records_split") ?? 0
        if case .object(let entries)? = c["records_dropped"] {
            for (key, v) in entries { if case .int(let n) = v { counts.recordsDropped[key] = n } }
        }
        counts.documents = r.optionalInt(c, "documents") ?? 0
        counts.sequences = try r.int(c, "sequences", path: "counts.sequences")
        counts.tokens = try r.int(c, "tokens", path: "counts.tokens")
        counts.trainedTokens = try r.int(c, "trained_tokens", path: "counts.trained_tokens")
        guard case .array(let items)? = value["files"] else { throw r.error("missing \"files\" (a list)", key: "files") }
        files = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let p = "files[\(i)]"
            let name = try r.string(item, "name", path: "\(p).name")
            guard ShardWriter.isShardFileName(name) else {
                throw r.error("\"\(name)\" is not a shard file name (shard-NNNNN.zst)", key: "\(p).name")
            }
            guard names.insert(name).inserted else { throw r.error("\(name) is listed twice", key: "\(p).name") }
            let sha = try r.string(item, "sha256", path: "\(p).sha256")
            guard sha.count == 64, sha.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw r.error("\"\(sha)\" is not a lower-case hex sha256", key: "\(p).sha256")
            }
            files.append(File(name: name, bytes: try r.int(item, "bytes", path: "\(p).bytes"), sha256: sha,
                              sequences: try r.int(item, "sequences", path: "\(p).sequences"),
                              tokens: try r.int(item, "tokens", path: "\(p).tokens"),
                              trainedTokens: try r.int(item, "trained_tokens", path: "\(p).trained_tokens")))
        }
        let sums = (files.reduce(0) { $0 + $1.sequences }, files.reduce(0) { $0 + $1.tokens }, files.reduce(0) { $0 + $1.trainedTokens })
        guard sums.0 == counts.sequences, sums.1 == counts.tokens, sums.2 == counts.trainedTokens else {
            throw r.error("the files hold \(sums.0) sequences, \(sums.1) tokens and \(sums.2) trained tokens, but counts say "
                          + "\(counts.sequences), \(counts.tokens) and \(counts.trainedTokens)", key: "counts")
        }
    }
}

/// Typed access to the manifest's JSON with errors that name the key.
struct ManifestReader {
    var file: String

    func error(_ message: String, key: String, hint: String? = "the shard directory is damaged or was edited; pack it again") -> LFError {
        LFError(message, at: SourceLocation(file: file, field: key), hint: hint)
    }

    func object(_ v: JSONValue, _ key: String, path: String? = nil) throws -> JSONValue {
        guard let x = v[key], case .object = x else { throw error("missing or not an object", key: path ?? key) }
        return x
    }

    func string(_ v: JSONValue, _ key: String, path: String? = nil) throws -> String {
        guard case .string(let s)? = v[key] else { throw error("missing or not a string", key: path ?? key) }
        return s
    }

    func int(_ v: JSONValue, _ key: String, path: String? = nil, min: Int = 0) throws -> Int {
        guard case .int(let n)? = v[key] else { throw error("missing or not an integer", key: path ?? key) }
        guard n >= min else { throw error("\(n) is less than \(min)", key: path ?? key) }
        return n
    }

    func optionalString(_ v: JSONValue, _ key: String) -> String? {
        if case .string(let s)? = v[key] { return s }
        return nil
    }

    func optionalInt(_ v: JSONValue, _ key: String) -> Int? {
        if case .int(let n)? = v[key] { return n }
        return nil
    }
}
