import ArgumentParser
import Foundation
import Shared

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn a byte-level BPE vocabulary from text files; write tokenizer.json.",
        discussion: """
            Learns merges as Hugging Face's BpeTrainer does (same settings, same corpus: same
            vocabulary and merges), with the byte-level alphabet so that any text round-trips.
            --pre chooses the pre-tokenizer family (how text is cut into words before merging):
              smollm   digits one by one, then GPT-2's regex (SmolLM2)
              gpt2     GPT-2's regex
              llama3   Llama 3's regex (numbers in runs of up to three), ignore_merges
              qwen2    Qwen2's regex (single digits) after NFC normalisation

            Input: text files read line by line, each line with its line ending (as HF's
            train(files) reads them), or with --jsonl the --field of each record.

            Examples:
              lf-tokenize train --vocab-size 8000 --pre smollm corpus/*.txt -o tok/tokenizer.json
              lf-tokenize train --vocab-size 32000 --pre llama3 --special "<|begin_of_text|>" \\
                  --special "<|end_of_text|>" --jsonl --field text data.jsonl -o tok/

            \(ExitStatus.helpTable)
            """)

    @Option(help: "The vocabulary size to reach (special tokens and the 256 bytes included).")
    var vocabSize: Int

    @Option(help: "Pre-tokenizer family: \(TrainedTokenizer.Family.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pre: String = "smollm"

    @Option(help: "A pair must occur at least this often to be merged (HF's min_frequency).")
    var minFrequency: Int = 0

    @Option(name: .customLong("special"), help: "A special token (repeatable); they take the first ids, in order.")
    var specials: [String] = []

    @Option(name: .shortAndLong, help: "Where to write tokenizer.json (a file, or a directory to put it in).")
    var output: String

    @Argument(help: "Text files ('-': stdin).")
    var inputs: [String]

    @Flag(help: "Read JSONL records instead of lines.") var jsonl = false
    @Option(help: "With --jsonl: the field holding the text.") var field: String = "text"
    @OptionGroup var jobsOption: JobsOption
    @OptionGroup var common: CommonOptions

    var family: TrainedTokenizer.Family? { TrainedTokenizer.Family(rawValue: pre) }

    func validate() throws {
        guard family != nil else {
            throw ValidationError("--pre must be one of \(TrainedTokenizer.Family.allCases.map(\.rawValue).joined(separator: ", ")), not '\(pre)'")
        }
        guard vocabSize > 256 + specials.count else {
            throw ValidationError("--vocab-size must be larger than 256 bytes + \(specials.count) special tokens")
        }
        guard minFrequency >= 0 else { throw ValidationError("--min-frequency cannot be negative") }
        guard Set(specials).count == specials.count else { throw ValidationError("a --special token is given twice") }
    }

    func run() throws {
        common.apply()
        let start = Date()
        var path = output
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            path = (output as NSString).appendingPathComponent("tokenizer.json")
        }
        let family = self.family!

        // Count words, a batch of texts per core at a time.
        let progress = ProgressReporter("count words", unit: "texts")
        var counts = BPETrainer.WordCounts()
        var batch: [String] = []
        func flush() throws {
            let parts = Parallel.map(Self.slices(batch, jobsOption.jobs), jobs: jobsOption.jobs) { slice in
                Result { try TrainedTokenizer.countWords(slice, family: family, specialTokens: specials) }
            }
            for part in parts { counts.merge(try part.get()) }
            progress.advance(by: batch.count)
            batch.removeAll(keepingCapacity: true)
        }
        for input in inputs {
            if jsonl {
                let reader = try JSONLReader(path: input)
                try reader.forEachObject { line, object in
                    guard let text = object[field] as? String else {
                        throw LFError.input("the record has no string field \"\(field)\"", file: reader.displayName, line: line)
                    }
                    batch.append(text)
                    if batch.count >= 8192 { try flush() }
                }
            } else {
                let lines = try LineReader(path: input, keepLineEndings: true)
                try lines.forEachLine { _, bytes in
                    batch.append(String(decoding: bytes, as: UTF8.self))
                    if batch.count >= 8192 { try flush() }
                }
            }
        }
        try flush()
        progress.finish()
        guard counts.distinctWords > 0 else {
            throw LFError("the input has no text to learn from", at: SourceLocation(file: inputs.joined(separator: " ")))
        }

        let merging = ProgressReporter("merge", total: vocabSize, unit: "tokens")
        let result = BPETrainer(vocabularySize: vocabSize, minFrequency: minFrequency, specialTokens: specials)
            .train(counts, progress: merging)
        merging.finish()
        let json = TrainedTokenizer.json(result, family: family, specialTokens: specials)
        try AtomicFile.write(Data(json.serialized().utf8), to: path)

        let seconds = Date().timeIntervalSince(start)
        if result.vocabulary.count < vocabSize {
            Log.warning("stopped at \(result.vocabulary.count) tokens: no pair occurs \(max(1, minFrequency)) times or more")
        }
        if common.json {
            let summary: JSONValue = .object([
                ("output", .string(path)), ("vocab_size", .int(result.vocabulary.count)), ("merges", .int(result.merges.count)),
                ("distinct_words", .int(counts.distinctWords)), ("pre", .string(family.rawValue)),
                ("seconds", .double((seconds * 100).rounded() / 100)),
            ])
            try StandardOutput.write(summary.serialized(pretty: false) + "\n")
        }
        Log.info("wrote \(path): \(result.vocabulary.count) tokens, \(result.merges.count) merges from \(counts.distinctWords) distinct words in \(String(format: "%.1fs", seconds))")
    }

    static func slices(_ items: [String], _ jobs: Int) -> [ArraySlice<String>] {
        let n = max(1, min(jobs, items.count))
        return (0..<n).map { items[(items.count * $0 / n)..<(items.count * ($0 + 1) / n)] }
    }
}
