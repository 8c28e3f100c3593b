import ArgumentParser
import Foundation
import Shared

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token ids → text, one record per line.",
        discussion: """
            Each input line holds the ids of one record: separated by spaces or commas, or as a
            JSON array ([1, 2, 3]), or a JSON object with an "ids" array (what encode --json
            writes). Output: the text, one line per record; with --json, {"text": "…"} per line
            (use it when the text itself may contain newlines).

            Examples:
              echo "15496 995" | lf-tokenize decode -t models/smollm2-135m-instruct
              lf-tokenize encode -t DIR --json data.txt | lf-tokenize decode -t DIR --json

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var tokenizerOption: TokenizerOption
    @Argument(help: "Input files ('-' or none: stdin).") var inputs: [String] = []
    @Flag(help: "Leave special tokens out of the text.") var skipSpecial = false
    @Flag(help: "Print {\"text\": …} per line.") var json = false
    @Flag(name: .shortAndLong, help: "Print only errors on stderr.") var quiet = false

    func run() throws {
        Log.quiet = quiet
        let tokenizer = try tokenizerOption.load()
        var out = OutputBuffer()
        for path in inputs.isEmpty ? ["-"] : inputs {
            let lines = try LineReader(path: path)
            try lines.forEachLine { line, bytes in
                let ids = try Self.parseIDs(bytes, file: lines.displayName, line: line, vocabularySize: tokenizer.vocabularySize)
                let text = tokenizer.decode(ids, skipSpecial: skipSpecial)
                out.append(json ? JSONValue.object([("text", .string(text))]).serialized(pretty: false) : text)
                try out.endLine()
            }
        }
        try out.flush()
    }

    static func parseIDs(_ bytes: UnsafeRawBufferPointer, file: String, line: Int, vocabularySize: Int) throws -> [Int32] {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        var numbers: [Int] = []
        if text.hasPrefix("[") || text.hasPrefix("{") {
            let value = try? JSONSerialization.jsonObject(with: Data(text.utf8))
            let list = (value as? [Any]) ?? ((value as? [String: Any])?["ids"] as? [Any])
            guard let list, let ints = list as? [Int] else {
                throw LFError.input("expected a JSON array of ids or an object with an \"ids\" array", file: file, line: line)
            }
            numbers = ints
        } else {
            for field in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }) {
                guard let n = Int(field) else {
                    throw LFError.input("\"\(field)\" is not a token id", file: file, line: line, hint: "ids are integers separated by spaces or commas")
                }
                numbers.append(n)
            }
        }
        if let bad = numbers.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw LFError.input("token id \(bad) is outside the vocabulary (0..<\(vocabularySize))", file: file, line: line)
        }
        return numbers.map { Int32($0) }
    }
}
