import Foundation
import Shared
import Testing
import TestSupport

/// Every fixture config decodes, both spellings give the same normalised config, and the values
/// that matter are what the fixture READMEs state.
@Suite struct ConfigFixtureTests {
    static let models = ["gemma", "gpt2", "gpt2-hub-keys", "llama", "llama-bf16", "llama-untied", "llama3-rope",
                         "mistral", "phi3", "phi4-mini", "qwen2", "qwen3", "tiny-chat"]

    /// config.json, and config.legacy.json where the folder has one (asserted equal).
    static func load(_ model: String) throws -> ModelConfig {
        let dir = Fixtures.path("models/\(model)")
        let config = try ModelConfig.load(directory: dir)
        let legacy = (dir as NSString).appendingPathComponent("config.legacy.json")
        if FileManager.default.fileExists(atPath: legacy) {
            let old = try ModelConfig.load(path: legacy)
            #expect(old == config, "\(model): config.legacy.json normalises differently")
        }
        return config
    }

    @Test func everyFixtureFolderHasBothSpellingsWhereExpected() throws {
        for model in Self.models {
            let dir = Fixtures.path("models/\(model)")
            let legacy = FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("config.legacy.json"))
            #expect(legacy == !["gpt2-hub-keys", "tiny-chat"].contains(model), "\(model)")
            _ = try Self.load(model)
        }
    }

    /// The tiny models share one geometry (README): vocab 256, hidden 64, 2 layers, 4 heads, head_dim 16,
    /// intermediate 128, 128 positions.
    @Test(arguments: models)
    func sharedGeometry(_ model: String) throws {
        let c = try Self.load(model)
        #expect(c.vocabSize == (model == "tiny-chat" ? 512 : 256))
        #expect(c.hiddenSize == 64)
        #expect(c.layerCount == 2)
        #expect(c.headCount == 4)
        #expect(c.headDim == 16)
        #expect(c.intermediateSize == 128)
        #expect(c.maxPositions == (model == "tiny-chat" ? 256 : 128))
        #expect(c.kvHeadCount == (model.hasPrefix("gpt2") ? 4 : 2))
        #expect(c.dtype == (model == "llama-bf16" ? .bf16 : .f32))
        #expect(c.slidingWindow == nil)
    }

    @Test func llama() throws {
        let c = try Self.load("llama")
        #expect(c.architecture == .llama)
        #expect(c.normKind == .rms)
        #expect(c.normEps == 1e-5)
        #expect(c.activation == .silu)
        #expect(c.gatedMLP)
        #expect(c.rope == RoPEConfig(theta: 10000, scaling: .none, partialRotaryFactor: 1, rotaryDim: 16))
        #expect(!c.qkvBias && !c.outputBias && !c.mlpBias && !c.qkNorm)
        #expect(c.tiedEmbeddings)
        #expect(!c.learnedPositions)
        #expect(c.embeddingScale == 1)
        #expect(c.bosTokenID == 1)
        #expect(c.eosTokenIDs == [2])
        #expect(c.padTokenID == nil)
        #expect(try !Self.load("llama-untied").tiedEmbeddings)
        var bf16 = try Self.load("llama-bf16")
        #expect(bf16.dtype == .bf16)
        bf16.dtype = .f32
        #expect(bf16 == c)
    }

    @Test func llama3RoPE() throws {
        let c = try Self.load("llama3-rope")
        #expect(c.rope?.theta == 10000)
        #expect(c.rope?.scaling == .llama3(Llama3RoPE(factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64)))
        #expect(c.rope?.originalMaxPositions == 64)
        #expect(c.rope?.scaling.typeName == "llama3")
    }

    @Test func mistral() throws {
        let c = try Self.load("mistral")
        #expect(c.architecture == .mistral)
        #expect(!c.tiedEmbeddings)
        #expect(c.slidingWindow == nil)  // "sliding_window": null
        #expect(c.rope?.scaling == RoPEScaling.none)
        #expect(!c.qkvBias)
    }

    @Test func qwen2() throws {
        let c = try Self.load("qwen2")
        #expect(c.architecture == .qwen2)
        #expect(c.rope?.theta == 1_000_000)
        #expect(c.normEps == 1e-6)
        #expect(c.qkvBias)
        #expect(!c.outputBias && !c.mlpBias)
        #expect(c.headDim == 16)  // no head_dim key: 64 / 4
        #expect(c.tiedEmbeddings)
        #expect(c.bosTokenID == nil)
        #expect(c.eosTokenIDs == [2])
    }

    @Test func qwen3() throws {
        let c = try Self.load("qwen3")
        #expect(c.architecture == .qwen3)
        #expect(c.qkNorm)
        #expect(!c.qkvBias && !c.outputBias)
        #expect(c.rope?.theta == 1_000_000)
        #expect(c.normEps == 1e-6)
        #expect(c.tiedEmbeddings)
    }

    @Test func phi3() throws {
        let c = try Self.load("phi3")
        #expect(c.architecture == .phi3)
        #expect(!c.tiedEmbeddings)
        #expect(c.rope == RoPEConfig(theta: 10000, scaling: .none, partialRotaryFactor: 1, rotaryDim: 16))
        #expect(c.normEps == 1e-5)
    }

    @Test func phi4MiniPartialRotaryAndLongRoPE() throws {
        let c = try Self.load("phi4-mini")
        #expect(c.architecture == .phi3)
        #expect(c.tiedEmbeddings)
        let rope = try #require(c.rope)
        #expect(rope.partialRotaryFactor == 0.75)
        #expect(rope.rotaryDim == 12)
        #expect(rope.originalMaxPositions == 20)
        guard case .longrope(let p) = rope.scaling else {
            Issue.record("expected longrope, got \(rope.scaling)")
            return
        }
        #expect(p.shortFactor == [1.0, 1.15, 1.3, 1.45, 1.6, 1.75])
        #expect(p.longFactor == [1.5, 2.1, 2.7, 3.3, 3.9, 4.5])
        #expect(p.originalMaxPositions == 20)
        // README: attention_factor = sqrt(1 + ln(max_position_embeddings / original) / ln(original)).
        let expected = (1 + log(128.0 / 20.0) / log(20.0)).squareRoot()
        #expect(abs(p.attentionFactor - expected) < 1e-12)
        #expect(abs(p.attentionFactor - 1.2726) < 1e-4)
    }

    @Test func gemma() throws {
        let c = try Self.load("gemma")
        #expect(c.architecture == .gemma)
        #expect(c.normKind == .rmsOnePlusWeight)
        #expect(c.activation == .geluTanh)
        #expect(c.gatedMLP)
        #expect(c.embeddingScale == 8)  // sqrt(64)
        #expect(c.normEps == 1e-6)
        #expect(c.tiedEmbeddings)
        #expect(c.bosTokenID == 2)
        #expect(c.eosTokenIDs == [1])
        #expect(c.padTokenID == 0)
    }

    @Test func gpt2() throws {
        let c = try Self.load("gpt2")
        #expect(c.architecture == .gpt2)
        #expect(c.learnedPositions)
        #expect(c.rope == nil)
        #expect(c.normKind == .layerNorm)
        #expect(c.normEps == 1e-5)
        #expect(c.activation == .geluTanh)  // gelu_new
        #expect(!c.gatedMLP)
        #expect(c.qkvBias && c.outputBias && c.mlpBias)
        #expect(c.tiedEmbeddings)
        #expect(c.bosTokenID == 255)
        #expect(c.eosTokenIDs == [255])
        #expect(c.padTokenID == nil)
        #expect(try Self.load("gpt2-hub-keys") == c)
    }

    @Test func tinyChatHubSpelling() throws {
        let c = try Self.load("tiny-chat")
        #expect(c.architecture == .llama)
        #expect(c.rope?.theta == 10000)
        #expect(c.padTokenID == 0)
        #expect(c.bosTokenID == 1)
        #expect(c.eosTokenIDs == [2])
        #expect(c.tiedEmbeddings)
    }

    /// SmolLM2-135M's real config: hub spelling, rope_theta written as an integer.
    @Test func smollm2() throws {
        let c = try ModelConfig.load(directory: Fixtures.path("smollm2"))
        #expect(c.architecture == .llama)
        #expect(c.vocabSize == 49152)
        #expect(c.hiddenSize == 576)
        #expect(c.layerCount == 30)
        #expect(c.headCount == 9)
        #expect(c.kvHeadCount == 3)
        #expect(c.headDim == 64)
        #expect(c.intermediateSize == 1536)
        #expect(c.maxPositions == 8192)
        #expect(c.rope == RoPEConfig(theta: 100_000, scaling: .none, partialRotaryFactor: 1, rotaryDim: 64))
        #expect(c.normEps == 1e-5)
        #expect(c.tiedEmbeddings)
        #expect(c.dtype == .bf16)
        #expect(c.bosTokenID == 1)
        #expect(c.eosTokenIDs == [2])
        #expect(c.padTokenID == 2)
        #expect(c.queryWidth == 576)
        #expect(c.kvWidth == 192)
    }
}
