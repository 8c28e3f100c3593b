import ArgumentParser
import Foundation
import Shared

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prompts on stdin → completions on stdout (JSONL, or streamed text).",
        discussion: """
            Input, one prompt per line: plain text (a user message), or a JSON object with
            "messages" (a conversation ending with a user message) or "prompt" (a user message);
            other fields (an "id") are copied to the output. With --template none, prompts are
            used as they are, without a chat template.

            Output, one JSON object per prompt:
              {"completion": "…", "finish_reason": "eos|stop|length", "prompt_tokens": n,
               "completion_tokens": m, "prompt_seconds": s, "completion_seconds": s,
               "index": i, …the input's other fields}
            or, with --stream, the completion text as it is generated, a blank line after each.

            Decoding is greedy unless the model's generation_config.json samples or --temperature
            is given; answers end at the model's end-of-turn token, a --stop string, or
            --max-new-tokens.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Chat template: auto (the model's own), a built-in name, or none.") var template: String = "auto"
    @OptionGroup var sampling: SamplingArguments
    @Flag(help: "Stream the text to stdout as it is generated.") var stream = false
    @Flag(help: "Do not stop at end-of-turn tokens (always generate --max-new-tokens; for benchmarks).") var ignoreEos = false
    @Argument(help: "Prompt files ('-' or none: stdin).") var inputs: [String] = []
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let setup = try GenerationSetup(model: modelOptions.model, adapter: modelOptions.adapter,
                                        weightType: modelOptions.weightType, template: template)
        Log.info("model \(modelOptions.model) (\(setup.model.config.architecture.rawValue), \(modelOptions.dtype))"
                 + (modelOptions.adapter.map { " + adapter \($0)" } ?? "") + "; template \(setup.templateDescription)")
        let options = sampling.options(setup.generationConfig)
        let maxNewTokens = sampling.maxTokens(setup.generationConfig)
        let generator = setup.generator()
        if ignoreEos { generator.stopTokenIDs = [] }
        var index = 0
        var promptTokens = 0, newTokens = 0
        var promptSeconds = 0.0, generationSeconds = 0.0
        for path in inputs.isEmpty ? ["-"] : inputs {
            let lines = try LineReader(path: path)
            try lines.forEachLine { line, bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
                let (messages, extra) = try Self.parse(text, file: lines.displayName, line: line)
                let ids = try setup.promptIDs(messages)
                let result: GenerationResult
                do {
                    result = try generator.generate(prompt: ids, maxNewTokens: maxNewTokens, sampling: options,
                                                    stopStrings: sampling.stopStrings, onText: stream ? { piece in
                        try? StandardOutput.write(piece)
                        return true
                    } : nil)
                } catch let error as LFError {
                    throw LFError(error.message, at: SourceLocation(file: lines.displayName, line: line), hint: error.hint)
                }
                if stream {
                    try StandardOutput.write("\n\n")
                } else {
                    var object: [(String, JSONValue)] = extra
                    object += [
                        ("completion", .string(result.text)), ("finish_reason", .string(result.finishReason.rawValue)),
                        ("prompt_tokens", .int(result.promptTokens)), ("completion_tokens", .int(result.tokens.count)),
                        ("prompt_seconds", .double((result.promptSeconds * 1e4).rounded() / 1e4)),
                        ("completion_seconds", .double((result.generationSeconds * 1e4).rounded() / 1e4)),
                        ("index", .int(index)),
                    ]
                    try StandardOutput.write(JSONValue.object(object).serialized(pretty: false) + "\n")
                }
                index += 1
                promptTokens += result.promptTokens
                newTokens += result.tokens.count
                promptSeconds += result.promptSeconds
                generationSeconds += result.generationSeconds
            }
        }
        Log.info(String(format: "%d prompts: %d prompt tokens at %.1f tok/s, %d new tokens at %.1f tok/s",
                        index, promptTokens, Double(promptTokens) / max(promptSeconds, 1e-9),
                        newTokens, Double(newTokens) / max(generationSeconds, 1e-9)))
    }

    /// A prompt line: plain text, or {"messages": […]} / {"prompt": "…"} with other fields kept.
    static func parse(_ text: String, file: String, line: Int) throws -> ([ChatMessage], [(String, JSONValue)]) {
        guard text.first == "{", let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return ([ChatMessage(role: .user, content: text)], [])
        }
        var extra: [(String, JSONValue)] = []
        for key in object.keys.sorted() where key != "messages" && key != "prompt" {
            extra.append((key, try JSONValue(any: object[key]!)))
        }
        if let prompt = object["prompt"] as? String {
            return ([ChatMessage(role: .user, content: prompt)], extra)
        }
        if let raw = object["messages"] {
            do {
                let messages = try JSONDecoder().decode([ChatMessage].self, from: JSONSerialization.data(withJSONObject: raw))
                guard messages.last?.role == .user else {
                    throw LFError.input("the conversation must end with a user message", file: file, line: line, field: "messages")
                }
                return (messages, extra)
            } catch let error as LFError {
                throw error
            } catch {
                throw LFError.input("\"messages\" must be a list of {\"role\": system|user|assistant, \"content\": …}", file: file, line: line, field: "messages")
            }
        }
        throw LFError.input("a JSON prompt needs \"messages\" or \"prompt\"", file: file, line: line,
                            hint: "or give the prompt as a plain line of text")
    }
}
