import ArgumentParser
import Foundation
import Shared

@main
struct LFFormat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-format",
        abstract: "Turn datasets and documents into canonical chat or text JSONL, cleaned, validated and split.",
        discussion: """
            Reads Alpaca, ShareGPT, OpenAI-style messages, plain {"text"} records and lf-extract's
            documents, from JSON Lines, JSON arrays, CSV/TSV (with a header row) and text files, or
            LLaMA-Factory's dataset_info.json. Writes one canonical record per line:
              {"messages":[{"role":"system"|"user"|"assistant","content":"…"},…]}   (fine-tuning)
              {"text":"…"}                                                         (pre-training)

            Examples:
              lf-format data.jsonl > clean.jsonl             convert, clean, dedup to stdout
              lf-format a.json b.jsonl --split 0.9,0.1 -o out/       out/train.jsonl, out/eval.jsonl
              lf-format --dataset-info data/dataset_info.json --dataset alpaca_en_demo,identity \\
                  --mix interleave_under --split 0.9,0.05,0.05 -o out/ --json
              lf-format qa.csv --columns prompt=question,response=answer > qa.jsonl
              cat docs.jsonl | lf-format - --mode text --chunk-size 2000 --chunk-overlap 200
              lf-format docs.jsonl --mode qa --pattern pattern.json -o out/

            Schemas (recognised from the first record unless --from says):
              alpaca    instruction, input, output [, system, history]   (user = instruction\\ninput)
              sharegpt  conversations: [{"from": human|gpt|system|function_call|observation, "value"}]
              openai    messages: [{"role": system|user|assistant|tool, "content"}, tool_calls]
              text      {"text": …} (lf-extract's documents too)
            --columns maps fields with LLaMA-Factory's keys (prompt, query, response, history,
            messages, system, tools, text); --tags renames sharegpt roles (role_tag=role,user_tag=user…).

            Tool use: the canonical roles are system, user and assistant. With --tool-turns inline
            (the default) tool descriptions join the system prompt inside <tools></tools>, function
            calls become assistant turns in <tool_call></tool_call> and tool results user turns in
            <tool_response></tool_response> (the Hermes/Qwen2.5 markup); reject drops such records.

            Cleaning (off with --no-clean): NFC, control characters removed, line endings and odd
            spaces normalised, trailing spaces and extra blank lines removed. Then records with an
            empty turn, or outside the --min/--max limits, or too many symbols, or duplicates
            (--dedup exact, the default: same content after cleaning; near: MinHash over
            5-character shingles, Jaccard ≥ --dedup-threshold) are rejected: counted per reason in the
            summary, and kept with the reason in --rejects FILE.

            Invalid input (malformed JSON, a missing or mistyped field, roles out of order) stops the
            run with file:line and the field, exit 1, and no output file; --skip-invalid counts and
            skips such records instead.

            Split: each record goes to train/eval/test by a hash of its content and --seed:
              u = ((mmh3.hash128(line, seed, signed=False) & (2**64-1)) >> 11) / 2**53
            (MurmurHash3 x64 128 of the record's line as written, seeded by --seed, 0…2^32-1)
            so adding records never moves an existing one to another split. --shard I/N keeps the
            records whose content hash is I mod N (for parallel runs).

            Mixing several inputs (LLaMA-Factory's mix_strategy): concat (default), interleave_under
            (stop when one input runs out), interleave_over (restart inputs until all ran out),
            interleave_once (each record once); --interleave-probs draws inputs at random with
            those weights (seeded by --seed). --max-samples N takes the first N records of each input.

            --json prints a summary on stdout: counts per split and per input, rejections per
            reason, length percentiles in characters (and tokens with --tokenizer).

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @OptionGroup var common: CommonOptions

    // MARK: Inputs

    @Argument(help: ArgumentHelp("Dataset files (.jsonl, .json, .csv, .tsv, .txt); - reads stdin.", valueName: "input"))
    var inputs: [String] = []

    @Option(name: .customLong("input-format"), help: "Container of the inputs: auto (by extension; stdin is sniffed), jsonl, json, csv, tsv, txt.")
    var inputFormat: String = "auto"

    @Option(help: "Schema of the records: auto, alpaca, sharegpt, openai, text.")
    var from: String = "auto"

    @Option(help: ArgumentHelp("Field names, LLaMA-Factory keys: prompt=question,response=answer (repeatable).", valueName: "key=field,…"))
    var columns: [String] = []

    @Option(help: ArgumentHelp("ShareGPT role names: role_tag=role,content_tag=content,user_tag=user… (repeatable).", valueName: "tag=value,…"))
    var tags: [String] = []

    @Option(name: .customLong("dataset-info"), help: ArgumentHelp("LLaMA-Factory's dataset_info.json (or its folder).", valueName: "path"))
    var datasetInfo: String?

    @Option(help: ArgumentHelp("Dataset names from --dataset-info, comma-separated (repeatable).", valueName: "name,…"))
    var dataset: [String] = []

    @Option(name: .customLong("max-samples"), help: "Take at most this many records from each input (LLaMA-Factory's max_samples).")
    var maxSamples: Int?

    @Option(help: "How several inputs are combined: concat, interleave_under, interleave_over, interleave_once.")
    var mix: String = "concat"

    @Option(name: .customLong("interleave-probs"), help: ArgumentHelp("Draw inputs with these probabilities: 0.7,0.3.", valueName: "p,…"))
    var interleaveProbs: String?

    // MARK: Documents

    @Option(help: "convert (a record per record), text (pre-training chunks of documents), qa (questions from documents by --pattern).")
    var mode: String = "convert"

    @Option(name: .customLong("chunk-size"), help: "--mode text: the largest chunk, in --chunk-unit (default 2000 characters or 512 tokens).")
    var chunkSize: Int?

    @Option(name: .customLong("chunk-overlap"), help: "--mode text: how much of the end of a chunk starts the next (default 0).")
    var chunkOverlap: Int = 0

    @Option(name: .customLong("chunk-unit"), help: "--mode text: chars or tokens (tokens needs --tokenizer).")
    var chunkUnit: String = "chars"

    @Option(help: ArgumentHelp("--mode qa: a JSON pattern, e.g. {\"questions\": [\"Explain {heading}.\"], \"answer\": \"{body}\"}.", valueName: "file"))
    var pattern: String?

    @Option(help: ArgumentHelp("A model directory with tokenizer.json, for token limits, chunks and counts.", valueName: "dir"))
    var tokenizer: String?

    // MARK: Cleaning and rules

    @Flag(name: .customLong("no-clean"), help: "Keep the text as it is (no NFC, control-character or whitespace clean-up).")
    var noClean = false

    @Option(name: .customLong("min-chars"), help: "Reject records with fewer characters (all contents together).")
    var minChars: Int?

    @Option(name: .customLong("max-chars"), help: "Reject records with more characters.")
    var maxChars: Int?

    @Option(name: .customLong("min-tokens"), help: "Reject records with fewer tokens (needs --tokenizer).")
    var minTokens: Int?

    @Option(name: .customLong("max-tokens"), help: "Reject records with more tokens (needs --tokenizer).")
    var maxTokens: Int?

    @Option(name: .customLong("max-symbol-ratio"), help: "Reject records where more than this share (0…1) of the characters are neither letters nor digits.")
    var maxSymbolRatio: Double?

    @Option(help: "Duplicate removal: none, exact (default), near (exact plus MinHash near-duplicates).")
    var dedup: String?

    @Option(name: .customLong("dedup-threshold"), help: "Near-duplicate Jaccard threshold, 0…1 (default 0.8; implies --dedup near).")
    var dedupThreshold: Double?

    @Option(name: .customLong("tool-turns"), help: "Tool calls and results: inline (as tagged text, default) or reject.")
    var toolTurns: String = "inline"

    @Flag(name: .customLong("skip-invalid"), help: "Count and skip invalid records instead of stopping at the first.")
    var skipInvalid = false

    // MARK: Split and outputs

    @Option(help: ArgumentHelp("Train, eval and test ratios: 0.9,0.1 or 0.8,0.1,0.1 (default: all train).", valueName: "train,eval[,test]"))
    var split: String?

    @Option(help: "Seed of the split hash and of --interleave-probs draws.")
    var seed: UInt32 = 42

    @Option(help: ArgumentHelp("Keep only shard I of N (by content hash), for parallel runs.", valueName: "I/N"))
    var shard: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write DIR/train.jsonl (and eval.jsonl, test.jsonl with --split).", valueName: "dir"))
    var output: String?

    @Option(help: ArgumentHelp("Write the train split here (- for stdout).", valueName: "file"))
    var train: String?

    @Option(help: ArgumentHelp("Write the eval split here.", valueName: "file"))
    var eval: String?

    @Option(help: ArgumentHelp("Write the test split here.", valueName: "file"))
    var test: String?

    @Option(help: ArgumentHelp("Write every rejected record here with its reason (JSONL).", valueName: "file"))
    var rejects: String?

    static func main() { CommandMain.run(Self.self) }

    // MARK: - Validation

    func validate() throws {
        if !dataset.isEmpty && datasetInfo == nil { throw ValidationError("--dataset needs --dataset-info (LLaMA-Factory's dataset_info.json)") }
        if datasetInfo != nil && dataset.isEmpty { throw ValidationError("--dataset-info needs --dataset NAME to say which datasets to read") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be read only once") }
        guard InputFormat(rawValue: inputFormat) != nil else {
            throw ValidationError("--input-format must be one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard from == "auto" || Schema(rawValue: from) != nil else {
            throw ValidationError("--from must be auto, alpaca, sharegpt, openai or text")
        }
        guard MixStrategy(rawValue: mix) != nil else {
            throw ValidationError("--mix must be concat, interleave_under, interleave_over or interleave_once")
        }
        if mix == MixStrategy.interleaveOver.rawValue && inputs.contains("-") {
            throw ValidationError("--mix interleave_over restarts inputs, which stdin cannot do; save it to a file first")
        }
        if interleaveProbs != nil && mix == "concat" {
            throw ValidationError("--interleave-probs needs --mix interleave_under, interleave_over or interleave_once")
        }
        guard ["convert", "text", "qa"].contains(mode) else { throw ValidationError("--mode must be convert, text or qa") }
        if mode == "qa" && pattern == nil { throw ValidationError("--mode qa needs --pattern FILE (see --help)") }
        if pattern != nil && mode != "qa" { throw ValidationError("--pattern is used with --mode qa") }
        if mode != "text" && (chunkSize != nil || chunkOverlap != 0 || chunkUnit != "chars") {
            throw ValidationError("--chunk-size, --chunk-overlap and --chunk-unit are used with --mode text")
        }
        guard ["chars", "tokens"].contains(chunkUnit) else { throw ValidationError("--chunk-unit must be chars or tokens") }
        if let chunkSize, chunkSize < 1 { throw ValidationError("--chunk-size must be at least 1") }
        if chunkOverlap < 0 || chunkOverlap >= (chunkSize ?? (chunkUnit == "tokens" ? 512 : 2000)) {
            throw ValidationError("--chunk-overlap must be at least 0 and smaller than --chunk-size")
        }
        if tokenizer == nil && (minTokens != nil || maxTokens != nil || chunkUnit == "tokens") {
            throw ValidationError("--min-tokens, --max-tokens and --chunk-unit tokens need --tokenizer DIR")
        }
        for (name, value) in [("--min-chars", minChars), ("--max-chars", maxChars), ("--min-tokens", minTokens),
                              ("--max-tokens", maxTokens), ("--max-samples", maxSamples)] {
            if let value, value < 0 { throw ValidationError("\(name) must not be negative") }
        }
        if let r = maxSymbolRatio, !(0...1).contains(r) { throw ValidationError("--max-symbol-ratio must be between 0 and 1") }
        if let d = dedup, !["none", "exact", "near"].contains(d) { throw ValidationError("--dedup must be none, exact or near") }
        if let t = dedupThreshold {
            guard t > 0 && t <= 1 else { throw ValidationError("--dedup-threshold must be in (0, 1]") }
            if let d = dedup, d != "near" { throw ValidationError("--dedup-threshold is for --dedup near") }
        }
        guard ToolTurnPolicy(rawValue: toolTurns) != nil else { throw ValidationError("--tool-turns must be inline or reject") }
        if output != nil && (train != nil || eval != nil || test != nil) {
            throw ValidationError("use either -o DIR or --train/--eval/--test FILE, not both")
        }
    }

    // MARK: - Run

    func run() throws {
        common.apply()
        // Checked here, not in validate(): ArgumentParser reports a failed validate() in place of an
        // unknown option, which would hide a mistyped flag behind "no input".
        if inputs.isEmpty && dataset.isEmpty {
            throw LFError.usage("give at least one input file (- for stdin) or --dataset-info with --dataset",
                                hint: "see lf-format --help for examples")
        }
        var options = FormatOptions()
        options.clean = !noClean
        options.rules = RecordRules(minChars: minChars, maxChars: maxChars, minTokens: minTokens, maxTokens: maxTokens,
                                    maxSymbolRatio: maxSymbolRatio)
        switch dedup ?? (dedupThreshold != nil ? "near" : "exact") {
        case "none": options.dedup = .none
        case "near": options.dedup = .near(dedupThreshold ?? 0.8)
        default: options.dedup = .exact
        }
        options.toolPolicy = ToolTurnPolicy(rawValue: toolTurns) ?? .inline
        options.ratios = try split.map(SplitRatios.init(parsing:)) ?? .trainOnly
        options.seed = seed
        options.shard = try shard.map(Shard.init(parsing:))
        options.skipInvalid = skipInvalid
        options.mix = MixStrategy(rawValue: mix) ?? .concat
        options.interleaveProbabilities = try interleaveProbs.map(parseProbabilities)
        if let tokenizer { options.tokenizer = try loadTokenizer(directory: tokenizer) }
        switch mode {
        case "text":
            let unit: ChunkUnit = try chunkUnit == "tokens" ? .tokens(requireTokenizer(options)) : .characters
            let size = chunkSize ?? (chunkUnit == "tokens" ? 512 : 2000)
            options.mode = .text(DocumentChunker(size: size, overlap: chunkOverlap, unit: unit))
        case "qa":
            options.mode = .qa(try QAPattern.load(path: pattern ?? ""))
        default:
            options.mode = .convert
        }

        // Outputs are checked before any reading, so a usage mistake costs nothing.
        var explicit: [SplitName: String] = [:]
        if let train { explicit[.train] = train }
        if let eval { explicit[.eval] = eval }
        if let test { explicit[.test] = test }
        let plan = try OutputPlan.make(active: options.ratios.active, directory: output, explicit: explicit, rejects: rejects)
        if common.json && plan.writesStandardOutput {
            throw LFError.usage("--json prints the summary on stdout, where the records are going",
                                hint: "write the records with -o DIR (or --train FILE), or leave out --json")
        }

        let formatInputs = try openInputs()
        if let output { try prepareDirectory(output, active: options.ratios.active) }
        var sinks: [SplitName: LineSink] = [:]
        for (split, path) in plan.splits { sinks[split] = try LineSink(path: path) }
        let rejectSink = try rejects.map { try LineSink(path: $0) }

        let pipeline = FormatPipeline(inputs: formatInputs, options: options)
        let progress = ProgressReporter("lf-format", unit: "records")
        let started = Date()
        let summary = try pipeline.run(
            output: { split, bytes in try sinks[split]?.write(bytes) },
            rejects: rejectSink.map { sink in { bytes in try sink.write(bytes) } },
            progress: progress)
        progress.finish()
        for split in SplitName.allCases { try sinks[split]?.commit() }
        try rejectSink?.commit()

        let seconds = Date().timeIntervalSince(started)
        if common.json {
            var outputs: [(String, JSONValue)] = SplitName.allCases.compactMap { split in
                guard let path = plan.splits[split] else { return nil }
                return (split.rawValue, path.map { .string($0) } ?? .string("-"))
            }
            if let rejects { outputs.append(("rejects", .string(rejects))) }
            let json = summary.json(extra: [
                ("outputs", .object(outputs)),
                ("seed", .int(Int(truncatingIfNeeded: seed))),
                ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ])
            try StandardOutput.write(json.serialized(pretty: false) + "\n")
        }
        Log.info("lf-format: " + summary.line)
        if summary.characters.count > 0, let p50 = summary.characters.percentile(50), let p95 = summary.characters.percentile(95) {
            Log.info("lf-format: characters per record: p50 \(p50), p95 \(p95), max \(summary.characters.maximum)")
        }
    }

    private func requireTokenizer(_ options: FormatOptions) throws -> any TextTokenizer {
        guard let t = options.tokenizer else { throw LFError.usage("--chunk-unit tokens needs --tokenizer DIR") }
        return t
    }

    private func parseProbabilities(_ text: String) throws -> [Double] {
        try text.split(separator: ",").map {
            guard let v = Double($0.trimmingCharacters(in: .whitespaces)), v >= 0, v.isFinite else {
                throw LFError.usage("--interleave-probs: \"\($0)\" is not a non-negative number")
            }
            return v
        }
    }

    /// The inputs: files from the command line (one schema for all, from --from/--columns/--tags),
    /// then the --dataset entries of dataset_info.json (each with its own schema).
    private func openInputs() throws -> [FormatInput] {
        let format = InputFormat(rawValue: inputFormat) ?? .auto
        let columnOverrides = try parseKeyValueList(columns, option: "--columns")
        let tagOverrides = try parseKeyValueList(tags, option: "--tags")
        var spec: SchemaSpec?
        if let schema = Schema(rawValue: from) {
            spec = SchemaSpec(schema: schema)
        } else if !columnOverrides.isEmpty || !tagOverrides.isEmpty {
            // A mapping without --from names its schema by its keys.
            let keys = Set(columnOverrides.map { $0.0 })
            let schema: Schema = keys.contains("text") ? .text
                : (keys.contains("messages") || keys.contains("conversations") || !tagOverrides.isEmpty) ? .sharegpt : .alpaca
            spec = SchemaSpec(schema: schema)
        }
        if var s = spec {
            try s.columns.apply(columnOverrides)
            try s.tags.apply(tagOverrides)
            spec = s
        }
        var result: [FormatInput] = []
        for path in inputs {
            var source = try RecordSources.open(path, format: format)
            if let maxSamples { source = LimitedSource(source, limit: maxSamples) }
            result.append(FormatInput(name: source.name, source: source, spec: spec))
        }
        if let datasetInfo {
            let names = dataset.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            for entry in try DatasetInfo.load(path: datasetInfo, names: names) {
                var parts: [RecordSource] = try entry.files.map { try RecordSources.open($0, format: entry.format) }
                var source: RecordSource = parts.count == 1 ? parts.removeFirst() : ConcatenatedSource(parts)
                if let n = entry.numSamples { source = LimitedSource(source, limit: n, cycle: true) }
                if let maxSamples { source = LimitedSource(source, limit: maxSamples) }
                result.append(FormatInput(name: entry.name, source: source, spec: entry.spec))
            }
        }
        return result
    }

    /// Creates `-o DIR` if needed and warns about split files of an earlier run that this run does
    /// not rewrite (they would otherwise look current).
    private func prepareDirectory(_ directory: String, active: [SplitName]) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw LFError.usage("-o \(directory) exists and is not a directory", hint: "-o names a directory; use --train FILE for one file")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw LFError.io("create the output directory", path: directory)
            }
        }
        for split in SplitName.allCases where !active.contains(split) {
            let stale = (directory as NSString).appendingPathComponent("\(split.rawValue).jsonl")
            if FileManager.default.fileExists(atPath: stale) {
                Log.warning("\(stale) is from an earlier run: this run writes no \(split.rawValue) split")
            }
        }
    }
}
