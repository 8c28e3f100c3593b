import ArgumentParser
import Foundation
import Shared

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A conversation with a model: each line you type is a message; the answer is streamed.",
        discussion: """
            The conversation's history is kept and sent with each message (the oldest turns are
            dropped when it no longer fits). /reset starts over, /exit (or end of input) leaves.
            Works in a pipe too: each input line is a message, each answer ends with a blank line.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Chat template: auto (the model's own) or a built-in name.") var template: String = "auto"
    @Option(help: "A system prompt.") var system: String?
    @OptionGroup var sampling: SamplingArguments
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        guard template != "none" else { throw LFError.usage("chat needs a chat template (auto or a built-in name)") }
        let setup = try GenerationSetup(model: modelOptions.model, adapter: modelOptions.adapter,
                                        weightType: modelOptions.weightType, template: template)
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive {
            Log.info("chatting with \(modelOptions.model) (template \(setup.templateDescription)); /reset starts over, /exit leaves")
        }
        let options = sampling.options(setup.generationConfig)
        let maxNewTokens = sampling.maxTokens(setup.generationConfig)
        let generator = setup.generator()
        let context = setup.model.positionLimit ?? Int.max
        var history: [ChatMessage] = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
        let reader = LineReader(fileDescriptor: STDIN_FILENO, displayName: "<stdin>", chunkSize: 1 << 16)
        while true {
            if interactive { Log.writeStderr("> ") }
            guard let bytes = try reader.nextLine() else { break }
            let message = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if message.isEmpty { continue }
            if message == "/exit" || message == "/quit" { break }
            if message == "/reset" {
                history = system.map { [ChatMessage(role: .system, content: $0)] } ?? []
                if interactive { Log.writeStderr("(history cleared)\n") }
                continue
            }
            history.append(ChatMessage(role: .user, content: message))
            var ids = try setup.promptIDs(history)
            // Drop the oldest exchanges (after any system message) until the prompt and the answer fit.
            while ids.count + maxNewTokens > context, history.count > (system == nil ? 1 : 2) {
                history.removeSubrange((system == nil ? 0 : 1)..<(system == nil ? 2 : 3))
                ids = try setup.promptIDs(history)
            }
            let result = try generator.generate(prompt: ids, maxNewTokens: min(maxNewTokens, max(1, context - ids.count)),
                                                sampling: options, stopStrings: sampling.stopStrings) { piece in
                (try? StandardOutput.write(piece)) != nil
            }
            try StandardOutput.write(interactive ? "\n" : "\n\n")
            history.append(ChatMessage(role: .assistant, content: result.text))
        }
    }
}
