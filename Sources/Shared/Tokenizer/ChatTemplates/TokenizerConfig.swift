import Foundation

/// What lf-tokenize needs from a model directory's tokenizer_config.json: the Jinja chat template and
/// the names of the special tokens. Other keys are ignored.
///
/// The chat template may also live beside it, as transformers ≥ 4.43 saves it: `chat_template.jinja`
/// (the template text) or `chat_template.json` (`{"chat_template": …}`); tokenizer_config.json's own
/// key wins when both exist. A template given as a list of named templates (`[{"name": "default",
/// "template": …}, {"name": "tool_use", …}]`) contributes its `default` entry.
public struct TokenizerConfig: Sendable, Equatable {
    /// The model directory.
    public var directory: String
    public var chatTemplate: String?
    /// The file the chat template came from (for messages).
    public var chatTemplateFile: String?
    public var bosToken: String?
    public var eosToken: String?
    public var modelMaxLength: Int?

    public init(directory: String, chatTemplate: String? = nil, chatTemplateFile: String? = nil,
                bosToken: String? = nil, eosToken: String? = nil, modelMaxLength: Int? = nil) {
        self.directory = directory
        self.chatTemplate = chatTemplate
        self.chatTemplateFile = chatTemplateFile
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.modelMaxLength = modelMaxLength
    }

    /// Reads `directory/tokenizer_config.json` (absent: an empty configuration) and the chat
    /// template files beside it.
    public static func load(modelDirectory directory: String) throws -> TokenizerConfig {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw LFError("the model directory does not exist", at: SourceLocation(file: directory),
                          hint: "pass a Hugging Face model directory (with tokenizer.json and tokenizer_config.json)", status: .usage)
        }
        let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        var config = TokenizerConfig(directory: directory)
        if FileManager.default.fileExists(atPath: configPath) {
            let data = try readFile(configPath)
            config = try TokenizerConfig(parsing: data, path: configPath, directory: directory)
        }
        if config.chatTemplate == nil {
            let jinjaPath = (directory as NSString).appendingPathComponent("chat_template.jinja")
            let jsonPath = (directory as NSString).appendingPathComponent("chat_template.json")
            if FileManager.default.fileExists(atPath: jinjaPath) {
                let data = try readFile(jinjaPath)
                guard let text = String(data: data, encoding: .utf8) else {
                    throw LFError("the chat template is not UTF-8 text", at: SourceLocation(file: jinjaPath))
                }
                config.chatTemplate = text
                config.chatTemplateFile = jinjaPath
            } else if FileManager.default.fileExists(atPath: jsonPath) {
                let object = try parseObject(try readFile(jsonPath), path: jsonPath)
                config.chatTemplate = try templateText(object["chat_template"], path: jsonPath)
                if config.chatTemplate != nil { config.chatTemplateFile = jsonPath }
            }
        }
        return config
    }

    /// Parses the text of a tokenizer_config.json.
    public init(parsing data: Data, path: String, directory: String) throws {
        let object = try Self.parseObject(data, path: path)
        self.directory = directory
        chatTemplate = try Self.templateText(object["chat_template"], path: path)
        chatTemplateFile = chatTemplate == nil ? nil : path
        bosToken = try Self.tokenText(object["bos_token"], key: "bos_token", path: path)
        eosToken = try Self.tokenText(object["eos_token"], key: "eos_token", path: path)
        // model_max_length is often a huge float (1e30) meaning "no limit".
        if let n = object["model_max_length"] as? NSNumber, n.doubleValue >= 1, n.doubleValue < 1e12 {
            modelMaxLength = n.intValue
        }
    }

    static func readFile(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw LFError.io("read", path: path) }
        return data
    }

    static func parseObject(_ data: Data, path: String) throws -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw LFError("malformed JSON: \(error.localizedDescription)", at: SourceLocation(file: path))
        }
        guard let object = value as? [String: Any] else {
            throw LFError("expected a JSON object", at: SourceLocation(file: path))
        }
        return object
    }

    /// A token given as a string, as `{"content": "<s>", …}` (AddedToken), or null.
    static func tokenText(_ value: Any?, key: String, path: String) throws -> String? {
        switch value {
        case nil, is NSNull: return nil
        case let s as String: return s
        case let d as [String: Any]:
            if let s = d["content"] as? String { return s }
            throw LFError("\"\(key)\" is an object without a \"content\" string", at: SourceLocation(file: path, field: key))
        default:
            throw LFError("\"\(key)\" should be a string, an object with \"content\", or null", at: SourceLocation(file: path, field: key))
        }
    }

    static func templateText(_ value: Any?, path: String) throws -> String? {
        switch value {
        case nil, is NSNull: return nil
        case let s as String: return s
        case let list as [Any]:
            for item in list {
                if let d = item as? [String: Any], d["name"] as? String == "default", let t = d["template"] as? String { return t }
            }
            throw LFError("\"chat_template\" is a list without a \"default\" entry", at: SourceLocation(file: path, field: "chat_template"),
                          hint: "pass --template NAME")
        default:
            throw LFError("\"chat_template\" should be a string or a list of {name, template}", at: SourceLocation(file: path, field: "chat_template"))
        }
    }
}
