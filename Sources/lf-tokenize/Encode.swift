import ArgumentParser
import Foundation
import Shared

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Text (lines or JSONL records) → token ids, one line per record.",
        discussion: """
            Each input line (or, with --jsonl, each record's --field) is encoded on its own.
            Output, one line per record:
              default     ids separated by spaces            15496 995
              --tokens    the token strings, space-separated  Hello Ġworld
              --json      {"ids":[…],"tokens":[…]}

            Special tokens written in the text (<|im_end|>) become their ids unless --no-special.
            --add-special-tokens runs the tokenizer's post-processor (adds BOS for Llama 3 and
            SentencePiece models), as HF's add_special_tokens=True does.

            Examples:
              echo "Hello world" | lf-tokenize encode -t models/smollm2-135m-instruct
              lf-tokenize encode -t tokenizer.json --jsonl --field text data.jsonl --json

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var tokenizerOption: TokenizerOption
    @OptionGroup var input: TextInputOptions
    @OptionGroup var jobsOption: JobsOption
    @Flag(help: "Print token strings instead of ids.") var tokens = false
    @Flag(help: "Tokenize special-token text (<|im_end|>) as ordinary text.") var noSpecial = false
    @Flag(help: "Add the post-processor's special tokens (BOS …).") var addSpecialTokens = false
    @Flag(name: .shortAndLong, help: "Print only errors on stderr.") var quiet = false
    @Flag(help: "Print one JSON object per record: {\"ids\":[…],\"tokens\":[…]}.") var json = false

    func validate() throws {
        if tokens && json { throw ValidationError("--tokens and --json cannot be used together") }
    }

    func run() throws {
        Log.quiet = quiet
        let tokenizer = try tokenizerOption.load()
        let sessions = (0..<jobsOption.jobs).map { _ in tokenizer.makeSession() }
        let progress = ProgressReporter("encode", unit: "records")
        var out = OutputBuffer()
        try input.forEachBatch { batch in
            let encoded = Parallel.map(batch, workers: sessions) { session, record in
                session.encode(record.text, parseSpecial: !noSpecial, addSpecialTokens: addSpecialTokens)
            }
            for ids in encoded {
                if json {
                    let value: JSONValue = .object([
                        ("ids", .array(ids.map { .int(Int($0)) })),
                        ("tokens", .array(ids.map { .string(tokenizer.token($0) ?? "") })),
                    ])
                    out.append(value.serialized(pretty: false))
                } else if tokens {
                    out.append(ids.map { tokenizer.token($0) ?? "" }.joined(separator: " "))
                } else {
                    out.appendIDs(ids)
                }
                try out.endLine()
            }
            progress.advance(by: batch.count)
        }
        try out.flush()
        progress.finish()
    }
}

/// Line-oriented stdout with a large buffer; ids are formatted without going through String.
struct OutputBuffer {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 20) }

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func appendIDs(_ ids: [Int32]) {
        var digits = [UInt8](repeating: 0, count: 12)
        for (k, id) in ids.enumerated() {
            if k > 0 { bytes.append(0x20) }
            var v = Int(id), n = 0
            if v < 0 { bytes.append(UInt8(ascii: "-")); v = -v }
            repeat { digits[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            while n > 0 { n -= 1; bytes.append(digits[n]) }
        }
    }

    mutating func endLine() throws {
        bytes.append(0x0A)
        if bytes.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try StandardOutput.write($0) }
        bytes.removeAll(keepingCapacity: true)
    }
}
