import ArgumentParser
import Foundation
import Shared

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Canonical dataset JSONL → chat template → packed zstd shards with loss masks.",
        discussion: """
            Reads dataset records, one per line (lf-format writes them; - reads stdin):
            {"messages": [{"role", "content"}, …]} for supervised fine-tuning or
            {"text": "…"} for continued pre-training. Conversations are rendered with
            the model's chat template and tokenized with its tokenizer.json; the result
            is a shard directory for lf-train: manifest.json and shard-NNNNN.zst files.

            Examples:
              lf-tokenize pack --tokenizer models/smollm2-135m-instruct \\
                  train.jsonl -o shards/
              lf-tokenize pack --tokenizer MODEL --template llama3 --max-len 4096 \\
                  --packing a.jsonl b.jsonl -o shards/
              lf-format … | lf-tokenize pack --tokenizer MODEL - -o shards/ --json

            Templates (--template, default auto):
              auto         recognise the model's chat_template (tokenizer_config.json),
                           say on stderr which built-in template it renders like, and
                           fail, naming the family it looks like, if it knows none
            \(Self.templateTable)

            What is trained (the loss mask):
              default            each assistant answer, its stop token and what the
                                 template writes after it (ChatML's newline)
              --train-on-prompt  every token
              --mask-history     only the last assistant answer
              text records       every token; each ends with the model's
                                 end-of-document token (<|endoftext|>,
                                 <|end_of_text|> or the EOS token)

            Longer than --max-len:
              default      whole turns are dropped from the end (from the start with
                           --mask-history); no kept turn loses its stop token. A first
                           turn too long on its own keeps the start of its prompt, its
                           assistant header, the start of its answer and its stop
                           token. A text record is cut into several documents.
              --drop-long  the record is dropped.
            Both are counted in the summary and in manifest.json.

            Invalid records stop the run with the file and line, and nothing is
            written: a missing field, an unknown role, an empty conversation, one with
            no assistant answer, roles out of order (after an optional first system
            message, user and assistant alternate, starting with user and ending with
            assistant). --skip-invalid counts and skips them instead.

            --packing puts several documents into each sequence of at most --max-len
            tokens (greedy best fit) and stores where each starts: lf-train attends
            only within a document and restarts positions at each. Documents (and
            packed sequences) are shuffled with --seed unless --no-shuffle; the same
            inputs and seed give the same bytes.

            \(ExitStatus.helpTable)
            """)

    static var templateTable: String {
        ChatTemplate.builtins.map { t in
            "  " + t.name.padding(toLength: 13, withPad: " ", startingAt: 0) + t.summary
        }.joined(separator: "\n")
    }

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: ArgumentHelp("The model directory (tokenizer.json, tokenizer_config.json).", valueName: "model-dir"))
    var tokenizer: String

    @Option(name: .long, help: "auto, or a built-in template name (listed above).")
    var template = "auto"

    @Option(name: .shortAndLong, help: ArgumentHelp("The shard directory to write (replaced if it is a previous one).", valueName: "dir"))
    var output: String

    @Argument(help: ArgumentHelp("Dataset JSONL files; - reads stdin.", valueName: "in.jsonl"))
    var inputs: [String] = []

    @Option(name: .customLong("max-len"), help: "The most tokens in a sequence.")
    var maxLength = 2048

    @Flag(name: .customLong("drop-long"), help: "Drop records longer than --max-len instead of truncating them.")
    var dropLong = false

    @Flag(name: .long, help: "Pack several documents into each sequence.")
    var packing = false

    @Flag(name: .customLong("train-on-prompt"), help: "Train on every token, prompts included.")
    var trainOnPrompt = false

    @Flag(name: .customLong("mask-history"), help: "Train only on the last assistant answer of each conversation.")
    var maskHistory = false

    @Option(name: .long, help: "The shuffle seed.")
    var seed: UInt64 = 0

    @Flag(name: .customLong("no-shuffle"), help: "Keep the input order.")
    var noShuffle = false

    @Option(name: .customLong("shard-size"), help: ArgumentHelp("The most bytes in one shard file (K, M, G suffixes).", valueName: "size"))
    var shardSize = "128M"

    @Flag(name: .customLong("skip-invalid"), help: "Count and skip invalid records instead of stopping.")
    var skipInvalid = false

    func validate() throws {
        try common.validate()
        if inputs.isEmpty { throw ValidationError("give at least one input file (- for stdin)") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be read only once") }
        if maxLength < 2 { throw ValidationError("--max-len must be at least 2") }
        if trainOnPrompt && maskHistory {
            throw ValidationError("--train-on-prompt (train every token) and --mask-history (train only the last answer) contradict each other")
        }
        if template != "auto" && ChatTemplate.builtin(named: template) == nil {
            throw ValidationError("unknown template \"\(template)\"; use auto or one of \(ChatTemplate.builtins.map(\.name).joined(separator: ", "))")
        }
        guard let bytes = Self.parseSize(shardSize), bytes >= 4096 else {
            throw ValidationError("--shard-size \"\(shardSize)\" is not a size of at least 4K (examples: 64M, 1G, 500000)")
        }
        _ = bytes
    }

    /// "64M" → 67108864; plain numbers are bytes; K, M, G (optionally followed by B or iB) are powers of 1024.
    static func parseSize(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count {
            s.removeLast(suffix.count)
            break
        }
        var multiplier = 1
        if let last = s.last, let power = ["K": 1, "M": 2, "G": 3][String(last)] {
            multiplier = 1 << (10 * power)
            s.removeLast()
        }
        guard let n = Int(s), n > 0 else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    func run() throws {
        common.apply()
        let config = try TokenizerConfig.load(modelDirectory: tokenizer)
        let choice = try ChatTemplate.resolve(template, config: config)
        Log.info("lf-tokenize pack: template \(choice.description)")
        for warning in choice.warnings { Log.warning(warning) }
        if let modelMax = config.modelMaxLength, maxLength > modelMax {
            Log.warning("--max-len \(maxLength) is more than the model's model_max_length \(modelMax) (tokenizer_config.json)")
        }
        try ShardWriter.checkOutputDirectory(output)
        for input in inputs where input != "-" {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
                throw LFError("no such file", at: SourceLocation(file: input))
            }
            if isDir.boolValue { throw LFError("is a directory, expected a JSONL file", at: SourceLocation(file: input)) }
        }

        let textTokenizer = try loadTokenizer(modelDirectory: tokenizer)
        let options = PackingOptions(maxLength: maxLength, dropLong: dropLong, packing: packing, trainOnPrompt: trainOnPrompt,
                                     maskHistory: maskHistory, shuffle: !noShuffle, seed: seed)
        let encoder = try RecordEncoder(tokenizer: textTokenizer, template: choice.template, options: options)
        var packer = Packer(encoder: encoder)
        packer.skipInvalid = skipInvalid
        packer.shardSize = Self.parseSize(shardSize) ?? ShardWriter.defaultShardSize
        let progress = ProgressReporter("pack", unit: "records")
        let manifest = try packer.run(inputs: inputs, output: output, tokenizerFingerprint: textTokenizer.fingerprint,
                                      vocabularySize: textTokenizer.vocabularySize, progress: progress)
        if common.json {
            try StandardOutput.write(manifest.json.serialized(pretty: false) + "\n")
        } else {
            Log.info(Self.summary(manifest, inputs: inputs, output: output))
        }
    }

    static func summary(_ m: ShardManifest, inputs: [String], output: String) -> String {
        let c = m.counts
        var lines: [String] = []
        let from = inputs.count == 1 ? (inputs[0] == "-" ? "stdin" : inputs[0]) : "\(inputs.count) files"
        lines.append("packed \(ShardReport.grouped(c.records)) records (\(ShardReport.grouped(c.chatRecords)) chat, \(ShardReport.grouped(c.textRecords)) text) from \(from) into \(output)")
        if c.droppedTotal > 0 {
            let reasons = c.recordsDropped.sorted { $0.key < $1.key }.map { "\($0.key) \(ShardReport.grouped($0.value))" }.joined(separator: ", ")
            lines.append("  dropped     \(ShardReport.grouped(c.droppedTotal)) (\(reasons))")
        }
        if c.recordsTruncated > 0 { lines.append("  truncated   \(ShardReport.grouped(c.recordsTruncated))") }
        if c.textRecordsSplit > 0 { lines.append("  split       \(ShardReport.grouped(c.textRecordsSplit)) text records cut into several documents") }
        var shape = "max length \(m.maxLength)"
        if m.packing, c.sequences > 0 {
            shape += ", packed, \(ShardReport.percent(c.tokens, c.sequences * m.maxLength)) full"
        }
        lines.append("  sequences   \(ShardReport.grouped(c.sequences)) holding \(ShardReport.grouped(c.documents)) documents (\(shape))")
        lines.append("  tokens      \(ShardReport.grouped(c.tokens)), trained \(ShardReport.grouped(c.trainedTokens)) (\(ShardReport.percent(c.trainedTokens, c.tokens)))")
        let bytes = m.files.reduce(0) { $0 + $1.bytes }
        lines.append("  files       \(m.files.count) shard file\(m.files.count == 1 ? "" : "s"), \(ShardReport.humanBytes(bytes))")
        return lines.joined(separator: "\n")
    }
}
