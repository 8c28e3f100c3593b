import Foundation
import Shared
import TestSupport

/// Shards for trainer tests, made the way lf-format and `lf-tokenize pack` make them: the Alpaca
/// records of samples/instructions.jsonl become chat records (user: instruction, with the input on
/// the next line when there is one; assistant: output), every fifth goes to the eval split, and each
/// split is packed with a model's tokenizer and chat template (`auto`).
enum TrainingData {
    struct Shards {
        let directory: URL
        var train: String { directory.appendingPathComponent("train").path }
        var eval: String { directory.appendingPathComponent("eval").path }
    }

    /// The chat records of samples/instructions.jsonl, split into train and eval.
    static func records() throws -> (train: [[ChatMessage]], eval: [[ChatMessage]]) {
        let path = Fixtures.packageRoot.appendingPathComponent("samples/instructions.jsonl").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var train: [[ChatMessage]] = [], eval: [[ChatMessage]] = []
        for (i, line) in text.split(separator: "\n").enumerated() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                  let instruction = object["instruction"], let output = object["output"] else {
                throw LFError.input("not an Alpaca record with instruction and output", file: path, line: i + 1)
            }
            let input = object["input"] ?? ""
            let chat = [ChatMessage(role: .user, content: input.isEmpty ? instruction : instruction + "\n" + input),
                        ChatMessage(role: .assistant, content: output)]
            if i % 5 == 4 { eval.append(chat) } else { train.append(chat) }
        }
        return (train, eval)
    }

    /// Packs the train and eval records with the tokenizer of `model` (a model directory, or a
    /// directory holding just tokenizer.json and tokenizer_config.json) into `directory`.
    /// `eval` replaces the eval split when given.
    static func pack(model: String, into directory: URL, maxLength: Int = 512, eval evalRecords: [[ChatMessage]]? = nil) throws -> Shards {
        let tokenizer = try Tokenizer.load(directory: model)
        let template = try ChatTemplate.resolve("auto", config: try TokenizerConfig.load(modelDirectory: model)).template
        let (train, split) = try records()
        let eval = evalRecords ?? split
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shards = Shards(directory: directory)
        for (name, chats) in [("train", train), ("eval", eval)] {
            let jsonl = directory.appendingPathComponent("\(name).jsonl")
            let lines = try chats.map { String(decoding: try JSONEncoder().encode(DatasetRecord.chat($0)), as: UTF8.self) }
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: jsonl)
            let encoder = try RecordEncoder(tokenizer: tokenizer, template: template, options: PackingOptions(maxLength: maxLength, seed: 1))
            try Packer(encoder: encoder).run(inputs: [jsonl.path], output: directory.appendingPathComponent(name).path,
                                             tokenizerFingerprint: tokenizer.fingerprint, vocabularySize: tokenizer.vocabularySize)
        }
        return shards
    }

    /// Answers in symbols that no training answer uses: training on the train split moves
    /// probability away from them, so after its first steps the eval loss on these rises, whatever
    /// the last bits of the arithmetic (a plain eval split's loss wanders near a floor instead).
    static let symbolAnswers: [[ChatMessage]] = [
        ("Say something.", "~^|{}~^|{} `<>` @@@ ### $$$ %%% ^^^ &&& *** ~~~ |||"),
        ("Draw a line.", "=+=+=+=+=+=+=+=+ <<>> {{}} [[]] \\\\ // ~~ ^^ ``"),
        ("Count in symbols.", "#1 @2 $3 %4 ^5 &6 *7 (8) {9} [10] <11> |12| ~13~ `14`"),
    ].map { [ChatMessage(role: .user, content: $0.0), ChatMessage(role: .assistant, content: $0.1)] }

    /// tiny-chat's shards with `symbolAnswers` as the eval split, made once per test process.
    static let tinyChatSymbolEval: Result<Shards, Error> = Result {
        try pack(model: Fixtures.path("models/tiny-chat"), into: try Fixtures.temporaryDirectory("lf-trainer-symbol-shards"),
                 eval: symbolAnswers)
    }

    /// tiny-chat's shards, made once per test process.
    static let tinyChat: Result<Shards, Error> = Result {
        try pack(model: Fixtures.path("models/tiny-chat"), into: try Fixtures.temporaryDirectory("lf-trainer-shards"))
    }
}
