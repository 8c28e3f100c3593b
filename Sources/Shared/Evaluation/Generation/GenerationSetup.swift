import Foundation

/// generation_config.json: the defaults a model ships for `generate`.
public struct GenerationConfig: Decodable, Sendable {
    public var eosTokenIDs: [Int] = []
    public var maxNewTokens: Int?
    public var doSample: Bool?
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var repetitionPenalty: Double?

    enum CodingKeys: String, CodingKey {
        case eosTokenID = "eos_token_id", maxNewTokens = "max_new_tokens", doSample = "do_sample", temperature
        case topK = "top_k", topP = "top_p", repetitionPenalty = "repetition_penalty"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let one = try? c.decodeIfPresent(Int.self, forKey: .eosTokenID) {
            eosTokenIDs = [one]
        } else if let many = try? c.decodeIfPresent([Int].self, forKey: .eosTokenID) {
            eosTokenIDs = many
        }
        maxNewTokens = try? c.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        doSample = try? c.decodeIfPresent(Bool.self, forKey: .doSample)
        temperature = try? c.decodeIfPresent(Double.self, forKey: .temperature)
        topK = try? c.decodeIfPresent(Int.self, forKey: .topK)
        topP = try? c.decodeIfPresent(Double.self, forKey: .topP)
        repetitionPenalty = try? c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
    }

    /// `directory/generation_config.json`, or defaults when there is none.
    public static func load(directory: String) throws -> GenerationConfig {
        let path = (directory as NSString).appendingPathComponent("generation_config.json")
        guard let data = FileManager.default.contents(atPath: path) else { return GenerationConfig() }
        do { return try JSONDecoder().decode(GenerationConfig.self, from: data) } catch {
            throw LFError.input("generation_config.json does not parse: \(error)", file: path)
        }
    }
}

/// A model ready to generate: weights (with an optional adapter), tokenizer, chat template and the
/// tokens that end an answer.
public final class GenerationSetup {
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public let templateDescription: String
    public let stopTokenIDs: Set<Int32>
    public let generationConfig: GenerationConfig

    /// - Parameter template: a built-in name, `auto` (recognise the model's chat_template), or
    ///   `none` (prompts are used as they are).
    public init(model directory: String, adapter: String?, weightType: WeightFormat, template name: String) throws {
        tokenizer = try Tokenizer.load(directory: directory)
        model = try TransformerModel.load(directory: directory, weightType: weightType)
        if let adapter { try model.attachAdapter(directory: adapter) }
        generationConfig = try GenerationConfig.load(directory: directory)
        if name == "none" {
            template = nil
            templateDescription = "none (prompts as given)"
        } else {
            let choice = try ChatTemplate.resolve(name, config: try TokenizerConfig.load(modelDirectory: directory))
            for warning in choice.warnings { Log.warning(warning) }
            template = choice.template
            templateDescription = choice.description
        }
        var stops = Set((model.config.eosTokenIDs + generationConfig.eosTokenIDs).map { Int32($0) })
        for token in template?.stopTokens ?? [] {
            if let id = tokenizer.tokenID(token) { stops.insert(id) }
        }
        stopTokenIDs = stops
    }

    /// The prompt ids of a conversation that ends with a user message (the template's generation
    /// prompt follows it).
    public func promptIDs(_ messages: [ChatMessage]) throws -> [Int32] {
        guard let template else {
            return tokenizer.encode(messages.map(\.content).joined(separator: "\n"), parseSpecial: true)
        }
        let rendered = try template.render(messages, addGenerationPrompt: true)
        return tokenizer.encode(rendered.text, parseSpecial: true)
    }

    public func generator() -> Generator {
        Generator(model: model, tokenizer: tokenizer, stopTokenIDs: stopTokenIDs)
    }
}
