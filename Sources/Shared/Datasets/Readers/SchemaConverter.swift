import Foundation

/// The roles of a conversation as read, before tool turns are folded into the three canonical roles.
public enum TurnRole: String, Sendable {
    case user, assistant, functionCall = "function_call", observation
}

public struct Turn: Equatable, Sendable {
    public var role: TurnRole
    public var content: String

    public init(_ role: TurnRole, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// A record read through its schema: a conversation (with the system prompt and tool descriptions
/// kept apart, as LLaMA-Factory's aligned `_system` / `_tools`) or plain text.
public enum ConvertedRecord: Equatable, Sendable {
    case chat(system: String, turns: [Turn], tools: String)
    case text(String)
}

/// Why a record is not a valid record of its schema. `invalid` problems stop the run unless
/// `--skip-invalid` is given.
public struct RecordProblem: Error, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A missing field, a field of the wrong type, an unknown role.
        case badRecord = "bad_record"
        /// Roles out of order: not user/assistant alternating from a user turn, or no final answer.
        case roleOrder = "role_order"
    }

    public var kind: Kind
    public var field: String?
    public var message: String

    public init(_ kind: Kind, field: String?, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }
}

/// Reads one raw record through a schema, following LLaMA-Factory's converters
/// (`AlpacaDatasetConverter`, `SharegptDatasetConverter`, `OpenAIDatasetConverter`):
///
/// - alpaca: `history` pairs become user/assistant turns; the user turn is `prompt` and `query`
///   joined by a newline (either may be empty); `response` is the answer. With no response column
///   (LLaMA-Factory's pre-training form `"columns": {"prompt": "text"}`) the record is text.
/// - sharegpt / openai: a first message in a system role is the system prompt (else the `system`
///   column); then user or observation turns must sit at even positions and assistant or
///   function-call turns at odd ones, ending on an answer. Consecutive observations (parallel tool
///   results) are merged first, as LLaMA-Factory's openai converter does.
/// - openai: an assistant message with `tool_calls` is a function call (the calls' `function`
///   objects as JSON); content may also be a list of `{"type": "text", "text": …}` parts.
public struct SchemaConverter: Sendable {
    public let spec: SchemaSpec

    public init(_ spec: SchemaSpec) {
        self.spec = spec
    }

    public func convert(_ value: JSONValue) throws -> ConvertedRecord {
        guard case .object = value else {
            throw RecordProblem(.badRecord, field: nil, "expected a JSON object, found \(kind(value))")
        }
        switch spec.schema {
        case .alpaca: return try alpaca(value)
        case .sharegpt, .openai: return try messages(value)
        case .text: return try text(value)
        }
    }

    // MARK: - text

    private func text(_ value: JSONValue) throws -> ConvertedRecord {
        guard let column = spec.columns.text ?? spec.columns.prompt else {
            throw RecordProblem(.badRecord, field: nil, "no text column configured")
        }
        return .text(try requiredString(value, column))
    }

    // MARK: - alpaca

    private func alpaca(_ value: JSONValue) throws -> ConvertedRecord {
        let c = spec.columns
        var parts: [String] = []
        if let column = c.prompt, let s = try optionalString(value, column), !s.isEmpty { parts.append(s) }
        if let column = c.query, let s = try optionalString(value, column), !s.isEmpty { parts.append(s) }
        let prompt = parts.joined(separator: "\n")

        guard let responseColumn = c.response else {
            // LLaMA-Factory's pre-training layout: only a prompt column, used as the document text.
            return .text(prompt)
        }
        if let column = c.prompt, c.query.map({ value[$0] == nil }) ?? true, value[column] == nil {
            throw RecordProblem(.badRecord, field: column, "missing field \"\(column)\" (the instruction)")
        }
        var turns: [Turn] = []
        if let column = c.history, let history = value[column], history != .null {
            guard case .array(let pairs) = history else {
                throw RecordProblem(.badRecord, field: column, "\"\(column)\" must be a list of [prompt, response] pairs, found \(kind(history))")
            }
            for (i, pair) in pairs.enumerated() {
                guard case .array(let items) = pair, items.count == 2,
                      case .string(let old) = items[0], case .string(let answer) = items[1] else {
                    throw RecordProblem(.badRecord, field: "\(column)[\(i)]", "each history entry must be [prompt, response] (two strings)")
                }
                turns.append(Turn(.user, old))
                turns.append(Turn(.assistant, answer))
            }
        }
        turns.append(Turn(.user, prompt))
        guard let response = value[responseColumn], response != .null else {
            throw RecordProblem(.badRecord, field: responseColumn, "missing field \"\(responseColumn)\" (the response)")
        }
        guard case .string(let answer) = response else {
            throw RecordProblem(.badRecord, field: responseColumn, "\"\(responseColumn)\" must be a string, found \(kind(response))")
        }
        turns.append(Turn(.assistant, answer))
        let system = try c.system.flatMap { try optionalString(value, $0) } ?? ""
        return .chat(system: system, turns: turns, tools: try tools(value))
    }

    // MARK: - sharegpt / openai

    private func messages(_ value: JSONValue) throws -> ConvertedRecord {
        let tags = spec.tags
        guard let column = spec.columns.messages else {
            throw RecordProblem(.badRecord, field: nil, "no messages column configured")
        }
        guard let list = value[column] else {
            throw RecordProblem(.badRecord, field: column, "missing field \"\(column)\" (the list of messages)")
        }
        guard case .array(var items) = list else {
            throw RecordProblem(.badRecord, field: column, "\"\(column)\" must be a list of messages, found \(kind(list))")
        }
        var system = try spec.columns.system.flatMap { try optionalString(value, $0) } ?? ""
        var offset = 0
        if let first = items.first, case .string(let role)? = first[tags.roleKey], tags.system.contains(role) {
            system = try content(of: first, field: "\(column)[0]")
            items.removeFirst()
            offset = 1
        }
        var turns: [Turn] = []
        var pendingObservations: [String] = []
        func flushObservations() {
            if !pendingObservations.isEmpty {
                // LLaMA-Factory's joiner: wrapped in <tool_response> tags, each result gets its own block.
                turns.append(Turn(.observation, pendingObservations.joined(separator: "\n</tool_response>\n<tool_response>\n")))
                pendingObservations = []
            }
        }
        for (i, item) in items.enumerated() {
            let field = "\(column)[\(i + offset)]"
            guard case .object = item else {
                throw RecordProblem(.badRecord, field: field, "each message must be an object, found \(kind(item))")
            }
            guard let roleValue = item[tags.roleKey] else {
                throw RecordProblem(.badRecord, field: "\(field).\(tags.roleKey)", "missing field \"\(tags.roleKey)\" (the role)")
            }
            guard case .string(let role) = roleValue else {
                throw RecordProblem(.badRecord, field: "\(field).\(tags.roleKey)", "the role must be a string, found \(kind(roleValue))")
            }
            let turnRole: TurnRole
            if tags.user.contains(role) { turnRole = .user }
            else if tags.assistant.contains(role) { turnRole = .assistant }
            else if tags.functionCall.contains(role) { turnRole = .functionCall }
            else if tags.observation.contains(role) { turnRole = .observation }
            else if tags.system.contains(role) {
                throw RecordProblem(.roleOrder, field: "\(field).\(tags.roleKey)", "a system message is allowed only as the first message")
            } else {
                let known = (tags.user.union(tags.assistant).union(tags.system).union(tags.functionCall).union(tags.observation)).sorted()
                throw RecordProblem(.badRecord, field: "\(field).\(tags.roleKey)",
                                    "unknown role \"\(role)\" (expected one of \(known.joined(separator: ", ")))")
            }
            if turnRole == .assistant, spec.schema == .openai, let calls = item["tool_calls"], calls != .null {
                flushObservations()
                turns.append(Turn(.functionCall, try toolCalls(calls, field: "\(field).tool_calls")))
                continue
            }
            let text = try content(of: item, field: field)
            if turnRole == .observation {
                pendingObservations.append(text)
                continue
            }
            flushObservations()
            turns.append(Turn(turnRole, text))
        }
        flushObservations()
        if turns.isEmpty {
            throw RecordProblem(.roleOrder, field: column, "the conversation has no messages")
        }
        for (i, turn) in turns.enumerated() {
            let expectsAnswer = i % 2 == 1
            let isAnswer = turn.role == .assistant || turn.role == .functionCall
            if expectsAnswer != isAnswer {
                throw RecordProblem(.roleOrder, field: column,
                                    "turn \(i + 1) is \(turn.role.rawValue), expected \(expectsAnswer ? "an assistant answer or a function call" : "a user message or a tool result"): roles must alternate, starting with the user")
            }
        }
        if turns.count % 2 == 1 {
            throw RecordProblem(.roleOrder, field: column, "the conversation ends with a \(turns[turns.count - 1].role.rawValue) turn; it must end with the assistant's answer")
        }
        return .chat(system: system, turns: turns, tools: try tools(value))
    }

    /// A message's content: a string, or a list of text parts (`[{"type": "text", "text": …}]`).
    private func content(of message: JSONValue, field: String) throws -> String {
        let key = spec.tags.contentKey
        guard let value = message[key] else {
            throw RecordProblem(.badRecord, field: "\(field).\(key)", "missing field \"\(key)\" (the message text)")
        }
        switch value {
        case .string(let s): return s
        case .null where spec.schema == .openai: return ""
        case .array(let parts):
            var texts: [String] = []
            for (j, part) in parts.enumerated() {
                if case .string(let s) = part { texts.append(s); continue }
                guard case .string(let type)? = part["type"], type == "text", case .string(let s)? = part["text"] else {
                    throw RecordProblem(.badRecord, field: "\(field).\(key)[\(j)]", "only text content is supported (a part of type \"text\")")
                }
                texts.append(s)
            }
            return texts.joined(separator: "\n")
        default:
            throw RecordProblem(.badRecord, field: "\(field).\(key)", "the message text must be a string, found \(kind(value))")
        }
    }

    /// OpenAI `tool_calls` as the JSON list of their `function` objects (LLaMA-Factory's form).
    private func toolCalls(_ value: JSONValue, field: String) throws -> String {
        guard case .array(let calls) = value else {
            throw RecordProblem(.badRecord, field: field, "tool_calls must be a list, found \(kind(value))")
        }
        var functions: [JSONValue] = []
        for (i, call) in calls.enumerated() {
            guard let function = call["function"], case .object = function else {
                throw RecordProblem(.badRecord, field: "\(field)[\(i)].function", "each tool call needs a \"function\" object")
            }
            functions.append(function)
        }
        return CanonicalEncoding.compactJSON(.array(functions))
    }

    /// The tool descriptions column as text (a JSON string as given, or a list/object serialised).
    private func tools(_ value: JSONValue) throws -> String {
        guard let column = spec.columns.tools, let tools = value[column] else { return "" }
        switch tools {
        case .null: return ""
        case .string(let s): return s
        case .array, .object: return CanonicalEncoding.compactJSON(tools)
        default:
            throw RecordProblem(.badRecord, field: column, "\"\(column)\" must be a JSON string, list or object, found \(kind(tools))")
        }
    }

    // MARK: - Fields

    private func requiredString(_ value: JSONValue, _ column: String) throws -> String {
        guard let field = value[column] else {
            throw RecordProblem(.badRecord, field: column, "missing field \"\(column)\"")
        }
        guard case .string(let s) = field else {
            throw RecordProblem(.badRecord, field: column, "\"\(column)\" must be a string, found \(kind(field))")
        }
        return s
    }

    private func optionalString(_ value: JSONValue, _ column: String) throws -> String? {
        guard let field = value[column] else { return nil }
        switch field {
        case .null: return nil
        case .string(let s): return s
        default: throw RecordProblem(.badRecord, field: column, "\"\(column)\" must be a string, found \(kind(field))")
        }
    }

    private func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
