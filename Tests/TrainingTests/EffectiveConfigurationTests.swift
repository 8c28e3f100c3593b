import Foundation
import Testing
@testable import Shared
import TestSupport

@Suite struct EffectiveConfigurationTests {
    /// A configuration with every setting away from its default, and awkward strings.
    static func unusual() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "models/my model: v2"  // needs quotes
        c.adapter = "adapters/previous"
        c.data = "123"  // would read as a number unquoted
        c.evalData = "shards/eval"
        c.output = "out/run #1"
        c.shards.template = "llama3"
        c.shards.cutoffLen = 1024
        c.shards.packing = true
        c.shards.trainOnPrompt = false
        c.shards.maskHistory = nil
        c.loraTarget = ["q_proj", "v_proj"]
        c.loraRank = 4
        c.loraAlpha = 12.5
        c.loraDropout = 0.05
        c.useRslora = true
        c.useDora = true
        c.additionalTarget = ["lm_head"]
        c.optim = .sgd
        c.learningRate = 3e-4
        c.adamBeta1 = 0.8
        c.adamBeta2 = 0.95
        c.adamEpsilon = 1e-6
        c.weightDecay = 0.01
        c.maxGradNorm = 0.5
        c.lrScheduler = .constantWithWarmup
        c.warmupSteps = 7
        c.warmupRatio = 0.05
        c.numTrainEpochs = 1.5
        c.maxSteps = 200
        c.perDeviceTrainBatchSize = 2
        c.gradientAccumulationSteps = 3
        c.seed = 0
        c.gradCheckpoint = true
        c.baseDtype = .q8
        c.threads = 2
        c.loggingSteps = 1
        c.evalSteps = 20
        c.saveSteps = 40
        c.saveTotalLimit = 2
        c.saveBest = true
        c.resume = .checkpoint("true")  // a directory literally named "true"
        return c
    }

    @Test func renderThenLoadGivesTheSameConfiguration() throws {
        let defaults = try TrainingConfiguration.merged([requiredLayer()])
        for config in [Self.unusual(), defaults] {
            let text = EffectiveConfiguration.render(config)
            let layer = try YAMLConfiguration.parse(text, file: EffectiveConfiguration.fileName)
            #expect(layer.notes.isEmpty)
            let back = try TrainingConfiguration.merged([layer], support: .everything)
            #expect(back == config, "\(text)")
        }
    }

    @Test func everyKeyOnceInOrder() {
        let text = EffectiveConfiguration.render(Self.unusual())
        let keys = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(": ") }
            .map { String($0.prefix { $0 != ":" }) }
        #expect(keys == TrainingKey.allCases.map(\.yamlName))
    }

    @Test func formatsAsLlamaFactoryWrites() throws {
        let c = try TrainingConfiguration.merged([requiredLayer()])
        let text = EffectiveConfiguration.render(c)
        #expect(text.contains("\nlearning_rate: 5.0e-05\n"))
        #expect(text.contains("\nlora_target: all\n"))
        #expect(text.contains("\nlora_alpha: 16.0\n"))
        #expect(text.contains("\nadam_epsilon: 1.0e-08\n"))
        #expect(text.contains("\nnum_train_epochs: 3.0\n"))
        #expect(text.contains("\nadditional_target: null\n"))
        #expect(text.contains("\nresume_from_checkpoint: false\n"))
        #expect(text.contains("\n### method\n"))
        let odd = EffectiveConfiguration.render(Self.unusual())
        #expect(odd.contains("\nmodel_name_or_path: \"models/my model: v2\"\n"))
        #expect(odd.contains("\ndata: \"123\"\n"))
        #expect(odd.contains("\nlora_target: q_proj,v_proj\n"))
        #expect(odd.contains("\nresume_from_checkpoint: \"true\"\n"))
        #expect(odd.contains("\nmask_history: null\n"))
    }

    @Test func saveWritesTrainingArgsYAML() throws {
        let dir = try Fixtures.temporaryDirectory("lf-effective")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = Self.unusual()
        try EffectiveConfiguration.save(c, in: dir.path)
        let path = dir.appendingPathComponent("training_args.yaml").path
        #expect(try String(contentsOfFile: path, encoding: .utf8) == EffectiveConfiguration.render(c))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["training_args.yaml"])
    }
}
