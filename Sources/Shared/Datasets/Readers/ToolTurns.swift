import Foundation

/// What to do with tool use (function calls, tool results, tool descriptions) when the canonical
/// record has only system, user and assistant roles.
public enum ToolTurnPolicy: String, CaseIterable, Sendable {
    /// Keep them as text in the Hermes / Qwen2.5 markup that current chat models are trained on:
    /// - tool descriptions are appended to the system prompt inside `<tools></tools>`, one JSON
    ///   object per line (`{"type": "function", "function": {…}}`), with Qwen2.5's instructions;
    /// - a function call becomes an assistant turn `<tool_call>\n{…}\n</tool_call>` (one block per
    ///   call when the value is a JSON list of calls);
    /// - a tool result becomes a user turn `<tool_response>\n…\n</tool_response>` (one block per
    ///   result when several were merged).
    /// The model learns to emit the calls (assistant turns carry the loss), as in LLaMA-Factory.
    case inline
    /// Refuse records that use tools: they are counted under `tool_use` and written to `--rejects`.
    case reject
}

/// Folds a converted record into a canonical one.
public enum ToolTurns {
    /// Returns the canonical record, or nil when `policy` is `.reject` and the record uses tools.
    /// `usedTools` tells whether the record had tool turns or descriptions.
    public static func canonical(_ converted: ConvertedRecord, policy: ToolTurnPolicy) -> (record: DatasetRecord?, usedTools: Bool) {
        switch converted {
        case .text(let text):
            return (.text(text), false)
        case .chat(let system, let turns, let tools):
            let toolList = toolDescriptions(tools)
            let usesTools = !toolList.isEmpty || turns.contains { $0.role == .functionCall || $0.role == .observation }
            if usesTools && policy == .reject { return (nil, true) }
            var messages: [ChatMessage] = []
            messages.reserveCapacity(turns.count + 1)
            var systemText = system
            if !toolList.isEmpty {
                systemText += (systemText.isEmpty ? "" : "\n\n") + toolPrompt(toolList)
            }
            if !systemText.isEmpty { messages.append(ChatMessage(role: .system, content: systemText)) }
            for turn in turns {
                switch turn.role {
                case .user: messages.append(ChatMessage(role: .user, content: turn.content))
                case .assistant: messages.append(ChatMessage(role: .assistant, content: turn.content))
                case .functionCall: messages.append(ChatMessage(role: .assistant, content: callBlocks(turn.content)))
                case .observation:
                    messages.append(ChatMessage(role: .user, content: "<tool_response>\n\(turn.content)\n</tool_response>"))
                }
            }
            return (.chat(messages), usesTools)
        }
    }

    /// Qwen2.5's tool instructions (its chat template's wording), with the tool list inside.
    static func toolPrompt(_ tools: [String]) -> String {
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + tools.joined(separator: "\n")
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
    }

    /// The tool descriptions as one compact JSON object per tool, each wrapped as
    /// `{"type":"function","function":…}` unless it already is. Text that is not JSON is kept as one
    /// entry; an empty string or empty list means no tools.
    static func toolDescriptions(_ tools: String) -> [String] {
        let trimmed = String(tools.trimmingASCIIWhitespace)
        if trimmed.isEmpty { return [] }
        if let cached = ToolDescriptionCache.shared.lookup(trimmed) { return cached }
        let result = parseToolDescriptions(trimmed)
        ToolDescriptionCache.shared.store(trimmed, result)
        return result
    }

    private static func parseToolDescriptions(_ trimmed: String) -> [String] {
        guard let parsed = try? JSONParser.parse(trimmed) else { return [trimmed] }
        let list: [JSONValue]
        switch parsed {
        case .array(let items): list = items
        case .object: list = [parsed]
        default: return [trimmed]
        }
        return list.map { tool in
            if case .string("function")? = tool["type"] { return CanonicalEncoding.compactJSON(tool) }
            return CanonicalEncoding.compactJSON(.object([("type", .string("function")), ("function", tool)]))
        }
    }

    /// `<tool_call>` blocks for a function-call turn: one per call when the value is a JSON list.
    static func callBlocks(_ content: String) -> String {
        let trimmed = String(content.trimmingASCIIWhitespace)
        if trimmed.hasPrefix("["), case .array(let calls)? = try? JSONParser.parse(trimmed) {
            return calls.map { "<tool_call>\n\(normalisedCall($0))\n</tool_call>" }.joined(separator: "\n")
        }
        if trimmed.hasPrefix("{"), let call = try? JSONParser.parse(trimmed) {
            return "<tool_call>\n\(normalisedCall(call))\n</tool_call>"
        }
        return "<tool_call>\n\(trimmed)\n</tool_call>"
    }

    /// A call as `{"name": …, "arguments": {…}}`: OpenAI writes `arguments` as a JSON string, which
    /// is parsed so every call looks alike.
    static func normalisedCall(_ call: JSONValue) -> String {
        guard case .object(var entries) = call else { return CanonicalEncoding.compactJSON(call) }
        if let i = entries.firstIndex(where: { $0.0 == "arguments" }), case .string(let text) = entries[i].1,
           let parsed = try? JSONParser.parse(text), case .object = parsed {
            entries[i].1 = parsed
        }
        return CanonicalEncoding.compactJSON(.object(entries))
    }
}

/// Datasets repeat the same tool descriptions across many records (glaive: a few hundred distinct
/// lists); their formatted form is remembered (up to 4096, then the cache starts over), which
/// changes nothing in the output, only its cost.
final class ToolDescriptionCache: @unchecked Sendable {
    static let shared = ToolDescriptionCache()
    private let lock = NSLock()
    private var entries: [String: [String]] = [:]

    func lookup(_ key: String) -> [String]? { lock.withLock { entries[key] } }

    func store(_ key: String, _ value: [String]) {
        lock.withLock {
            if entries.count >= 4096 { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }
}
