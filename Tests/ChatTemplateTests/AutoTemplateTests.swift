import Foundation
@testable import Shared
import Testing
import TestSupport

/// `--template auto` and tokenizer_config.json: what is recognised, what is refused, and why.
@Suite struct AutoTemplateTests {
    static let smollm2Dir = Fixtures.path("smollm2")
    static let tinyChatDir = Fixtures.path("models/tiny-chat")

    @Test func smolLM2FixtureIsChatMLWithItsDefaultSystemPrompt() throws {
        let config = try TokenizerConfig.load(modelDirectory: Self.smollm2Dir)
        #expect(config.bosToken == "<|im_start|>")
        #expect(config.eosToken == "<|im_end|>")
        #expect(config.modelMaxLength == 8192)
        #expect(config.chatTemplateFile == Self.smollm2Dir + "/tokenizer_config.json")
        let choice = try ChatTemplate.resolve("auto", config: config)
        #expect(choice.template.name == "chatml")
        // SmolLM2's own template has no full stop at the end (LLaMA-Factory's smollm2 template adds one).
        #expect(choice.template.defaultSystem == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(choice.description.hasPrefix("chatml (auto: SmolLM2's ChatML template"))
        #expect(choice.description.contains("default system prompt \"You are a helpful AI assistant named SmolLM, trained by Hugging Face\""))
        #expect(choice.warnings.isEmpty)
        let rendered = try choice.template.render(conversation((.user, "What is the capital of France?")), addGenerationPrompt: true)
        #expect(rendered.text == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func tinyChatFixtureIsChatMLWithItsDefaultSystemPrompt() throws {
        let config = try TokenizerConfig.load(modelDirectory: Self.tinyChatDir)
        #expect(config.bosToken == nil)
        #expect(config.eosToken == "<|im_end|>")
        #expect(config.modelMaxLength == 256)
        let choice = try ChatTemplate.resolve("auto", config: config)
        #expect(choice.template.name == "chatml")
        #expect(choice.template.defaultSystem == "You are a helpful assistant.")
        let rendered = try choice.template.render(conversation((.user, "Hi"), (.assistant, "Hello")))
        #expect(rendered.text == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello<|im_end|>\n")
    }

    /// Every fingerprint in the table is the fingerprint of the template text it stands for.
    @Test func knownTemplatesAreRecognised() throws {
        let cases: [(String, String, String?)] = [
            (KnownJinja.chatmlOpenHermes, "chatml", nil),
            (KnownJinja.chatmlNoGenerationPrompt, "chatml", nil),
            (KnownJinja.qwen25Instruct, "chatml", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
            (KnownJinja.qwen25, "chatml", "You are a helpful assistant."),
            (KnownJinja.llama3, "llama3", nil),
            (KnownJinja.llama2, "llama2", nil),
            (KnownJinja.phi3Mini, "phi3", nil),
            (KnownJinja.phi4Mini, "phi4", nil),
            (KnownJinja.gemma7b, "gemma", nil),
            (KnownJinja.gemma2, "gemma", nil),
            (KnownJinja.deepseekR1Distill, "deepseek-r1", nil),
        ]
        for (jinja, name, system) in cases {
            let r = try ChatTemplateRecognizer.recognize(jinja, file: "tokenizer_config.json")
            #expect(r.template.name == name)
            #expect(r.template.defaultSystem == system)
        }
        #expect(Set(cases.map { ChatTemplateRecognizer.fingerprint($0.0) }) == Set(ChatTemplateRecognizer.knownFingerprints.map(\.sha256)))
        for known in ChatTemplateRecognizer.knownFingerprints { #expect(ChatTemplate.builtin(named: known.template) != nil) }
    }

    /// The same template spelled with real newlines or `\n` escapes, CRLF line ends or surrounding
    /// whitespace has the same fingerprint.
    @Test func normalisation() throws {
        let escaped = KnownJinja.chatmlOpenHermes
        let real = escaped.replacingOccurrences(of: "\\n", with: "\n")
        #expect(ChatTemplateRecognizer.fingerprint(escaped) == ChatTemplateRecognizer.fingerprint(real))
        #expect(ChatTemplateRecognizer.fingerprint(escaped) == ChatTemplateRecognizer.fingerprint("\n  " + escaped + "\n"))
        let crlf = KnownJinja.llama2.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try ChatTemplateRecognizer.recognize(crlf, file: "x").template.name == "llama2")
        // A changed character is a different template.
        #expect(throws: LFError.self) { try ChatTemplateRecognizer.recognize(escaped.replacingOccurrences(of: "'<|im_end|>'", with: "'<|im_end|> '"), file: "x") }
    }

    /// SmolLM2's template shape with any default system prompt is recognised, and the prompt is read out.
    @Test func chatMLWithAnyDefaultSystemPrompt() throws {
        let smol = try TokenizerConfig.load(modelDirectory: Self.smollm2Dir).chatTemplate!
        let other = smol.replacingOccurrences(of: "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
                                              with: "Tu es un assistant. It\\'s \\\"fine\\\".")
        let r = try ChatTemplateRecognizer.recognize(other, file: "x")
        #expect(r.template.defaultSystem == "Tu es un assistant. It's \"fine\".")
        // An unescaped quote means the slot is not one string literal: not recognised.
        let broken = smol.replacingOccurrences(of: "named SmolLM", with: "named ' + name + '")
        #expect(throws: LFError.self) { try ChatTemplateRecognizer.recognize(broken, file: "x") }
    }

    @Test func unrecognisedTemplatesFailNamingTheFamily() throws {
        let cases: [(String, String)] = [
            (KnownJinja.llama32, "Llama 3.1 or later"),
            (KnownJinja.qwen3, "reasoning blocks"),
            (KnownJinja.mistralV02, "llama2 or mistral"),
            (KnownJinja.phi3Medium, "phi3 or phi4"),
            ("{{ messages }}", "not one lf recognises"),
        ]
        for (jinja, fragment) in cases {
            let error = #expect(throws: LFError.self) { try ChatTemplateRecognizer.recognize(jinja, file: "m/tokenizer_config.json") }
            #expect(error?.message.contains(fragment) == true, "\(String(describing: error))")
            #expect(error?.message.contains("fingerprint") == true)
            #expect(error?.location?.file == "m/tokenizer_config.json")
            #expect(error?.location?.field == "chat_template")
            #expect(error?.hint?.contains("--template") == true)
        }
    }

    @Test func autoWithoutATemplate() throws {
        let dir = try Fixtures.temporaryDirectory("lf-auto")
        try Data(#"{"eos_token": "</s>"}"#.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let config = try TokenizerConfig.load(modelDirectory: dir.path)
        let error = #expect(throws: LFError.self) { try ChatTemplate.resolve("auto", config: config) }
        #expect(error?.message.contains("no chat_template") == true)
        #expect(error?.hint?.contains("plain") == true)
        // A named template works and takes its EOS from the config.
        let plain = try ChatTemplate.resolve("plain", config: config)
        #expect(plain.template.eosToken == "</s>")
        #expect(plain.warnings.isEmpty)
    }

    @Test func namedTemplatesWarnWhenTheModelSaysOtherwise() throws {
        let config = try TokenizerConfig.load(modelDirectory: Self.smollm2Dir)
        let chatml = try ChatTemplate.resolve("chatml", config: config)
        #expect(chatml.description == "chatml")
        #expect(chatml.template.defaultSystem == nil)
        #expect(chatml.warnings.count == 1)
        #expect(chatml.warnings.first?.contains("default system prompt") == true)
        let llama3 = try ChatTemplate.resolve("llama3", config: config)
        #expect(llama3.warnings.first?.contains("chatml") == true)
        // The model's BOS/EOS names replace the template's defaults.
        #expect(llama3.template.bosToken == "<|im_start|>")
        let unknown = #expect(throws: LFError.self) { try ChatTemplate.resolve("chatml2", config: config) }
        #expect(unknown?.status == .usage)
    }

    @Test func tokenizerConfigVariants() throws {
        let dir = try Fixtures.temporaryDirectory("lf-config")
        func write(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        // Tokens as AddedToken objects, a list of named templates, a huge model_max_length.
        try write("tokenizer_config.json", """
            {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": {"content": "</s>"}, "model_max_length": 1e30,
             "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "\(KnownJinja.llama2.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"}]}
            """)
        var config = try TokenizerConfig.load(modelDirectory: dir.path)
        #expect(config.bosToken == "<s>")
        #expect(config.eosToken == "</s>")
        #expect(config.modelMaxLength == nil)
        #expect(try ChatTemplate.resolve("auto", config: config).template.name == "llama2")
        // No template in tokenizer_config.json: chat_template.jinja beside it.
        try write("tokenizer_config.json", #"{"eos_token": null}"#)
        try write("chat_template.jinja", KnownJinja.phi4Mini)
        config = try TokenizerConfig.load(modelDirectory: dir.path)
        #expect(config.eosToken == nil)
        #expect(config.chatTemplateFile == dir.path + "/chat_template.jinja")
        #expect(try ChatTemplate.resolve("auto", config: config).template.name == "phi4")
        // Bad values name the key.
        try write("tokenizer_config.json", #"{"eos_token": 5}"#)
        let error = #expect(throws: LFError.self) { try TokenizerConfig.load(modelDirectory: dir.path) }
        #expect(error?.location?.field == "eos_token")
        try write("tokenizer_config.json", #"{"chat_template": [{"name": "tool_use", "template": "x"}]}"#)
        #expect((#expect(throws: LFError.self) { try TokenizerConfig.load(modelDirectory: dir.path) })?.message.contains("default") == true)
        try write("tokenizer_config.json", "{not json")
        #expect((#expect(throws: LFError.self) { try TokenizerConfig.load(modelDirectory: dir.path) })?.message.contains("malformed JSON") == true)
        // A missing directory is a usage error.
        #expect((#expect(throws: LFError.self) { try TokenizerConfig.load(modelDirectory: dir.path + "/nope") })?.status == .usage)
    }
}
