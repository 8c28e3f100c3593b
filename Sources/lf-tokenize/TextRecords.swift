import ArgumentParser
import Foundation
import Shared

/// Where the text to tokenize comes from: lines of plain text (the default), or a field of JSONL
/// records; canonical chat records (`messages`) give the concatenated message contents.
struct TextInputOptions: ParsableArguments {
    @Argument(help: "Input files ('-' or none: stdin).")
    var inputs: [String] = []

    @Flag(help: "Read JSONL records instead of plain lines.")
    var jsonl = false

    @Option(help: "With --jsonl: the field that holds the text (default: text; records with 'messages' use their contents).")
    var field: String = "text"

    var paths: [String] { inputs.isEmpty ? ["-"] : inputs }

    /// Calls `body` with batches of (record label, text), in input order.
    func forEachBatch(size: Int = 4096, _ body: ([(label: String, text: String)]) throws -> Void) throws {
        var batch: [(label: String, text: String)] = []
        batch.reserveCapacity(size)
        func add(_ label: String, _ text: String) throws {
            batch.append((label, text))
            if batch.count == size {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        for path in paths {
            if jsonl {
                let reader = try JSONLReader(path: path)
                try reader.forEachObject { line, object in
                    let label = "\(reader.displayName):\(line)"
                    if let text = object[field] as? String {
                        try add(label, text)
                    } else if field == "text", let messages = object["messages"] as? [[String: Any]] {
                        try add(label, messages.compactMap { $0["content"] as? String }.joined(separator: "\n"))
                    } else {
                        throw LFError.input("the record has no string field \"\(field)\"", file: reader.displayName, line: line,
                                            hint: "choose the field with --field")
                    }
                }
            } else {
                let lines = try LineReader(path: path)
                try lines.forEachLine { line, bytes in
                    try add("\(lines.displayName):\(line)", String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        if !batch.isEmpty { try body(batch) }
    }
}

/// `--tokenizer`: a model directory or a tokenizer.json file.
struct TokenizerOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "A Hugging Face model directory or its tokenizer.json.")
    var tokenizer: String

    func load() throws -> Tokenizer { try Tokenizer(path: tokenizer) }
}

/// `--jobs`: how many cores to use.
struct JobsOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Threads to use (default: every core).")
    var jobs: Int = Parallel.coreCount

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}
