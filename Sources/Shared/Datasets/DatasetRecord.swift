import Foundation

/// One record of a canonical dataset (lf-format's output, lf-tokenize's input; see DESIGN.md):
/// `{"messages":[{"role":"system"|"user"|"assistant","content":"…"}, …]}` for supervised
/// fine-tuning, or `{"text":"…"}` for continued pre-training.
public enum DatasetRecord: Equatable, Sendable {
    case chat([ChatMessage])
    case text(String)
}

public struct ChatMessage: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

extension DatasetRecord: Codable {
    enum CodingKeys: String, CodingKey { case messages, text }

    /// A record has exactly one of `messages` and `text`; other keys (ids, sources) are ignored.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hasMessages = c.contains(.messages), hasText = c.contains(.text)
        switch (hasMessages, hasText) {
        case (true, false): self = .chat(try c.decode([ChatMessage].self, forKey: .messages))
        case (false, true): self = .text(try c.decode(String.self, forKey: .text))
        case (true, true):
            throw DecodingError.dataCorruptedError(forKey: .text, in: c,
                debugDescription: "a record has either \"messages\" or \"text\", not both")
        case (false, false):
            throw DecodingError.keyNotFound(CodingKeys.messages, DecodingError.Context(codingPath: [],
                debugDescription: "a record needs \"messages\" (chat) or \"text\" (plain text)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .chat(let messages): try c.encode(messages, forKey: .messages)
        case .text(let text): try c.encode(text, forKey: .text)
        }
    }
}
