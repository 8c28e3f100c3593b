import ArgumentParser
import Foundation
import Shared

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the sequences of a shard directory as text (or JSON).",
        discussion: """
            Prints each sequence of a shard directory, to see exactly what lf-train will train on.
            The trained part (tokens whose mask bit is set) is wrapped in ⟦ and ⟧; every packed
            document starts on its own line under a "--- document" header.

            With --tokenizer MODEL_DIR the ids are decoded back to text (special tokens shown);
            the tokenizer's fingerprint must match the one the shards were made with. Without it
            the ids are printed as numbers.

            --json prints one object per line for scripts:
              {"index": 0, "ids": [1, 9690, …], "mask": [0, 0, 1, …], "boundaries": [0, 212, …]}
            where "boundaries" are the offsets at which documents start (the first is 0).

            Examples:
              lf-tokenize cat --tokenizer models/smollm2-135m-instruct shards/ | less
              lf-tokenize cat --start 10 --limit 1 shards/
              lf-tokenize cat --json shards/ | jq '.ids | length'

            \(ExitStatus.helpTable)
            """)

    static let trainedOpen = "⟦"
    static let trainedClose = "⟧"

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: ArgumentHelp("Decode with this model directory's tokenizer.", valueName: "model-dir"))
    var tokenizer: String?

    @Option(name: .long, help: "The first sequence to print.")
    var start = 0

    @Option(name: .long, help: "The most sequences to print (default: all).")
    var limit: Int?

    @Argument(help: ArgumentHelp("The shard directory.", valueName: "dir"))
    var directory: String

    func validate() throws {
        try common.validate()
        if start < 0 { throw ValidationError("--start must be 0 or more") }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        common.apply()
        let reader = try ShardReader(directory: directory)
        var decoder: (any TextTokenizer)?
        if let tokenizer {
            let loaded = try loadTokenizer(modelDirectory: tokenizer)
            try reader.checkTokenizer(loaded, source: tokenizer)
            decoder = loaded
        }
        guard start <= reader.sequenceCount else {
            throw LFError.usage("--start \(start) is past the last sequence (the directory has \(reader.sequenceCount))")
        }
        let end = limit.map { min(reader.sequenceCount, start + $0) } ?? reader.sequenceCount
        var buffer = ""
        for i in start ..< end {
            let s = try reader.sequence(i)
            if common.json {
                buffer += Self.json(s, index: i) + "\n"
            } else {
                buffer += Self.text(s, index: i, tokenizer: decoder)
            }
            if buffer.utf8.count >= 1 << 16 {
                try StandardOutput.write(buffer)
                buffer = ""
            }
        }
        try StandardOutput.write(buffer)
    }

    static func json(_ s: PackedSequence, index: Int) -> String {
        "{\"index\":\(index),\"ids\":[" + s.ids.map(String.init).joined(separator: ",") + "],\"mask\":["
            + s.mask.map { $0 ? "1" : "0" }.joined(separator: ",") + "],\"boundaries\":["
            + s.documentStarts.map(String.init).joined(separator: ",") + "]}"
    }

    static func text(_ s: PackedSequence, index: Int, tokenizer: (any TextTokenizer)?) -> String {
        var out = "=== sequence \(index): \(s.count) tokens, \(s.documentStarts.count) document\(s.documentStarts.count == 1 ? "" : "s"), "
            + "\(s.trainedCount) trained ===\n"
        for (d, range) in s.documentRanges.enumerated() {
            out += "--- document \(d + 1) (tokens \(range.lowerBound) ..< \(range.upperBound)) ---\n"
            // Runs of equal mask bits, each decoded (or printed) on its own and the trained ones marked.
            var runs: [(trained: Bool, ids: ArraySlice<Int32>)] = []
            var runStart = range.lowerBound
            for i in range where i == range.upperBound - 1 || s.mask[i] != s.mask[i + 1] {
                runs.append((s.mask[i], s.ids[runStart ... i]))
                runStart = i + 1
            }
            var body = ""
            for run in runs {
                let piece: String
                if let tokenizer {
                    piece = tokenizer.decode(Array(run.ids), skipSpecial: false)
                } else {
                    piece = run.ids.map(String.init).joined(separator: " ")
                }
                if tokenizer == nil && !body.isEmpty { body += " " }
                body += run.trained ? trainedOpen + piece + trainedClose : piece
            }
            out += body
            if !body.hasSuffix("\n") { out += "\n" }
        }
        return out
    }
}
