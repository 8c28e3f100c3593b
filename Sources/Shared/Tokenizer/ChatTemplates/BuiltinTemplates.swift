/// The built-in chat templates.
///
/// Each one was written from the model's own Jinja `chat_template` (as published in the model's
/// tokenizer_config.json on the Hugging Face hub) and from LLaMA-Factory's definition of the same
/// format (llamafactory/data/template.py: format_user / format_assistant / format_system /
/// format_prefix, stop_words, efficient_eos). Where the two disagree, the comment says which one
/// is followed and why. In every template:
///
/// * the trained span of a turn is what LLaMA-Factory's `format_assistant` writes: the answer, the
///   turn's stop token, and anything the template writes after it (ChatML's trailing newline);
/// * nothing is appended after the last turn. Some Jinja templates (Phi-3, Phi-4-mini) write
///   `eos_token` after a conversation rendered without a generation prompt; LLaMA-Factory does not,
///   and neither does lf: the stop token that ends each answer is what the model learns to emit.
///
/// Templates for models with SentencePiece tokenizers (llama2, mistral, vicuna) write no space
/// between the prompt and the answer although the Jinja/FastChat text has one ("[/INST] Hi"): the
/// answer is tokenized as its own segment, and a SentencePiece tokenizer starts every segment with
/// the word-boundary "▁", which is exactly the space. This is LLaMA-Factory's convention too.
extension ChatTemplate {
    /// Every built-in template, in the order `--help` lists them.
    public static let builtins: [ChatTemplate] = [
        chatml, llama3, llama2, mistral, phi3, phi4, deepseekR1, gemma, alpaca, vicuna, plain,
    ]

    /// The built-in template called `name`, or nil.
    public static func builtin(named name: String) -> ChatTemplate? {
        builtins.first { $0.name == name }
    }

    /// ChatML: SmolLM2, Qwen2/2.5, tiny-chat, OpenHermes and many others.
    ///
    /// `<|im_start|>{role}\n{content}<|im_end|>\n` per message. No default system prompt here; the
    /// models that inject one (SmolLM2, Qwen2.5, tiny-chat) get it through `auto`, which reads it
    /// out of the model's template. LLaMA-Factory's `chatml`, `qwen`, `smollm2` templates.
    public static let chatml = ChatTemplate(
        name: "chatml",
        summary: "<|im_start|>role\\n…<|im_end|> (SmolLM2, Qwen2/2.5, tiny-chat)",
        system: "<|im_start|>system\n{content}<|im_end|>\n",
        user: "<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n",
        assistant: "{content}<|im_end|>\n",
        documentEndCandidates: ["<|endoftext|>", "{eos}"],
        markerTokens: ["<|im_start|>", "<|im_end|>"],
        stopTokens: ["<|im_end|>"])

    /// Llama 3 Instruct (Meta-Llama-3-8B-Instruct's template; LLaMA-Factory's `llama3`).
    ///
    /// `<|begin_of_text|>` once, then `<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>`
    /// per message, content trimmed as the Jinja's `| trim` does (LLaMA-Factory does not trim).
    /// Llama 3.1+ templates also write a "Cutting Knowledge Date / Today Date" system block; that is
    /// not reproduced (`auto` refuses those templates and says so).
    public static let llama3 = ChatTemplate(
        name: "llama3",
        summary: "<|start_header_id|>role<|end_header_id|>…<|eot_id|> (Llama 3)",
        prefix: "{bos}",
        system: "<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
        user: "<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        assistant: "{content}<|eot_id|>",
        trimmedRoles: [.system, .user, .assistant],
        textPrefix: "{bos}",
        documentEndCandidates: ["<|end_of_text|>", "{eos}"],
        markerTokens: ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        bosToken: "<|begin_of_text|>",
        stopTokens: ["<|eot_id|>"])

    /// Llama 2 Chat (Llama-2-7b-chat-hf's template; LLaMA-Factory's `llama2`).
    ///
    /// `<s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]{answer}</s>` and `<s>[INST] …` for
    /// each later turn. The Jinja writes `' ' + answer + ' ' + eos`; as LLaMA-Factory, lf writes the
    /// answer with no spaces around it (see the note on SentencePiece above). Contents are stripped
    /// as the Jinja's `.strip()` does.
    public static let llama2 = ChatTemplate(
        name: "llama2",
        summary: "<s>[INST] <<SYS>>…<</SYS>> … [/INST] … </s> (Llama 2 Chat)",
        system: nil,
        foldedSystem: "<<SYS>>\n{system}\n<</SYS>>\n\n{content}",
        user: "{bos}[INST] {content} [/INST]",
        assistant: "{content}{eos}",
        trimmedRoles: [.system, .user, .assistant],
        textPrefix: "{bos}",
        documentEndCandidates: ["{eos}"],
        markerTokens: [],
        bosToken: "<s>", eosToken: "</s>",
        stopTokens: ["{eos}"])

    /// Mistral Instruct, v0.3 style (LLaMA-Factory's `mistral`).
    ///
    /// `<s>[INST] {user}[/INST]{answer}</s>[INST] …`; a system prompt goes before the first user
    /// message, separated by a blank line (LLaMA-Factory's rule; Mistral's own v3 template puts it
    /// before the last one). The answer follows `[/INST]` with no written space (see the note above).
    public static let mistral = ChatTemplate(
        name: "mistral",
        summary: "<s>[INST] …[/INST] … </s> (Mistral Instruct v0.3)",
        prefix: "{bos}",
        system: nil,
        foldedSystem: "{system}\n\n{content}",
        user: "[INST] {content}[/INST]",
        assistant: "{content}{eos}",
        textPrefix: "{bos}",
        documentEndCandidates: ["{eos}"],
        markerTokens: [],
        bosToken: "<s>", eosToken: "</s>",
        stopTokens: ["{eos}"])

    /// Phi-3 / Phi-3.5 mini (Phi-3-mini-4k-instruct's template; LLaMA-Factory's `phi`).
    ///
    /// `<|system|>\n…<|end|>\n<|user|>\n…<|end|>\n<|assistant|>\n…<|end|>\n`.
    public static let phi3 = ChatTemplate(
        name: "phi3",
        summary: "<|user|>\\n…<|end|>\\n<|assistant|>\\n… (Phi-3, Phi-3.5)",
        system: "<|system|>\n{content}<|end|>\n",
        user: "<|user|>\n{content}<|end|>\n<|assistant|>\n",
        assistant: "{content}<|end|>\n",
        documentEndCandidates: ["<|endoftext|>", "{eos}"],
        markerTokens: ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
        stopTokens: ["<|end|>", "<|endoftext|>"])

    /// Phi-4-mini (Phi-4-mini-instruct's template; LLaMA-Factory's `phi4_mini`).
    ///
    /// `<|system|>…<|end|><|user|>…<|end|><|assistant|>…<|end|>`, no newlines. (Phi-4 14B uses a
    /// different, `<|im_sep|>` format that is not built in.)
    public static let phi4 = ChatTemplate(
        name: "phi4",
        summary: "<|user|>…<|end|><|assistant|>… (Phi-4-mini)",
        system: "<|system|>{content}<|end|>",
        user: "<|user|>{content}<|end|><|assistant|>",
        assistant: "{content}<|end|>",
        documentEndCandidates: ["<|endoftext|>", "{eos}"],
        markerTokens: ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
        stopTokens: ["<|end|>", "<|endoftext|>"])

    /// DeepSeek-R1 distilled models (DeepSeek-R1-Distill-Qwen/Llama's template; LLaMA-Factory's
    /// `deepseekr1`).
    ///
    /// `<｜begin▁of▁sentence｜>{system}<｜User｜>{user}<｜Assistant｜>{answer}<｜end▁of▁sentence｜>`.
    /// The model's Jinja drops everything up to `</think>` from assistant messages (it renders
    /// history for inference); for training lf keeps the answer as written, reasoning included, and,
    /// like LLaMA-Factory's reasoning template with thinking enabled, gives an answer that has no
    /// `</think>` an empty `<think>\n\n</think>\n\n` block, trained with the answer, because at
    /// inference the model's generation prompt opens a `<think>` block.
    public static let deepseekR1 = ChatTemplate(
        name: "deepseek-r1",
        summary: "<｜User｜>…<｜Assistant｜>…<｜end▁of▁sentence｜> (R1-Distill)",
        prefix: "{bos}",
        system: "{content}",
        user: "<｜User｜>{content}<｜Assistant｜>",
        assistant: "{content}<｜end▁of▁sentence｜>",
        emptyThought: "<think>\n\n</think>\n\n",
        textPrefix: "{bos}",
        documentEndCandidates: ["<｜end▁of▁sentence｜>", "{eos}"],
        markerTokens: ["<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"],
        bosToken: "<｜begin▁of▁sentence｜>", eosToken: "<｜end▁of▁sentence｜>",
        stopTokens: ["<｜end▁of▁sentence｜>"])

    /// Gemma instruction-tuned models (gemma-2-9b-it's and gemma-3's templates; LLaMA-Factory's `gemma`).
    ///
    /// `<bos><start_of_turn>user\n{user}<end_of_turn>\n<start_of_turn>model\n{answer}<end_of_turn>\n`.
    /// Gemma has no system turn: a system prompt goes before the first user message with a blank
    /// line, as Gemma 3's template and LLaMA-Factory do (Gemma 1/2's templates refuse a system message).
    /// User and assistant contents are trimmed, as the Jinja's `| trim` does.
    public static let gemma = ChatTemplate(
        name: "gemma",
        summary: "<start_of_turn>user|model\\n…<end_of_turn>\\n (Gemma)",
        prefix: "{bos}",
        system: nil,
        foldedSystem: "{system}\n\n{content}",
        user: "<start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n",
        assistant: "{content}<end_of_turn>\n",
        trimmedRoles: [.user, .assistant],
        textPrefix: "{bos}",
        documentEndCandidates: ["{eos}"],
        markerTokens: ["<start_of_turn>", "<end_of_turn>"],
        bosToken: "<bos>", eosToken: "<eos>",
        stopTokens: ["<end_of_turn>", "{eos}"])

    /// Alpaca (LLaMA-Factory's `alpaca`; Stanford Alpaca's prompt).
    ///
    /// `{system}\n\n### Instruction:\n{user}\n\n### Response:\n{answer}{eos}\n\n`, with Alpaca's
    /// system sentence when the conversation has none.
    public static let alpaca = ChatTemplate(
        name: "alpaca",
        summary: "### Instruction:\\n…\\n\\n### Response:\\n… (Stanford Alpaca)",
        system: "{content}\n\n",
        user: "### Instruction:\n{content}\n\n### Response:\n",
        assistant: "{content}{eos}\n\n",
        documentEndCandidates: ["{eos}"],
        markerTokens: [],
        defaultSystem: "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
        stopTokens: ["{eos}"])

    /// Vicuna v1.1 (FastChat's `vicuna_v1.1`; LLaMA-Factory's `vicuna`).
    ///
    /// `{system} USER: {user} ASSISTANT:{answer}</s>USER: …`, with Vicuna's system sentence when the
    /// conversation has none. FastChat writes "ASSISTANT: " + answer; see the note on SentencePiece
    /// above for the missing space. (LLaMA-Factory also drops the space after the system sentence;
    /// lf keeps FastChat's.)
    public static let vicuna = ChatTemplate(
        name: "vicuna",
        summary: "SYSTEM USER: … ASSISTANT: …</s> (Vicuna v1.1)",
        system: "{content} ",
        user: "USER: {content} ASSISTANT:",
        assistant: "{content}{eos}",
        documentEndCandidates: ["{eos}"],
        markerTokens: [],
        defaultSystem: "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
        stopTokens: ["{eos}"])

    /// No chat markup, for base models: `{system}\n\n{user}\n{answer}{eos}` — the messages' text
    /// with newlines between them and the model's EOS token after each answer (so the model learns
    /// to stop). LLaMA-Factory's `empty` template is the same without the newlines and the EOS.
    public static let plain = ChatTemplate(
        name: "plain",
        summary: "no markup: system\\n\\nuser\\nanswer<eos> (base models)",
        system: "{content}\n\n",
        user: "{content}\n",
        assistant: "{content}{eos}",
        documentEndCandidates: ["{eos}"],
        markerTokens: [],
        stopTokens: ["{eos}"])
}
