import ArgumentParser
import Foundation
import Shared

struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokens per record and in total.",
        discussion: """
            Prints the token count of each record (a line, or with --jsonl a record's --field;
            chat records count their message contents), one per line, and the total on stderr.
            --total prints only the total; --json prints one summary object (records, tokens,
            min, max, mean, p50, p90, p99).

            Examples:
              lf-tokenize count -t models/smollm2-135m-instruct --jsonl train.jsonl --total
              lf-tokenize count -t DIR --jsonl train.jsonl --json | jq .p99

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var tokenizerOption: TokenizerOption
    @OptionGroup var input: TextInputOptions
    @OptionGroup var jobsOption: JobsOption
    @Flag(help: "Print only the total.") var total = false
    @Flag(help: "Count special-token text (<|im_end|>) as ordinary text.") var noSpecial = false
    @Flag(help: "Print a JSON summary.") var json = false
    @Flag(name: .shortAndLong, help: "Print only errors on stderr.") var quiet = false

    func run() throws {
        Log.quiet = quiet
        let tokenizer = try tokenizerOption.load()
        let sessions = (0..<jobsOption.jobs).map { _ in tokenizer.makeSession() }
        var counts: [Int] = []
        var out = OutputBuffer()
        try input.forEachBatch { batch in
            let n = Parallel.map(batch, workers: sessions) { $0.encode($1.text, parseSpecial: !noSpecial).count }
            counts += n
            if !total && !json {
                for c in n { out.append(String(c)); try out.endLine() }
            }
        }
        let sum = counts.reduce(0, +)
        if json {
            let sorted = counts.sorted()
            func percentile(_ p: Double) -> JSONValue {
                sorted.isEmpty ? .null : .int(sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))])
            }
            let summary: JSONValue = .object([
                ("records", .int(counts.count)), ("tokens", .int(sum)),
                ("min", sorted.first.map { .int($0) } ?? .null), ("max", sorted.last.map { .int($0) } ?? .null),
                ("mean", counts.isEmpty ? .null : .double((Double(sum) / Double(counts.count) * 100).rounded() / 100)),
                ("p50", percentile(0.5)), ("p90", percentile(0.9)), ("p99", percentile(0.99)),
            ])
            out.append(summary.serialized(pretty: false))
            try out.endLine()
        } else if total {
            out.append(String(sum))
            try out.endLine()
        } else {
            Log.info("\(counts.count) records, \(sum) tokens")
        }
        try out.flush()
    }
}
