import Foundation

/// `--template auto`: recognising a model's Jinja `chat_template` as one of the built-in templates.
///
/// lf has no Jinja interpreter yet, so `auto` only accepts a template it knows renders exactly like a
/// built-in one, and fails — naming the family the text looks like — rather than guess. Two ways to
/// be known:
///
/// 1. **Fingerprint.** The sha256 of the template's normalised text is in `knownFingerprints`: the
///    templates published with Meta-Llama-3-8B-Instruct, Llama-2-7b-chat, Phi-3-mini-4k-instruct,
///    Phi-4-mini-instruct, gemma-7b-it, gemma-2-9b-it, DeepSeek-R1-Distill-Qwen, Qwen2.5 (base and
///    Instruct) and the plain ChatML template (OpenHermes-2.5 and others).
/// 2. **Shape.** The whole text is SmolLM2's ChatML template with any default system prompt in its
///    one free slot (SmolLM2 135M/360M/1.7B, tiny-chat and models fine-tuned from them); the default
///    system prompt is read out of the template.
///
/// Normalising only removes differences that cannot change the output: `\r\n` becomes `\n`, the
/// two-character escape `\n` inside Jinja strings becomes a newline (tokenizer_config.json files
/// spell the same template both ways), and leading and trailing whitespace is dropped.
public enum ChatTemplateRecognizer {
    public struct Recognition: Sendable, Equatable {
        /// The built-in template, with the model's default system prompt when it has one.
        public var template: ChatTemplate
        /// What was recognised, for the log line ("SmolLM2's ChatML template with a default system prompt").
        public var matched: String
    }

    struct Known {
        var sha256: String
        var template: String
        var defaultSystem: String?
        var source: String
    }

    static let knownFingerprints: [Known] = [
        Known(sha256: "153280e3ff55d19da1398bdb3914ee2a51b80429bfaedde11d7d216c39db80f3", template: "chatml", defaultSystem: nil,
              source: "the ChatML template (OpenHermes-2.5 and others)"),
        Known(sha256: "7efc46ad1c5f20cfe0c709f7e289e87870c1724dee63504949bf7cca9a108fc5", template: "chatml", defaultSystem: nil,
              source: "the ChatML template without a generation prompt"),
        Known(sha256: "a18cc698dd45623eb707279d08e66f7bb8d76afc89ead84016b88487b395b5cc", template: "chatml",
              defaultSystem: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
              source: "Qwen2.5 Instruct's template (ChatML with a default system prompt; its tool branch is not used)"),
        Known(sha256: "7d6302983e64f35c4ad9459413ee827d5dcfa23ba5373f58cde030c9f724f7e8", template: "chatml",
              defaultSystem: "You are a helpful assistant.",
              source: "Qwen2.5's template (ChatML with a default system prompt; its tool branch is not used)"),
        Known(sha256: "ba03a121d097859c7b5b9cd03af99aafe95275210d2876f642ad9929a150f122", template: "llama3", defaultSystem: nil,
              source: "Meta-Llama-3-8B-Instruct's template"),
        Known(sha256: "9780fae5bfea3cfd7be37d328c6edfd296a8869be8131495bbe7eb37e780c88c", template: "llama2", defaultSystem: nil,
              source: "Llama-2-7b-chat's template"),
        Known(sha256: "dcaee66df77bfbb789ec541fe713218da30225a526f1db97138fc39ee6dc56aa", template: "phi3", defaultSystem: nil,
              source: "Phi-3-mini-4k-instruct's template"),
        Known(sha256: "febf589225c9728ab791f52e8897d7607a823d45368f0a4c92fa68997b40cce9", template: "phi4", defaultSystem: nil,
              source: "Phi-4-mini-instruct's template"),
        Known(sha256: "3919b9309d8949ee8f4b710215987700f87dc5bb0e87bf24dd39189ec65e3eec", template: "gemma", defaultSystem: nil,
              source: "gemma-7b-it's template"),
        Known(sha256: "ecd6ae513fe103f0eb62e8ab5bfa8d0fe45c1074fa398b089c93a7e70c15cfd6", template: "gemma", defaultSystem: nil,
              source: "gemma-2-9b-it's template"),
        Known(sha256: "17cf3acc428d845fa807a0dfbb943f4038762594ea8e6292c2e1955b3620c62f", template: "deepseek-r1", defaultSystem: nil,
              source: "DeepSeek-R1-Distill's template"),
    ]

    /// SmolLM2's template, around its default system prompt.
    static let chatMLDefaultSystemHead =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    static let chatMLDefaultSystemTail =
        "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    /// The normalised text whose sha256 is a template's fingerprint.
    public static func normalize(_ jinja: String) -> String {
        jinja.replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\\n", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The fingerprint of a Jinja template (sha256 of its normalised text, lower-case hex).
    public static func fingerprint(_ jinja: String) -> String {
        SHA256.hex(normalize(jinja))
    }

    /// The built-in template that renders exactly like `jinja`, or an error that says what the text
    /// looks like and what to do. `file` names the template's file in the error.
    public static func recognize(_ jinja: String, file: String) throws -> Recognition {
        let normalized = normalize(jinja)
        let digest = SHA256.hex(normalized)
        if let known = knownFingerprints.first(where: { $0.sha256 == digest }), var template = ChatTemplate.builtin(named: known.template) {
            template.defaultSystem = known.defaultSystem
            return Recognition(template: template, matched: known.source)
        }
        if let system = chatMLDefaultSystem(normalized) {
            var template = ChatTemplate.chatml
            template.defaultSystem = system
            return Recognition(template: template, matched: "SmolLM2's ChatML template, which adds a default system prompt")
        }
        var message = "the model's chat_template is not one lf recognises (fingerprint \(digest.prefix(16))…)"
        if let family = family(of: jinja) { message += "; it looks like \(family)" }
        throw LFError(message, at: SourceLocation(file: file, field: "chat_template"),
                      hint: "lf has no Jinja interpreter yet, so it renders only the built-in templates; pass --template NAME "
                          + "(one of \(ChatTemplate.builtins.map(\.name).joined(separator: ", "))) after checking that it writes "
                          + "what your model expects (lf-tokenize pack --help shows each format)")
    }

    /// The default system prompt when `normalized` is SmolLM2's template shape, else nil.
    static func chatMLDefaultSystem(_ normalized: String) -> String? {
        guard normalized.hasPrefix(chatMLDefaultSystemHead), normalized.hasSuffix(chatMLDefaultSystemTail),
              normalized.utf8.count >= chatMLDefaultSystemHead.utf8.count + chatMLDefaultSystemTail.utf8.count
        else { return nil }
        let body = normalized.utf8.dropFirst(chatMLDefaultSystemHead.utf8.count).dropLast(chatMLDefaultSystemTail.utf8.count)
        guard let literal = String(body) else { return nil }
        return decodeSingleQuotedBody(literal)
    }

    /// The value of the inside of a Jinja single-quoted string (`\'`, `\\`, `\t` escapes), or nil
    /// if it contains an unescaped quote (then the slot is not one string literal).
    static func decodeSingleQuotedBody(_ body: String) -> String? {
        var out = ""
        var escaping = false
        for c in body.unicodeScalars {
            if escaping {
                switch c {
                case "n": out += "\n"
                case "t": out += "\t"
                case "'", "\"", "\\": out.unicodeScalars.append(c)
                default: out += "\\"; out.unicodeScalars.append(c)
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else if c == "'" {
                return nil
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return escaping ? nil : out
    }

    /// A description of the format the markers in `jinja` suggest, for the error message.
    static func family(of jinja: String) -> String? {
        if jinja.contains("<|im_sep|>") { return "Phi-4 (14B)'s <|im_sep|> format, which is not built in" }
        if jinja.contains("<|start_header_id|>") {
            if jinja.contains("Cutting Knowledge Date") {
                return "Llama 3.1 or later (llama3 format plus a dated system block that lf does not write)"
            }
            return "the llama3 format"
        }
        if jinja.contains("<|im_start|>") {
            if jinja.contains("<think>") { return "a ChatML format with reasoning blocks (Qwen3 style), which is not built in" }
            return "the chatml format"
        }
        if jinja.contains("<start_of_turn>") { return "the gemma format" }
        if jinja.contains("<｜Assistant｜>") { return "the deepseek-r1 format" }
        if jinja.contains("<|assistant|>") && jinja.contains("<|end|>") { return "the phi3 or phi4 format" }
        if jinja.contains("[INST]") { return "the llama2 or mistral format" }
        if jinja.contains("### Instruction") { return "the alpaca format" }
        if jinja.contains("ASSISTANT:") { return "the vicuna format" }
        return nil
    }
}

extension ChatTemplate {
    /// The template chosen for a model: its description for the log, and warnings.
    public struct Choice: Sendable {
        public var template: ChatTemplate
        /// "chatml (auto: SmolLM2's ChatML template …; default system prompt "…")"
        public var description: String
        public var warnings: [String]
    }

    /// Resolves `--template NAME` (a built-in name or `auto`) for a model, taking the BOS/EOS token
    /// names from its tokenizer_config.json.
    public static func resolve(_ name: String, config: TokenizerConfig) throws -> Choice {
        var warnings: [String] = []
        var template: ChatTemplate
        var description: String
        let recognition: Result<ChatTemplateRecognizer.Recognition, Error>? = config.chatTemplate.map { jinja in
            Result { try ChatTemplateRecognizer.recognize(jinja, file: config.chatTemplateFile ?? config.directory) }
        }
        if name == "auto" {
            guard let recognition else {
                throw LFError("the model has no chat_template, so --template auto cannot pick one",
                              at: SourceLocation(file: (config.directory as NSString).appendingPathComponent("tokenizer_config.json")),
                              hint: "pass --template NAME (one of \(builtins.map(\.name).joined(separator: ", "))); base models usually want plain")
            }
            let recognised = try recognition.get()
            template = recognised.template
            description = "\(template.name) (auto: \(recognised.matched))"
        } else {
            guard let builtin = builtin(named: name) else {
                throw LFError.usage("unknown template \"\(name)\"",
                                    hint: "use auto or one of \(builtins.map(\.name).joined(separator: ", "))")
            }
            template = builtin
            description = template.name
            if case .success(let recognised)? = recognition,
               recognised.template.name != template.name || recognised.template.defaultSystem != template.defaultSystem {
                var what = recognised.template.name
                if let system = recognised.template.defaultSystem { what += " with the default system prompt \"\(system)\"" }
                warnings.append("the model's own chat template is \(what) (\(recognised.matched)); --template \(name) writes something else")
            }
        }
        if let system = template.defaultSystem { description += "; default system prompt \"\(system)\"" }
        if let bos = config.bosToken { template.bosToken = bos }
        if let eos = config.eosToken { template.eosToken = eos }
        return Choice(template: template, description: description, warnings: warnings)
    }
}
