import Foundation
import Testing
@testable import Shared
import TestSupport

/// LLaMA-Factory's examples/train_lora/llama3_lora_sft.yaml, with the dataset lines that lf reads
/// from shards instead, and a few more of its keys.
let llamaFactoryYAML = """
    ### model
    model_name_or_path: models/smollm2-135m
    trust_remote_code: true

    ### method
    stage: sft
    do_train: true
    finetuning_type: lora
    lora_rank: 16
    lora_target: q_proj,v_proj
    lora_dropout: 0.05

    ### dataset
    dataset: identity,alpaca_en_demo
    template: llama3
    cutoff_len: 2048
    max_samples: 1000
    overwrite_cache: true
    preprocessing_num_workers: 16
    dataloader_num_workers: 4
    data: shards/train

    ### output
    output_dir: saves/smollm2/lora/sft
    logging_steps: 10
    save_steps: 500
    plot_loss: true
    overwrite_output_dir: true
    save_only_model: false
    report_to: none  # choices: [none, wandb, tensorboard, swanlab, mlflow]

    ### train
    per_device_train_batch_size: 1
    gradient_accumulation_steps: 8
    learning_rate: 1.0e-4
    num_train_epochs: 3.0
    lr_scheduler_type: cosine
    warmup_ratio: 0.1
    bf16: true
    ddp_timeout: 180000000
    resume_from_checkpoint: null
    optim: adamw_torch

    ### eval
    eval_data: shards/eval
    per_device_eval_batch_size: 1
    eval_strategy: steps
    eval_steps: 500
    """

@Suite struct YAMLConfigurationTests {
    @Test func readsALlamaFactoryFile() throws {
        let layer = try YAMLConfiguration.parse(llamaFactoryYAML, file: "llama3_lora_sft.yaml")
        let c = try TrainingConfiguration.merged([layer])
        #expect(c.model == "models/smollm2-135m")
        #expect(c.data == "shards/train")
        #expect(c.evalData == "shards/eval")
        #expect(c.output == "saves/smollm2/lora/sft")
        #expect(c.loraRank == 16)
        #expect(c.loraAlpha == 32)  // LLaMA-Factory: 2 × rank when unset
        #expect(c.loraTarget == ["q_proj", "v_proj"])
        #expect(c.loraDropout == 0.05)
        #expect(c.shards.template == "llama3")
        #expect(c.shards.cutoffLen == 2048)
        #expect(c.learningRate == 1e-4)
        #expect(c.numTrainEpochs == 3)
        #expect(c.lrScheduler == .cosine)
        #expect(c.warmupRatio == 0.1)
        #expect(c.optim == .adamw)
        #expect(c.resume == .no)
        #expect(c.evalSteps == 500)
        #expect(c.loggingSteps == 10)

        // Each key read but not used is noted, with its line.
        #expect(layer.notes.contains { $0.hasPrefix("llama3_lora_sft.yaml:3: note: trust_remote_code") })
        #expect(layer.notes.contains { $0.hasPrefix("llama3_lora_sft.yaml:39: note: bf16 is not used by lf-train") })
        #expect(layer.notes.contains { $0.hasPrefix("llama3_lora_sft.yaml:14: note: dataset") })
        #expect(layer.notes.count == 17)
    }

    @Test func entriesKeepTheirLines() throws {
        let layer = try YAMLConfiguration.parse(llamaFactoryYAML, file: "f.yaml")
        #expect(layer.entries.first { $0.key == .loraRank } == .init(key: .loraRank, value: .int(16), origin: .file("f.yaml", line: 9)))
        #expect(layer.entries.first { $0.key == .learningRate }?.value == .double(1e-4))
    }

    @Test func unknownKeyNamesFileLineAndNearestKey() {
        let e = expectLFError { _ = try YAMLConfiguration.parse("lora_rank: 8\nlerning_rate: 1e-4\n", file: "train.yaml") }
        #expect(e?.location == Shared.SourceLocation(file: "train.yaml", line: 2, field: "lerning_rate"))
        #expect(e?.message == "unknown key lerning_rate")
        #expect(e?.hint == "did you mean `learning_rate`?")
        #expect(e?.status == .usage)
        #expect(e?.description == "train.yaml:2 [lerning_rate]: unknown key lerning_rate\nhint: did you mean `learning_rate`?")

        let far = expectLFError { _ = try YAMLConfiguration.parse("colour_scheme: dark\n", file: "t.yaml") }
        #expect(far?.hint?.contains("lf-train --help") == true)
    }

    @Test func wrongTypeNamesFileAndLine() {
        let e = expectLFError { _ = try YAMLConfiguration.parse("seed: 1\nlora_rank: eight\n", file: "train.yaml") }
        #expect(e?.location?.file == "train.yaml")
        #expect(e?.location?.line == 2)
        #expect(e?.message == "lora_rank: expected a whole number, found 'eight'")

        let quoted = expectLFError { _ = try YAMLConfiguration.parse("lora_rank: \"8\"\n", file: "t.yaml") }
        #expect(quoted?.message == "lora_rank: expected a whole number, found the quoted string \"8\"")

        let fraction = expectLFError { _ = try YAMLConfiguration.parse("save_steps: 0.1\n", file: "t.yaml") }
        #expect(fraction?.message == "save_steps: expected a whole number, found '0.1'")

        let nested = expectLFError { _ = try YAMLConfiguration.parse("learning_rate:\n  peak: 1\n", file: "t.yaml") }
        #expect(nested?.message == "learning_rate: expected a number, found a nested mapping")

        let flag = expectLFError { _ = try YAMLConfiguration.parse("use_dora: maybe\n", file: "t.yaml") }
        #expect(flag?.message == "use_dora: expected true or false, found 'maybe'")
    }

    @Test func valueErrorsFromAFileNameItsLine() {
        let layer = try? YAMLConfiguration.parse("lora_rank: 0\n", file: "t.yaml")
        let e = expectLFError { _ = try TrainingConfiguration.merged([requiredLayer(), layer ?? .init()]) }
        #expect(e?.description == "t.yaml:1: lora_rank: must be at least 1 (got 0)")
    }

    @Test func refusedKeysExplainWhy() {
        let e = expectLFError { _ = try YAMLConfiguration.parse("lora_rank: 8\nval_size: 0.1\n", file: "t.yaml") }
        #expect(e?.location?.line == 2)
        #expect(e?.message.contains("would change the results") == true)
        #expect(e?.hint?.contains("lf-format --split") == true)
    }

    @Test func acceptedKeysWithAnotherValueAreErrors() {
        let e = expectLFError { _ = try YAMLConfiguration.parse("finetuning_type: full\n", file: "t.yaml") }
        #expect(e?.message == "finetuning_type: 'full' is not supported: lf-train trains LoRA adapters only")
        #expect(try! YAMLConfiguration.parse("do_train: True\n", file: "t.yaml").notes.count == 1)
        #expect(expectLFError { _ = try YAMLConfiguration.parse("do_train: false\n", file: "t.yaml") } != nil)
        #expect(try! YAMLConfiguration.parse("eval_strategy: no\nevaluation_strategy: \"no\"\n", file: "t.yaml").notes.count == 2)
        #expect(expectLFError { _ = try YAMLConfiguration.parse("eval_strategy: epoch\n", file: "t.yaml") } != nil)
    }

    @Test func quantizationBitSetsBaseDtype() throws {
        let layer = try YAMLConfiguration.parse("quantization_bit: 4\n", file: "t.yaml")
        #expect(layer[.baseDtype] == .string("q4"))
        let c = try TrainingConfiguration.merged([requiredLayer(), layer], support: .everything)
        #expect(c.baseDtype == .q4)
        #expect(try YAMLConfiguration.parse("quantization_bit: null\n", file: "t.yaml").entries.isEmpty)
        #expect(expectLFError { _ = try YAMLConfiguration.parse("quantization_bit: 2\n", file: "t.yaml") } != nil)
        let both = expectLFError { _ = try YAMLConfiguration.parse("quantization_bit: 4\nbase_dtype: bf16\n", file: "t.yaml") }
        #expect(both?.location?.line == 2)
    }

    @Test func syntaxAndShapeErrors() {
        let bad = expectLFError { _ = try YAMLConfiguration.parse("lora_rank: 8\n  seed: [1\n", file: "t.yaml") }
        #expect(bad?.location?.file == "t.yaml")
        #expect(bad?.message.hasPrefix("YAML syntax error") == true)

        let twice = expectLFError { _ = try YAMLConfiguration.parse("seed: 1\nlora_rank: 8\nseed: 2\n", file: "t.yaml") }
        #expect(twice?.message == "key set more than once: seed")

        let list = expectLFError { _ = try YAMLConfiguration.parse("- lora_rank\n", file: "t.yaml") }
        #expect(list?.message == "expected `key: value` settings, found a list")
    }

    @Test func emptyFileSetsNothing() throws {
        #expect(try YAMLConfiguration.parse("", file: "t.yaml").entries.isEmpty)
        #expect(try YAMLConfiguration.parse("# only a comment\n", file: "t.yaml").entries.isEmpty)
    }

    @Test func valueForms() throws {
        let text = """
            lora_target: [q_proj, k_proj]
            additional_target: embed_tokens
            learning_rate: 1e-4
            num_train_epochs: 2
            save_total_limit: ~
            threads:
            resume_from_checkpoint: out/checkpoint-100
            use_rslora: yes
            """
        let layer = try YAMLConfiguration.parse(text, file: "t.yaml")
        let c = try TrainingConfiguration.merged([requiredLayer(), layer], support: .everything)
        #expect(c.loraTarget == ["q_proj", "k_proj"])
        #expect(c.additionalTarget == ["embed_tokens"])
        #expect(c.learningRate == 1e-4)
        #expect(c.numTrainEpochs == 2)
        #expect(c.saveTotalLimit == nil)
        #expect(c.threads == nil)
        #expect(c.resume == .checkpoint("out/checkpoint-100"))
        #expect(c.useRslora)
        #expect(try TrainingConfiguration.merged([requiredLayer(), YAMLConfiguration.parse("resume_from_checkpoint: true", file: "t")]).resume == .latest)
    }

    @Test func commandLineWinsOverYAML() throws {
        let yaml = try YAMLConfiguration.parse("learning_rate: 1.0e-4\nlora_rank: 16\nseed: 7\n", file: "t.yaml")
        var cli = requiredLayer()
        cli.set(.learningRate, .double(3e-4), from: .commandLine("--lr"))
        cli.set(.seed, .int(1), from: .commandLine("--seed"))
        let c = try TrainingConfiguration.merged([yaml, cli])
        #expect(c.learningRate == 3e-4)
        #expect(c.seed == 1)
        #expect(c.loraRank == 16)
    }

    @Test func loadReadsAFileAndReportsAMissingOne() throws {
        let dir = try Fixtures.temporaryDirectory("lf-yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("train.yaml").path
        try "lora_rank: 4\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try YAMLConfiguration.load(path: path)[.loraRank] == .int(4))
        let missing = dir.appendingPathComponent("nope.yaml").path
        let e = expectLFError { _ = try YAMLConfiguration.load(path: missing) }
        #expect(e?.description.hasPrefix("\(missing): no such file") == true)
    }

    @Test func nearestName() {
        #expect(Shared.nearestName(to: "lora_rnak", among: ["lora_rank", "lora_alpha"]) == "lora_rank")
        #expect(Shared.nearestName(to: "xyz", among: ["lora_rank"]) == nil)
        #expect(editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
    }
}
