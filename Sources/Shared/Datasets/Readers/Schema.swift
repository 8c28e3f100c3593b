import Foundation

/// The dataset layouts lf-format reads (LLaMA-Factory's `formatting`, plus plain text).
public enum Schema: String, CaseIterable, Sendable {
    /// `instruction` / `input` / `output`, optional `system` and `history` ([[prompt, response], …]).
    case alpaca
    /// `conversations` of `{"from": "human"|"gpt"|"system"|"function_call"|"observation", "value": …}`.
    case sharegpt
    /// `messages` of `{"role": "system"|"user"|"assistant"|"tool", "content": …}`, with `tool_calls`.
    case openai
    /// `{"text": …}`: continued pre-training; lf-extract's document records are read this way too.
    case text
}

/// Which field of a raw record holds each part. Names follow LLaMA-Factory's `columns`
/// (`prompt` = instruction, `query` = input, `response` = output); nil means "not used".
public struct ColumnMap: Equatable, Sendable {
    public var prompt: String?
    public var query: String?
    public var response: String?
    public var history: String?
    public var messages: String?
    public var system: String?
    public var tools: String?
    public var text: String?

    public init(prompt: String? = nil, query: String? = nil, response: String? = nil, history: String? = nil,
                messages: String? = nil, system: String? = nil, tools: String? = nil, text: String? = nil) {
        self.prompt = prompt; self.query = query; self.response = response; self.history = history
        self.messages = messages; self.system = system; self.tools = tools; self.text = text
    }

    /// The names `--columns` accepts, in help order.
    public static let keys = ["prompt", "query", "response", "history", "messages", "system", "tools", "text"]

    /// Aliases people use for the alpaca fields.
    static let aliases = ["instruction": "prompt", "input": "query", "output": "response", "conversations": "messages"]

    public subscript(key: String) -> String? {
        get {
            switch key {
            case "prompt": return prompt
            case "query": return query
            case "response": return response
            case "history": return history
            case "messages": return messages
            case "system": return system
            case "tools": return tools
            case "text": return text
            default: return nil
            }
        }
        set {
            switch key {
            case "prompt": prompt = newValue
            case "query": query = newValue
            case "response": response = newValue
            case "history": history = newValue
            case "messages": messages = newValue
            case "system": system = newValue
            case "tools": tools = newValue
            case "text": text = newValue
            default: break
            }
        }
    }

    /// The columns a plain file of each schema uses when nothing says otherwise. Optional columns
    /// (`system`, `history`, `tools`) are read when present.
    public static func defaults(for schema: Schema) -> ColumnMap {
        switch schema {
        case .alpaca: return ColumnMap(prompt: "instruction", query: "input", response: "output", history: "history", system: "system", tools: "tools")
        case .sharegpt: return ColumnMap(messages: "conversations", system: "system", tools: "tools")
        case .openai: return ColumnMap(messages: "messages", system: "system", tools: "tools")
        case .text: return ColumnMap(text: "text")
        }
    }

    /// Applies `key=column` overrides (`prompt=question,response=answer`); `instruction`, `input`,
    /// `output` and `conversations` are accepted for the alpaca and sharegpt keys.
    public mutating func apply(_ overrides: [(String, String)]) throws {
        for (rawKey, column) in overrides {
            let key = Self.aliases[rawKey] ?? rawKey
            guard Self.keys.contains(key) else {
                throw LFError.usage("unknown column key \"\(rawKey)\" in --columns",
                                    hint: "the keys are \(Self.keys.joined(separator: ", ")) (LLaMA-Factory's names)")
            }
            self[key] = column.isEmpty ? nil : column
        }
    }
}

/// The role names of a sharegpt/openai message list (LLaMA-Factory's `tags`). Each role accepts a
/// set of names so that plain files can mix the usual spellings (`human`/`user`, `gpt`/`assistant`).
public struct RoleTags: Equatable, Sendable {
    public var roleKey: String
    public var contentKey: String
    public var user: Set<String>
    public var assistant: Set<String>
    public var system: Set<String>
    public var functionCall: Set<String>
    public var observation: Set<String>

    public init(roleKey: String, contentKey: String, user: Set<String>, assistant: Set<String>, system: Set<String>,
                functionCall: Set<String>, observation: Set<String>) {
        self.roleKey = roleKey; self.contentKey = contentKey; self.user = user; self.assistant = assistant
        self.system = system; self.functionCall = functionCall; self.observation = observation
    }

    /// ShareGPT as written in the wild: `from`/`value`; human|user, gpt|assistant, system,
    /// function_call, observation|tool.
    public static let sharegpt = RoleTags(roleKey: "from", contentKey: "value", user: ["human", "user"],
                                          assistant: ["gpt", "assistant"], system: ["system"],
                                          functionCall: ["function_call"], observation: ["observation", "tool"])

    /// OpenAI chat messages: `role`/`content`; `tool` (and the older `function`) results are
    /// observations; an assistant message's `tool_calls` are function calls.
    public static let openai = RoleTags(roleKey: "role", contentKey: "content", user: ["user"], assistant: ["assistant"],
                                        system: ["system"], functionCall: ["function_call"],
                                        observation: ["tool", "function", "observation"])

    /// Applies `key=value` overrides with LLaMA-Factory's tag names (`role_tag=role,user_tag=user`).
    public mutating func apply(_ overrides: [(String, String)]) throws {
        for (key, value) in overrides {
            switch key {
            case "role_tag": roleKey = value
            case "content_tag": contentKey = value
            case "user_tag": user = [value]
            case "assistant_tag": assistant = [value]
            case "system_tag": system = [value]
            case "function_tag": functionCall = [value]
            case "observation_tag": observation = [value]
            default:
                throw LFError.usage("unknown tag \"\(key)\" in --tags",
                                    hint: "the tags are role_tag, content_tag, user_tag, assistant_tag, system_tag, function_tag, observation_tag")
            }
        }
    }
}

/// How to read the records of one input.
public struct SchemaSpec: Equatable, Sendable {
    public var schema: Schema
    public var columns: ColumnMap
    public var tags: RoleTags

    public init(schema: Schema, columns: ColumnMap? = nil, tags: RoleTags? = nil) {
        self.schema = schema
        self.columns = columns ?? ColumnMap.defaults(for: schema)
        self.tags = tags ?? (schema == .openai ? .openai : .sharegpt)
    }

    /// Recognises the schema from one record's keys; nil when nothing fits.
    ///
    /// `messages` → openai (sharegpt if its items use `from`/`value`), `conversations` → sharegpt
    /// (with `role`/`content` tags if its items use those), `instruction` or `output` → alpaca,
    /// `text` → text.
    public static func detect(_ value: JSONValue) -> SchemaSpec? {
        guard case .object = value else { return nil }
        func firstItemKeys(_ key: String) -> (hasFrom: Bool, hasRole: Bool)? {
            guard case .array(let items)? = value[key] else { return nil }
            guard let first = items.first else { return (false, false) }
            return (first["from"] != nil, first["role"] != nil)
        }
        if let keys = firstItemKeys("messages") {
            if keys.hasFrom {
                var spec = SchemaSpec(schema: .sharegpt)
                spec.columns.messages = "messages"
                return spec
            }
            return SchemaSpec(schema: .openai)
        }
        if let keys = firstItemKeys("conversations") {
            var spec = SchemaSpec(schema: .sharegpt)
            if keys.hasRole && !keys.hasFrom {
                spec.tags.roleKey = "role"
                spec.tags.contentKey = "content"
            }
            return spec
        }
        if value["instruction"] != nil || value["output"] != nil { return SchemaSpec(schema: .alpaca) }
        if value["text"] != nil { return SchemaSpec(schema: .text) }
        return nil
    }
}

/// Parses `a=b,c=d` (also repeated flags) into ordered pairs.
public func parseKeyValueList(_ items: [String], option: String) throws -> [(String, String)] {
    var pairs: [(String, String)] = []
    for item in items {
        for part in item.split(separator: ",", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw LFError.usage("\(option) expects key=value pairs separated by commas, got \"\(part)\"")
            }
            pairs.append((kv[0].trimmingCharacters(in: .whitespaces), kv[1].trimmingCharacters(in: .whitespaces)))
        }
    }
    return pairs
}
