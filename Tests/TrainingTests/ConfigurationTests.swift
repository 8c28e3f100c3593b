import Foundation
import Testing
@testable import Shared

/// The settings every run needs, as a command-line layer.
func requiredLayer() -> ConfigurationLayer {
    var layer = ConfigurationLayer()
    layer.set(.model, .string("models/smollm2"), from: .commandLine("--model"))
    layer.set(.data, .string("shards/train"), from: .commandLine("--data"))
    layer.set(.output, .string("out"), from: .commandLine("-o"))
    return layer
}

/// Runs `body`, which must throw an LFError, and returns it.
func expectLFError(_ body: () throws -> Void, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LFError? {
    do {
        try body()
    } catch let error as LFError {
        return error
    } catch {
        Issue.record("expected an LFError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
    Issue.record("expected an error, none was thrown", sourceLocation: sourceLocation)
    return nil
}

@Suite struct ConfigurationTests {
    @Test func defaultsFollowLlamaFactoryAndHF() {
        let c = TrainingConfiguration()
        #expect(c.loraTarget == ["all"])
        #expect(c.loraRank == 8)
        #expect(c.loraAlpha == 16)
        #expect(c.loraDropout == 0)
        #expect(!c.useRslora && !c.useDora)
        #expect(c.additionalTarget.isEmpty)
        #expect(c.optim == .adamw)
        #expect(c.learningRate == 5e-5)
        #expect(c.adamBeta1 == 0.9 && c.adamBeta2 == 0.999 && c.adamEpsilon == 1e-8)
        #expect(c.weightDecay == 0)
        #expect(c.maxGradNorm == 1)
        #expect(c.lrScheduler == .linear)
        #expect(c.warmupSteps == 0 && c.warmupRatio == 0)
        #expect(c.numTrainEpochs == 3)
        #expect(c.maxSteps == -1)
        #expect(c.perDeviceTrainBatchSize == 1)
        #expect(c.gradientAccumulationSteps == 8)
        #expect(c.seed == 42)
        #expect(!c.gradCheckpoint)
        #expect(c.baseDtype == .f32)
        #expect(c.threads == nil)
        #expect(c.loggingSteps == 10)
        #expect(c.saveSteps == 500)
        #expect(c.saveTotalLimit == nil)
        #expect(!c.saveBest)
        #expect(c.resume == .no)
        #expect(c.shards == TrainingConfiguration.ShardExpectations())
    }

    @Test func mergedDerivesAlphaAndEvalStepsWhenUnset() throws {
        var cli = requiredLayer()
        cli.set(.loraRank, .int(32), from: .commandLine("--lora-rank"))
        cli.set(.loggingSteps, .int(5), from: .commandLine("--logging-steps"))
        let c = try TrainingConfiguration.merged([cli])
        #expect(c.loraRank == 32)
        #expect(c.loraAlpha == 64)
        #expect(c.evalSteps == 5)
    }

    @Test func explicitAlphaAndEvalStepsAreKept() throws {
        var cli = requiredLayer()
        cli.set(.loraRank, .int(32), from: .commandLine("--lora-rank"))
        cli.set(.loraAlpha, .double(8), from: .commandLine("--lora-alpha"))
        cli.set(.evalSteps, .int(100), from: .commandLine("--eval-steps"))
        let c = try TrainingConfiguration.merged([cli])
        #expect(c.loraAlpha == 8)
        #expect(c.evalSteps == 100)
    }

    @Test func laterLayersOverrideOnlyWhatTheySet() throws {
        var yaml = ConfigurationLayer()
        yaml.set(.learningRate, .double(1e-4), from: .file("train.yaml", line: 3))
        yaml.set(.loraRank, .int(16), from: .file("train.yaml", line: 4))
        var cli = requiredLayer()
        cli.set(.learningRate, .double(2e-4), from: .commandLine("--learning-rate"))
        let c = try TrainingConfiguration.merged([yaml, cli])
        #expect(c.learningRate == 2e-4)
        #expect(c.loraRank == 16)
        #expect(c.loraAlpha == 32)
    }

    @Test func errorsNameTheFlagOrTheLine() {
        var cli = requiredLayer()
        cli.set(.loraRank, .int(0), from: .commandLine("--lora-rank"))
        let e1 = expectLFError { _ = try TrainingConfiguration.merged([cli]) }
        #expect(e1?.status == .usage)
        #expect(e1?.description.hasPrefix("--lora-rank: must be at least 1") == true)

        var yaml = ConfigurationLayer()
        yaml.set(.loraDropout, .double(1.0), from: .file("train.yaml", line: 7))
        let e2 = expectLFError { _ = try TrainingConfiguration.merged([yaml, requiredLayer()]) }
        #expect(e2?.location == Shared.SourceLocation(file: "train.yaml", line: 7))
        #expect(e2?.message == "lora_dropout: must be in [0, 1) (got 1.0)")
    }

    @Test func missingModelDataOrOutputIsAUsageError() {
        var layer = requiredLayer()
        layer.entries.removeAll { $0.key == .model }
        let e = expectLFError { _ = try TrainingConfiguration.merged([layer]) }
        #expect(e?.message == "no base model")
        #expect(e?.hint?.contains("--model") == true)
        #expect(e?.status == .usage)
    }

    @Test func wrongValueTypeFromALayerIsAnError() {
        var layer = requiredLayer()
        layer.set(.lrScheduler, .string("polynomial"), from: .commandLine("--lr-scheduler"))
        let e = expectLFError { _ = try TrainingConfiguration.merged([layer]) }
        #expect(e?.message == "--lr-scheduler: 'polynomial' is not one of constant, constant_with_warmup, linear, cosine")
    }

    @Test func hfOptimizerSpellingsReadAsAdamW() throws {
        var layer = requiredLayer()
        layer.set(.optim, .string("adamw_torch"), from: .file("t.yaml", line: 1))
        #expect(try TrainingConfiguration.merged([layer]).optim == .adamw)
        layer.set(.optim, .string("paged_adamw_8bit"), from: .file("t.yaml", line: 2))
        let e = expectLFError { _ = try TrainingConfiguration.merged([layer]) }
        #expect(e?.location?.line == 2)
    }

    @Test func doraRefusedWhereTheEngineCannot() throws {
        var layer = requiredLayer()
        layer.set(.useDora, .bool(true), from: .commandLine("--use-dora"))
        layer.set(.loraDropout, .double(0.1), from: .commandLine("--lora-dropout"))
        let noDropout = TrainingEngineSupport(dora: true, doraWithDropout: false, additionalTarget: false, baseDtypes: [.f32])
        let e = expectLFError { _ = try TrainingConfiguration.merged([layer], support: noDropout) }
        #expect(e?.message.contains("DoRA with lora_dropout > 0") == true)
        #expect(try TrainingConfiguration.merged([layer], support: .everything).useDora)
        let none = TrainingEngineSupport(dora: false, doraWithDropout: false, additionalTarget: false, baseDtypes: [.f32])
        #expect(expectLFError { _ = try TrainingConfiguration.merged([layer], support: none) }?.message.contains("DoRA is not implemented") == true)
    }

    @Test func unsupportedBaseDtypeIsRefused() {
        var layer = requiredLayer()
        layer.set(.baseDtype, .string("q4"), from: .commandLine("--base-dtype"))
        let f32Only = TrainingEngineSupport(dora: false, doraWithDropout: false, additionalTarget: false, baseDtypes: [.f32])
        let e = expectLFError { _ = try TrainingConfiguration.merged([layer], support: f32Only) }
        #expect(e?.message == "--base-dtype: q4 base weights are not implemented in lf-train yet")
        #expect(e?.hint == "use one of f32")
    }

    @Test func crossSettingRules() {
        var best = requiredLayer()
        best.set(.saveBest, .bool(true), from: .commandLine("--save-best"))
        #expect(expectLFError { _ = try TrainingConfiguration.merged([best]) }?.message.contains("no eval_data") == true)

        var mixed = requiredLayer()
        mixed.set(.loraTarget, .strings(["all", "q_proj"]), from: .commandLine("--lora-target"))
        #expect(expectLFError { _ = try TrainingConfiguration.merged([mixed]) } != nil)

        var steps = requiredLayer()
        steps.set(.maxSteps, .int(0), from: .commandLine("--max-steps"))
        #expect(expectLFError { _ = try TrainingConfiguration.merged([steps]) }?.message.hasPrefix("--max-steps") == true)

        var noEpochs = requiredLayer()
        noEpochs.set(.numTrainEpochs, .double(0), from: .commandLine("--epochs"))
        #expect(expectLFError { _ = try TrainingConfiguration.merged([noEpochs]) } != nil)
        noEpochs.set(.maxSteps, .int(100), from: .commandLine("--max-steps"))
        #expect((try? TrainingConfiguration.merged([noEpochs]))?.maxSteps == 100)
    }

    /// Step counts are `TrainingSchedule`'s (TrainerTests); here the warm-up and batch settings.
    @Test func warmupAndSequencesPerStep() {
        var c = TrainingConfiguration()
        c.warmupRatio = 0.1
        #expect(c.warmupStepCount(totalSteps: 36) == 4)
        c.warmupSteps = 5
        #expect(c.warmupStepCount(totalSteps: 36) == 5)
        #expect(c.sequencesPerStep == 8)
    }

    @Test func loraScale() {
        var c = TrainingConfiguration()
        c.loraRank = 16
        c.loraAlpha = 32
        #expect(c.loraScale == 2)
        c.useRslora = true
        #expect(c.loraScale == 8)
    }

    @Test func shardExpectationsAreCheckedAgainstTheManifest() throws {
        var settings = ShardManifest.Settings()
        settings.trainOnPrompt = false
        let manifest = ShardManifest(tokenizerFingerprint: "x", vocabularySize: 10, template: .init(name: "chatml"),
                                     maxLength: 2048, packing: true, settings: settings)
        var e = TrainingConfiguration.ShardExpectations()
        try e.check(against: manifest, shards: "shards")
        e.template = "qwen"  // LLaMA-Factory's name for ChatML
        e.cutoffLen = 2048
        e.packing = true
        try e.check(against: manifest, shards: "shards")
        e.cutoffLen = 1024
        e.template = "llama3"
        let error = expectLFError { try e.check(against: manifest, shards: "shards") }
        #expect(error?.location?.file == "shards/manifest.json")
        #expect(error?.message.contains("cutoff_len: the shards were cut at 2048 tokens, the configuration says 1024") == true)
        #expect(error?.message.contains("template: the shards use chatml, the configuration says llama3") == true)

        // A LLaMA-Factory template lf has no counterpart for cannot be compared: a note, not an error.
        var other = TrainingConfiguration.ShardExpectations()
        other.template = "qwen3_nothink"
        #expect(try other.check(against: manifest, shards: "shards") == ["shards/manifest.json: note: template qwen3_nothink is not one of lf's; the shards use chatml"])
    }
}
