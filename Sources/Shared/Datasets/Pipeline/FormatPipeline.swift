import Foundation

/// One input of a run: a record source and how to read its records.
public struct FormatInput {
    /// The name used in messages and in the summary (the path, or the dataset_info name).
    public var name: String
    public var source: RecordSource
    /// nil: recognise the schema from the first record (`SchemaSpec.detect`).
    public var spec: SchemaSpec?

    public init(name: String, source: RecordSource, spec: SchemaSpec?) {
        self.name = name
        self.source = source
        self.spec = spec
    }
}

/// What lf-format makes of the records it reads.
public enum FormatMode {
    /// Each record becomes one canonical record (chat, or text for text records).
    case convert
    /// Each document (text record) becomes continued-pre-training chunks.
    case text(DocumentChunker)
    /// Each document becomes instruction records by a pattern.
    case qa(QAPattern)
}

public enum DedupMode: Equatable, Sendable {
    case none
    /// Drop records whose canonical form (after cleaning) was already written.
    case exact
    /// Exact, then MinHash near-duplicates at this Jaccard threshold.
    case near(Double)
}

public struct FormatOptions {
    public var mode: FormatMode = .convert
    public var clean = true
    public var rules = RecordRules()
    public var dedup: DedupMode = .exact
    public var toolPolicy: ToolTurnPolicy = .inline
    public var ratios: SplitRatios = .trainOnly
    public var seed: UInt32 = 42
    public var shard: Shard?
    public var skipInvalid = false
    public var tokenizer: (any TextTokenizer)?
    public var mix: MixStrategy = .concat
    public var interleaveProbabilities: [Double]?

    public init() {}
}

/// Per-input counts for the summary.
public struct SourceCounts: Sendable {
    public var name: String
    public var schema: String?
    public var read = 0
    public var written = 0
    public var rejected = 0
}

/// What a run did: the `--json` summary and the closing log line.
public struct FormatSummary: Sendable {
    public var read = 0
    public var written: [SplitName: Int] = [:]
    public var rejected: [RejectReason: Int] = [:]
    public var otherShard = 0
    public var toolUseRecords = 0
    public var documents = 0
    public var sources: [SourceCounts] = []
    public var characters = LengthHistogram()
    public var tokens: LengthHistogram?
    public var activeSplits: [SplitName] = [.train]

    public var totalWritten: Int { written.values.reduce(0, +) }
    public var totalRejected: Int { rejected.values.reduce(0, +) }

    public func json(extra: [(String, JSONValue)] = []) -> JSONValue {
        var records: [(String, JSONValue)] = [("read", .int(read)), ("written", .int(totalWritten)), ("rejected", .int(totalRejected))]
        if otherShard > 0 { records.append(("other_shard", .int(otherShard))) }
        if documents > 0 { records.append(("documents", .int(documents))) }
        if toolUseRecords > 0 { records.append(("with_tool_use", .int(toolUseRecords))) }
        var lengths: [(String, JSONValue)] = [("characters", characters.json)]
        if let tokens { lengths.append(("tokens", tokens.json)) }
        return .object([
            ("records", .object(records)),
            ("splits", .object(activeSplits.map { ($0.rawValue, .int(written[$0] ?? 0)) })),
            ("sources", .array(sources.map { s in
                .object([("name", .string(s.name)), ("schema", s.schema.map { .string($0) } ?? .null),
                         ("read", .int(s.read)), ("written", .int(s.written)), ("rejected", .int(s.rejected))])
            })),
            ("rejected", .object(rejected.keys.sorted().map { ($0.rawValue, .int(rejected[$0] ?? 0)) })),
            ("lengths", .object(lengths)),
        ] + extra)
    }

    /// "wrote 990 records (train 891, eval 99) from 1000 read; rejected 10 (duplicate 3, too_short 7)"
    public var line: String {
        var s = "wrote \(totalWritten) record\(totalWritten == 1 ? "" : "s")"
        if activeSplits.count > 1 {
            s += " (" + activeSplits.map { "\($0.rawValue) \(written[$0] ?? 0)" }.joined(separator: ", ") + ")"
        }
        s += " from \(read) read"
        if documents > 0 { s += " (\(documents) documents)" }
        if totalRejected > 0 {
            s += "; rejected \(totalRejected) ("
                + rejected.keys.sorted().map { "\($0.rawValue) \(rejected[$0] ?? 0)" }.joined(separator: ", ") + ")"
        }
        if otherShard > 0 { s += "; \(otherShard) in other shards" }
        return s
    }
}

/// The whole of lf-format's work on a stream: read (mixing the inputs), convert, clean, validate,
/// deduplicate, split and write, one record at a time.
///
/// Memory does not depend on the input size except for the dedup state (16 bytes per written
/// record for exact dedup, about 0.6 KB for near-dup) and the schema-independent length histogram.
/// Records reach `output` in input order, each line ending in a newline.
public final class FormatPipeline {
    public let inputs: [FormatInput]
    public let options: FormatOptions
    public private(set) var summary = FormatSummary()

    private var specs: [SchemaSpec?]
    private var converters: [SchemaConverter?]
    private let splitter: Splitter
    private var exact = ExactDeduplicator()
    private var nearDuplicates: MinHashDeduplicator?
    private var line: [UInt8] = []
    private var output: (SplitName, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    private var rejects: ((UnsafeRawBufferPointer) throws -> Void)?

    public init(inputs: [FormatInput], options: FormatOptions) {
        self.inputs = inputs
        self.options = options
        specs = inputs.map(\.spec)
        converters = inputs.map { $0.spec.map(SchemaConverter.init) }
        splitter = Splitter(ratios: options.ratios, seed: options.seed)
        if case .near(let threshold) = options.dedup { nearDuplicates = MinHashDeduplicator(threshold: threshold) }
        summary.sources = inputs.map { SourceCounts(name: $0.name, schema: $0.spec?.schema.rawValue) }
        summary.activeSplits = options.ratios.active
        if options.tokenizer != nil { summary.tokens = LengthHistogram() }
        line.reserveCapacity(1 << 16)
    }

    /// Runs to the end of the inputs. `output` receives each written line with its split;
    /// `rejects`, if given, one JSON line per rejected record (`reason`, `message`, `source`,
    /// `line`, optional `field`, and `record` or `text`). Throws on the first invalid record unless
    /// `skipInvalid`.
    @discardableResult
    public func run(output: @escaping (SplitName, UnsafeRawBufferPointer) throws -> Void,
                    rejects: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
                    progress: ProgressReporter? = nil) throws -> FormatSummary {
        self.output = output
        self.rejects = rejects
        let mixer = try Mixer(sources: inputs.map(\.source), strategy: options.mix,
                              probabilities: options.interleaveProbabilities, seed: UInt64(options.seed))
        var sinceProgress = 0
        while let (index, item) = try mixer.next() {
            summary.read += 1
            summary.sources[index].read += 1
            switch item {
            case .malformed(let bad):
                try invalid(.malformedJSON, bad.message, at: bad.location, field: nil, source: index, text: bad.text)
            case .record(let raw):
                try process(raw, source: index)
            }
            sinceProgress += 1
            if sinceProgress == 1024 {
                progress?.advance(by: sinceProgress)
                sinceProgress = 0
            }
        }
        progress?.advance(by: sinceProgress)
        return summary
    }

    // MARK: - Per record

    private func process(_ raw: RawRecord, source index: Int) throws {
        if converters[index] == nil {
            guard let spec = SchemaSpec.detect(raw.value) else {
                let keys: String
                if case .object(let entries) = raw.value { keys = entries.map(\.0).joined(separator: ", ") } else { keys = "not an object" }
                try invalid(.badRecord, "cannot tell the dataset schema from this record (keys: \(keys))", at: raw.location,
                            field: nil, source: index, value: raw.value,
                            hint: "name it with --from alpaca|sharegpt|openai|text, and map fields with --columns (see --help)")
                return
            }
            specs[index] = spec
            converters[index] = SchemaConverter(spec)
            summary.sources[index].schema = spec.schema.rawValue
            Log.info("lf-format: \(raw.location.file): \(spec.schema.rawValue) (recognised from line \(raw.location.line))")
        }
        guard let converter = converters[index] else { return }
        let converted: ConvertedRecord
        do {
            converted = try converter.convert(raw.value)
        } catch let problem as RecordProblem {
            let reason: RejectReason = problem.kind == .roleOrder ? .roleOrder : .badRecord
            try invalid(reason, problem.message, at: raw.location, field: problem.field, source: index, value: raw.value)
            return
        }
        switch options.mode {
        case .convert:
            let (record, usedTools) = ToolTurns.canonical(converted, policy: options.toolPolicy)
            guard let record else {
                try filtered(.toolUse, "the record uses tools (function calls, tool results or tool descriptions) and --tool-turns is reject",
                             at: raw.location, source: index, value: raw.value)
                return
            }
            try finish(record, source: index, location: raw.location, usedTools: usedTools)
        case .text(let chunker):
            guard case .text(let text) = converted else {
                try invalid(.badRecord, "--mode text makes chunks of documents (text records); this record is a conversation",
                            at: raw.location, field: nil, source: index, value: raw.value)
                return
            }
            summary.documents += 1
            let cleaned = options.clean ? TextCleaner.clean(text) : text
            let chunks = chunker.chunks(cleaned)
            if chunks.isEmpty {
                try filtered(.emptyTurn, "the document has no text", at: raw.location, source: index, value: raw.value)
            }
            for chunk in chunks { try finish(.text(chunk), source: index, location: raw.location, usedTools: false) }
        case .qa(let pattern):
            guard case .text(let text) = converted else {
                try invalid(.badRecord, "--mode qa makes questions from documents (text records); this record is a conversation",
                            at: raw.location, field: nil, source: index, value: raw.value)
                return
            }
            summary.documents += 1
            var document = DocumentText(raw.value) ?? DocumentText(text: text)
            document.text = options.clean ? TextCleaner.clean(text) : text
            let records = pattern.records(for: document)
            if records.isEmpty {
                try filtered(.noContent, "the pattern found no \(pattern.unit.rawValue) of at least \(max(1, pattern.minChars)) characters",
                             at: raw.location, source: index, value: raw.value)
            }
            for record in records { try finish(record, source: index, location: raw.location, usedTools: false) }
        }
    }

    private func finish(_ record: DatasetRecord, source index: Int, location: RecordLocation, usedTools: Bool) throws {
        var record = options.clean ? TextCleaner.clean(record) : record
        if let (reason, message) = RecordRules.structure(&record) {
            if reason.isInvalid {
                try invalid(reason, message, at: location, field: nil, source: index, record: record)
            } else {
                try filtered(reason, message, at: location, source: index, record: record)
            }
            return
        }
        let characters = TextMeasure.characters(record)
        let tokens = options.tokenizer.map { TextMeasure.tokens(record, tokenizer: $0) }
        if let (reason, message) = options.rules.check(characters: characters, tokens: tokens,
                                                       symbolRatio: { TextMeasure.symbolRatio(record) }) {
            try filtered(reason, message, at: location, source: index, record: record)
            return
        }
        line.removeAll(keepingCapacity: true)
        CanonicalEncoding.append(record, to: &line)
        let digest = ContentDigest(line: line)
        if let shard = options.shard, !shard.contains(digest) {
            summary.otherShard += 1
            return
        }
        if options.dedup != .none, !exact.insert(digest) {
            try filtered(.duplicate, "the same record (after cleaning) was already written", at: location, source: index, record: record)
            return
        }
        if nearDuplicates != nil, let similarity = nearDuplicates?.check(Self.plainText(record)) {
            try filtered(.nearDuplicate, String(format: "about %.0f%% similar to a record already written", similarity * 100),
                         at: location, source: index, record: record)
            return
        }
        let split = splitter.split(line: line)
        line.append(0x0A)
        try line.withUnsafeBytes { try output(split, $0) }
        summary.written[split, default: 0] += 1
        summary.sources[index].written += 1
        summary.characters.add(characters)
        if let tokens { summary.tokens?.add(tokens) }
        if usedTools { summary.toolUseRecords += 1 }
    }

    static func plainText(_ record: DatasetRecord) -> String {
        switch record {
        case .text(let t): return t
        case .chat(let messages): return messages.map(\.content).joined(separator: "\n")
        }
    }

    // MARK: - Rejections

    private func invalid(_ reason: RejectReason, _ message: String, at location: RecordLocation, field: String?, source: Int,
                         value: JSONValue? = nil, text: String? = nil, record: DatasetRecord? = nil, hint: String? = nil) throws {
        guard options.skipInvalid else {
            throw LFError.input(message, file: location.file, line: location.line, field: field,
                                hint: hint ?? "fix the record, or pass --skip-invalid to count and skip invalid records (and --rejects FILE to keep them)")
        }
        try reject(reason, message, at: location, field: field, source: source, value: value, text: text, record: record)
    }

    private func filtered(_ reason: RejectReason, _ message: String, at location: RecordLocation, source: Int,
                          value: JSONValue? = nil, record: DatasetRecord? = nil) throws {
        try reject(reason, message, at: location, field: nil, source: source, value: value, text: nil, record: record)
    }

    private func reject(_ reason: RejectReason, _ message: String, at location: RecordLocation, field: String?, source: Int,
                        value: JSONValue?, text: String?, record: DatasetRecord?) throws {
        summary.rejected[reason, default: 0] += 1
        summary.sources[source].rejected += 1
        guard let rejects else { return }
        var out: [UInt8] = []
        out.append(contentsOf: #"{"reason":"#.utf8)
        CanonicalEncoding.appendString(reason.rawValue, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        CanonicalEncoding.appendString(message, to: &out)
        out.append(contentsOf: #","source":"#.utf8)
        CanonicalEncoding.appendString(location.file, to: &out)
        out.append(contentsOf: ",\"line\":\(location.line)".utf8)
        if let field {
            out.append(contentsOf: #","field":"#.utf8)
            CanonicalEncoding.appendString(field, to: &out)
        }
        if let record {
            out.append(contentsOf: #","record":"#.utf8)
            CanonicalEncoding.append(record, to: &out)
        } else if let value {
            out.append(contentsOf: #","record":"#.utf8)
            CanonicalEncoding.appendJSON(value, to: &out)
        } else if let text {
            out.append(contentsOf: #","text":"#.utf8)
            CanonicalEncoding.appendString(text, to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        try out.withUnsafeBytes { try rejects($0) }
    }
}
