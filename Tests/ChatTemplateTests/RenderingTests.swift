import Foundation
import Shared
import Testing

/// Every built-in template renders known conversations to the exact text the model's own Jinja
/// template writes (or LLaMA-Factory's, where the template's comment says lf follows it), written
/// out by hand here; and the trained spans are exactly the answers with their stop suffixes.
@Suite struct RenderingTests {
    static let chat = conversation((.system, "You are kind."), (.user, "Hi"), (.assistant, "Hello!"), (.user, "Bye"), (.assistant, "Ciao"))

    static func template(_ name: String, eos: String? = nil) -> ChatTemplate {
        var t = ChatTemplate.builtin(named: name)!
        if let eos { t.eosToken = eos }
        return t
    }

    static let expected: [(String, String, [String])] = [
        ("chatml",
         "<|im_start|>system\nYou are kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
             + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nCiao<|im_end|>\n",
         ["Hello!<|im_end|>\n", "Ciao<|im_end|>\n"]),
        ("llama3",
         "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are kind.<|eot_id|>"
             + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
             + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nCiao<|eot_id|>",
         ["Hello!<|eot_id|>", "Ciao<|eot_id|>"]),
        ("llama2",
         "<s>[INST] <<SYS>>\nYou are kind.\n<</SYS>>\n\nHi [/INST]Hello!</s><s>[INST] Bye [/INST]Ciao</s>",
         ["Hello!</s>", "Ciao</s>"]),
        ("mistral",
         "<s>[INST] You are kind.\n\nHi[/INST]Hello!</s>[INST] Bye[/INST]Ciao</s>",
         ["Hello!</s>", "Ciao</s>"]),
        ("phi3",
         "<|system|>\nYou are kind.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\nCiao<|end|>\n",
         ["Hello!<|end|>\n", "Ciao<|end|>\n"]),
        ("phi4",
         "<|system|>You are kind.<|end|><|user|>Hi<|end|><|assistant|>Hello!<|end|><|user|>Bye<|end|><|assistant|>Ciao<|end|>",
         ["Hello!<|end|>", "Ciao<|end|>"]),
        ("deepseek-r1",
         "<｜begin▁of▁sentence｜>You are kind.<｜User｜>Hi<｜Assistant｜><think>\n\n</think>\n\nHello!<｜end▁of▁sentence｜>"
             + "<｜User｜>Bye<｜Assistant｜><think>\n\n</think>\n\nCiao<｜end▁of▁sentence｜>",
         ["<think>\n\n</think>\n\nHello!<｜end▁of▁sentence｜>", "<think>\n\n</think>\n\nCiao<｜end▁of▁sentence｜>"]),
        ("gemma",
         "<bos><start_of_turn>user\nYou are kind.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
             + "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\nCiao<end_of_turn>\n",
         ["Hello!<end_of_turn>\n", "Ciao<end_of_turn>\n"]),
        ("alpaca",
         "You are kind.\n\n### Instruction:\nHi\n\n### Response:\nHello!</s>\n\n### Instruction:\nBye\n\n### Response:\nCiao</s>\n\n",
         ["Hello!</s>\n\n", "Ciao</s>\n\n"]),
        ("vicuna",
         "You are kind. USER: Hi ASSISTANT:Hello!</s>USER: Bye ASSISTANT:Ciao</s>",
         ["Hello!</s>", "Ciao</s>"]),
        ("plain",
         "You are kind.\n\nHi\nHello!</s>Bye\nCiao</s>",
         ["Hello!</s>", "Ciao</s>"]),
    ]

    @Test(arguments: expected.map(\.0))
    func rendersTheModelsText(name: String) throws {
        let (_, text, responses) = Self.expected.first { $0.0 == name }!
        let rendered = try Self.template(name, eos: "</s>").render(Self.chat)
        #expect(rendered.text == text)
        #expect(rendered.turns.map(\.response) == responses)
        // The spans point at the responses in the text, and the segments tile it.
        let utf8 = Array(rendered.text.utf8)
        #expect(rendered.responseSpans.map { String(decoding: utf8[$0], as: UTF8.self) } == responses)
        #expect(rendered.segments.map(\.text).joined() == text)
        #expect(rendered.segments.filter { $0.kind == .response }.map(\.text) == responses)
        #expect(rendered.segments.filter { $0.kind == .response }.map(\.turn) == [0, 1])
        // Every response ends with the stop suffix, every prompt with the assistant header.
        let template = Self.template(name, eos: "</s>")
        #expect(rendered.turns.allSatisfy { $0.response.hasSuffix(rendered.stopSuffix) && $0.prompt.hasSuffix(rendered.assistantHeader) })
        #expect(rendered.stopSuffix.hasPrefix(template.stopTokens[0]))
    }

    @Test func templateList() {
        #expect(ChatTemplate.builtins.map(\.name) == ["chatml", "llama3", "llama2", "mistral", "phi3", "phi4", "deepseek-r1", "gemma", "alpaca", "vicuna", "plain"])
        #expect(Set(Self.expected.map(\.0)) == Set(ChatTemplate.builtins.map(\.name)))
        #expect(ChatTemplate.builtin(named: "nope") == nil)
    }

    @Test func stopTokens() {
        #expect(ChatTemplate.chatml.stopTokens == ["<|im_end|>"])
        #expect(ChatTemplate.llama3.stopTokens == ["<|eot_id|>"])
        #expect(ChatTemplate.llama2.stopTokens == ["</s>"])
        #expect(ChatTemplate.phi3.stopTokens == ["<|end|>", "<|endoftext|>"])
        #expect(ChatTemplate.phi4.stopTokens == ["<|end|>", "<|endoftext|>"])
        #expect(ChatTemplate.gemma.stopTokens == ["<end_of_turn>", "<eos>"])
        #expect(ChatTemplate.deepseekR1.stopTokens == ["<｜end▁of▁sentence｜>"])
        #expect(ChatTemplate.alpaca.stopTokens.isEmpty)  // the model's EOS, unknown until tokenizer_config.json names it
        #expect(Self.template("alpaca", eos: "</s>").stopTokens == ["</s>"])
    }

    @Test func withoutASystemMessage() throws {
        let chat = conversation((.user, "Hi"), (.assistant, "Hello!"))
        #expect(try ChatTemplate.chatml.render(chat).text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n")
        #expect(try ChatTemplate.gemma.render(chat).text == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n")
        #expect(try ChatTemplate.llama2.render(chat).text == "<s>[INST] Hi [/INST]Hello!</s>")
        #expect(try ChatTemplate.llama3.render(chat).prefix == "<|begin_of_text|>")
        // Alpaca and Vicuna have default system prompts, as LLaMA-Factory and FastChat do.
        #expect(try Self.template("alpaca", eos: "</s>").render(chat).text
                == "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
                + "### Instruction:\nHi\n\n### Response:\nHello!</s>\n\n")
        #expect(try Self.template("vicuna", eos: "</s>").render(chat).text
                == "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, "
                + "and polite answers to the user's questions. USER: Hi ASSISTANT:Hello!</s>")
    }

    @Test func defaultSystemPromptIsUsedOnlyWithoutOne() throws {
        var t = ChatTemplate.chatml
        t.defaultSystem = "Be brief."
        #expect(try t.render(conversation((.user, "Hi"), (.assistant, "Yo"))).prefix == "<|im_start|>system\nBe brief.<|im_end|>\n")
        #expect(try t.render(conversation((.system, "Own."), (.user, "Hi"), (.assistant, "Yo"))).prefix == "<|im_start|>system\nOwn.<|im_end|>\n")
    }

    /// Llama 3, Llama 2 and Gemma trim contents as their Jinja does; ChatML keeps them as written.
    @Test func trimming() throws {
        let chat = conversation((.user, "  Hi \n"), (.assistant, "\n Hello  "))
        #expect(try ChatTemplate.llama3.render(chat).turns[0].response == "Hello<|eot_id|>")
        #expect(try ChatTemplate.llama3.render(chat).turns[0].prompt.contains("\n\nHi<|eot_id|>"))
        #expect(try ChatTemplate.gemma.render(chat).turns[0].response == "Hello<end_of_turn>\n")
        #expect(try ChatTemplate.llama2.render(chat).turns[0].prompt == "<s>[INST] Hi [/INST]")
        #expect(try ChatTemplate.chatml.render(chat).turns[0].response == "\n Hello  <|im_end|>\n")
        #expect(JinjaText.trim("\u{3000}\u{A0}x y\u{1F}\t") == "x y")
        #expect(JinjaText.trim(" \n ") == "")
        #expect(JinjaText.trim("e\u{301} ") == "e\u{301}")
    }

    @Test func reasoningIsKeptForDeepSeekR1() throws {
        let answer = "<think>\nadd them\n</think>\n\n4"
        let rendered = try ChatTemplate.deepseekR1.render(conversation((.user, "2+2?"), (.assistant, answer)))
        #expect(rendered.turns[0].response == answer + "<｜end▁of▁sentence｜>")
    }

    /// Braces and placeholder names inside messages are text, not slots.
    @Test func contentIsInsertedLiterally() throws {
        var t = ChatTemplate.mistral
        t.eosToken = "</s>"
        let rendered = try t.render(conversation((.system, "{content} {system}"), (.user, "{eos}{bos}"), (.assistant, "{content}")))
        #expect(rendered.text == "<s>[INST] {content} {system}\n\n{eos}{bos}[/INST]{content}</s>")
    }

    @Test func generationPrompt() throws {
        let prompt = try ChatTemplate.chatml.render(conversation((.user, "Hi")), addGenerationPrompt: true)
        #expect(prompt.text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(prompt.responseSpans.isEmpty)
        #expect(prompt.endsWithGenerationPrompt)
        #expect(throws: ConversationError.noFinalUser) {
            try ChatTemplate.chatml.render(conversation((.user, "Hi"), (.assistant, "Yo")), addGenerationPrompt: true)
        }
    }

    /// The expected outputs of llama.cpp's tests/test-chat-template.cpp for the same conversation
    /// (an independent check; its gemma and Llama-3 cases use an empty BOS).
    @Test func matchesLlamaCppExpectedOutputs() throws {
        let chat = conversation((.system, "You are a helpful assistant"), (.user, "Hello"), (.assistant, "Hi there"), (.user, "Who are you"),
                                (.assistant, "   I am an assistant   "), (.user, "Another question"))
        #expect(try ChatTemplate.chatml.render(chat, addGenerationPrompt: true).text
                == "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n")
        var llama3 = ChatTemplate.llama3
        llama3.bosToken = ""
        #expect(try llama3.render(chat, addGenerationPrompt: true).text
                == "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        var gemma = ChatTemplate.gemma
        gemma.bosToken = ""
        #expect(try gemma.render(chat, addGenerationPrompt: true).text
                == "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test func roleRules() throws {
        let t = ChatTemplate.chatml
        #expect(throws: ConversationError.empty) { try t.render([]) }
        #expect(throws: ConversationError.noAssistant) { try t.render(conversation((.system, "s"))) }
        #expect(throws: ConversationError.noAssistant) { try t.render(conversation((.system, "s"), (.user, "u"))) }
        #expect(throws: ConversationError.endsWithUser(index: 2)) { try t.render(conversation((.user, "u"), (.assistant, "a"), (.user, "u"))) }
        #expect(throws: ConversationError.outOfOrder(index: 0, expected: .user, found: .assistant)) { try t.render(conversation((.assistant, "a"))) }
        #expect(throws: ConversationError.outOfOrder(index: 1, expected: .assistant, found: .user)) {
            try t.render(conversation((.user, "u"), (.user, "u"), (.assistant, "a")))
        }
        #expect(throws: ConversationError.outOfOrder(index: 3, expected: .user, found: .assistant)) {
            try t.render(conversation((.system, "s"), (.user, "u"), (.assistant, "a"), (.assistant, "a")))
        }
        #expect(throws: ConversationError.systemNotFirst(index: 2)) { try t.render(conversation((.user, "u"), (.assistant, "a"), (.system, "s"))) }
        #expect(throws: ConversationError.systemNotFirst(index: 1)) { try t.render(conversation((.system, "s"), (.system, "s"), (.user, "u"), (.assistant, "a"))) }
        #expect(ConversationError.outOfOrder(index: 1, expected: .assistant, found: .user).description
                == "messages[1] has role \"user\" where \"assistant\" was expected")
        // An empty answer is allowed: it trains the stop token.
        #expect(try t.render(conversation((.user, "u"), (.assistant, ""))).turns[0].response == "<|im_end|>\n")
    }

    @Test func templatesThatNeedTheModelsTokens() throws {
        var alpaca = ChatTemplate.alpaca
        alpaca.eosToken = nil
        let error = #expect(throws: LFError.self) { try alpaca.render(conversation((.user, "u"), (.assistant, "a"))) }
        #expect(error?.message.contains("EOS") == true)
        #expect(error?.hint?.contains("eos_token") == true)
        #expect(try ChatTemplate.llama3.requiredTokens() == ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|begin_of_text|>"])
        #expect(try ChatTemplate.chatml.requiredTokens() == ["<|im_start|>", "<|im_end|>"])
        var llama2 = ChatTemplate.llama2
        llama2.eosToken = "<eos>"
        #expect(try llama2.requiredTokens() == ["<s>", "<eos>"])
    }
}
