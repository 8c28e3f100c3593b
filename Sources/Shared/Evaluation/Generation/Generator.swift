import Foundation

/// Why generation stopped.
public enum FinishReason: String, Sendable {
    /// An end-of-sequence (or end-of-turn) token.
    case eos
    /// A stop string appeared in the text.
    case stop
    /// `maxNewTokens` were generated.
    case length
}

public struct GenerationResult: Sendable {
    public var promptTokens: Int
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
    /// Seconds spent on the prompt and on the new tokens.
    public var promptSeconds: Double
    public var generationSeconds: Double
}

/// Incremental decoding with a KV cache: the prompt is run once, then one token at a time.
public final class Generator {
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    /// Token ids that end generation (EOS from the config and generation_config, plus the template's stop tokens).
    public var stopTokenIDs: Set<Int32>

    public init(model: TransformerModel, tokenizer: Tokenizer, stopTokenIDs: Set<Int32>) {
        self.model = model
        self.tokenizer = tokenizer
        self.stopTokenIDs = stopTokenIDs
    }

    /// Generates from `prompt` ids. `onText` receives the text as it grows (complete characters
    /// only, never past the start of a possible stop string); returning false stops generation.
    public func generate(prompt: [Int32], maxNewTokens: Int, sampling: SamplingOptions, stopStrings: [String] = [],
                         onText: ((String) -> Bool)? = nil) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw LFError("the prompt is empty (no tokens)") }
        let V = model.config.vocabSize
        let limit = model.positionLimit
        if let limit, prompt.count >= limit {
            throw LFError("the prompt is \(prompt.count) tokens; the model's context is \(limit)",
                          hint: "shorten the prompt")
        }
        let capacity = min(prompt.count + maxNewTokens, limit ?? Int.max)
        let cache = model.makeCache(capacity: capacity)
        var logits = [Float](repeating: 0, count: V)
        var sampler = Sampler(sampling)
        var history = prompt
        var generated: [Int32] = []
        var emitted = 0  // characters of text already given to onText
        var text = ""
        var finish = FinishReason.length
        let holdBack = max(0, (stopStrings.map(\.count).max() ?? 0) - 1)

        let t0 = Date()
        try logits.withUnsafeMutableBufferPointer { try model.forward(prompt, cache: cache, logits: .last, into: $0.baseAddress) }
        let promptSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        while generated.count < maxNewTokens {
            let next = logits.withUnsafeMutableBufferPointer { sampler.next($0.baseAddress!, vocabulary: V, history: history) }
            if stopTokenIDs.contains(next) { finish = .eos; break }
            generated.append(next)
            history.append(next)
            text = tokenizer.decode(generated, skipSpecial: true)
            if let range = stopStrings.compactMap({ text.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                text = String(text[..<range.lowerBound])
                finish = .stop
                break
            }
            if let onText {
                // Hold back an unfinished UTF-8 sequence (decoded as U+FFFD) and a possible stop-string start.
                var ready = text.count - holdBack
                if text.hasSuffix("\u{FFFD}") { ready = min(ready, text.count - 1) }
                if ready > emitted {
                    let start = text.index(text.startIndex, offsetBy: emitted)
                    let end = text.index(text.startIndex, offsetBy: ready)
                    emitted = ready
                    if !onText(String(text[start..<end])) { finish = .stop; break }
                }
            }
            if generated.count == maxNewTokens || cache.count >= capacity { break }
            try logits.withUnsafeMutableBufferPointer { try model.forward([next], cache: cache, logits: .last, into: $0.baseAddress) }
        }
        if let onText, text.count > emitted {
            _ = onText(String(text[text.index(text.startIndex, offsetBy: emitted)...]))
        }
        return GenerationResult(promptTokens: prompt.count, tokens: generated, text: text, finishReason: finish,
                                promptSeconds: promptSeconds, generationSeconds: Date().timeIntervalSince(t1))
    }
}

extension TransformerModel {
    /// The longest sequence the model can take: learned positions bound GPT-2; RoPE models are
    /// allowed their max_position_embeddings.
    public var positionLimit: Int? { config.maxPositions > 0 ? config.maxPositions : nil }
}
