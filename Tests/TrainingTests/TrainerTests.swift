import Foundation
import Testing
@testable import Shared
import TestSupport

/// The whole trainer on tiny-chat (a real tokenizer, a 2-layer llama): resume, determinism, the
/// tokenizer check, the NaN stop, checkpoint rotation and --save-best, continuing an adapter, the
/// output files, and that the eval loss falls. Shards come from samples/instructions.jsonl
/// (TrainingData). tiny-chat trains at thousands of tokens per second, so every test runs whole
/// trainings.
@Suite struct TrainerTests {
    static let tinyChat = Fixtures.path("models/tiny-chat")

    /// A tiny-chat run into `output`: AdamW at 1e-2, micro-batches of 2, no accumulation, a log
    /// line every 2 steps, evaluation every 4, no checkpoints before the end unless `change` asks.
    static func config(_ output: URL, steps: Int = 6, _ change: (inout TrainingConfiguration) -> Void = { _ in }) throws -> TrainingConfiguration {
        let shards = try TrainingData.tinyChat.get()
        var c = TrainingConfiguration()
        c.model = tinyChat
        c.data = shards.train
        c.evalData = shards.eval
        c.output = output.path
        c.maxSteps = steps
        c.learningRate = 1e-2
        c.perDeviceTrainBatchSize = 2
        c.gradientAccumulationSteps = 1
        c.loggingSteps = 2
        c.evalSteps = 4
        c.saveSteps = 1000
        change(&c)
        return c
    }

    @discardableResult
    static func train(_ config: TrainingConfiguration) throws -> Trainer {
        let trainer = try Trainer(config: config)
        try trainer.run()
        return trainer
    }

    static func file(_ directory: URL, _ name: String = "adapter_model.safetensors") throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(name))
    }

    static func json(_ directory: URL, _ name: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: file(directory, name))
        return try #require(object as? [String: Any], "\(name) is not a JSON object")
    }

    /// The `checkpoint-N` steps in `directory`, in order.
    static func checkpoints(_ directory: URL) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .compactMap { $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil }.sorted()
    }

    /// trainer_log.jsonl's lines, parsed.
    static func log(_ directory: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: directory.appendingPathComponent("trainer_log.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// An object as sorted-key JSON text without the keys that measure time, so that two runs'
    /// lines compare (and a difference prints readably).
    static func timeless(_ object: [String: Any]) -> String {
        let timeKeys: Set<String> = ["elapsed_time", "remaining_time", "throughput"]
        let kept = object.filter { key, _ in !timeKeys.contains(key) && !key.hasSuffix("_runtime") && !key.hasSuffix("_per_second") }
        let data = (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// (step, kind) of a log line: a step has at most one training and one evaluation line.
    static func key(_ line: [String: Any]) -> String {
        "\((line["current_steps"] as? NSNumber)?.intValue ?? -1)/\(line["eval_loss"] != nil ? "eval" : "train")"
    }

    static func floats(_ path: String) throws -> [String: [Float]] {
        let file = try SafetensorsFile(path: path)
        var result: [String: [Float]] = [:]
        for name in file.names { result[name] = try file.floats(name) }
        return result
    }

    // MARK: Resume

    /// Settings under which a resumed run must equal the uninterrupted one.
    enum ResumeCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case adamw, accumulation, dropout, sgd, additionalTarget

        var testDescription: String { rawValue }

        func apply(_ c: inout TrainingConfiguration) {
            switch self {
            case .adamw: break
            // Modules trained in full: their float32 copies (of bf16 base weights) and AdamW state.
            case .additionalTarget: c.additionalTarget = ["embed_tokens", "lm_head", "norm"]; c.baseDtype = .bf16
            case .accumulation: c.perDeviceTrainBatchSize = 1; c.gradientAccumulationSteps = 3
            case .dropout: c.loraDropout = 0.2; c.gradientAccumulationSteps = 2
            case .sgd: c.optim = .sgd; c.learningRate = 0.5; c.weightDecay = 0.01
            }
        }
    }

    /// Run A trains 10 steps with checkpoints at 3, 6 and 9. Run B starts from a directory holding
    /// only A's checkpoint-3 and A's whole trainer_log.jsonl (lines up to step 10) and resumes:
    /// its checkpoints, final adapter, train loss and log must be A's, bit for bit (times aside).
    /// Logging every 2 steps puts step 3 inside a logging window, so step 4's logged loss spans
    /// the resume.
    @Test(arguments: ResumeCase.allCases)
    func resumeIsBitIdentical(_ variant: ResumeCase) throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = root.appendingPathComponent("a"), b = root.appendingPathComponent("b")
        let configA = try Self.config(a, steps: 10) {
            $0.saveSteps = 3
            variant.apply(&$0)
        }
        try Self.train(configA)
        #expect(Self.checkpoints(a) == [3, 6, 9])

        try FileManager.default.createDirectory(at: b, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: a.appendingPathComponent("checkpoint-3"), to: b.appendingPathComponent("checkpoint-3"))
        try FileManager.default.copyItem(at: a.appendingPathComponent("trainer_log.jsonl"), to: b.appendingPathComponent("trainer_log.jsonl"))
        var configB = configA
        configB.output = b.path
        configB.resume = .latest
        let resumed = try Self.train(configB)
        #expect(resumed.step == 10)

        let finalA = try Self.file(a)
        #expect(finalA != (try Self.file(a.appendingPathComponent("checkpoint-3"))), "steps 4…10 changed nothing: the test would prove nothing")
        #expect(try Self.file(b) == finalA, "the resumed run's adapter differs from the uninterrupted run's")
        for k in [6, 9] {
            let ck = "checkpoint-\(k)"
            #expect(try Self.file(b.appendingPathComponent(ck)) == Self.file(a.appendingPathComponent(ck)), "\(ck)/adapter_model.safetensors")
            #expect(try Self.file(b.appendingPathComponent(ck), Checkpoints.optimizerFile) == Self.file(a.appendingPathComponent(ck), Checkpoints.optimizerFile),
                    "\(ck)/\(Checkpoints.optimizerFile)")
        }

        let logA = try Self.log(a), logB = try Self.log(b)
        let keysB = logB.map(Self.key)
        #expect(Set(keysB).count == keysB.count, "a step is logged twice: \(keysB)")
        #expect(logB.map(Self.key) == logA.map(Self.key))
        for (lineA, lineB) in zip(logA, logB) {
            #expect(Self.timeless(lineB) == Self.timeless(lineA))
        }

        let resultsA = try Self.json(a, "train_results.json"), resultsB = try Self.json(b, "train_results.json")
        #expect((resultsB["train_loss"] as? Double) == (resultsA["train_loss"] as? Double), "train_loss is the mean over all 10 steps in both")
        let historyA = try #require(Self.json(a, "trainer_state.json")["log_history"] as? [[String: Any]])
        let historyB = try #require(Self.json(b, "trainer_state.json")["log_history"] as? [[String: Any]])
        // The last entry is the run summary (its sample and step counts are this session's).
        #expect(historyB.dropLast().map(Self.timeless) == historyA.dropLast().map(Self.timeless))
    }

    /// `--resume` refuses a checkpoint made with other settings that decide the data order or the
    /// random streams, naming the setting and both values, and writes nothing.
    @Test(arguments: ["seed", "micro-batch"])
    func resumeWithOtherSettingsIsRefused(setting: String) throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-resume-refused")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = root.appendingPathComponent("a")
        let configA = try Self.config(a, steps: 4) { $0.saveSteps = 2 }
        try Self.train(configA)
        #expect(Self.checkpoints(a) == [2])
        let before = try FileManager.default.subpathsOfDirectory(atPath: a.path).sorted()
        let logBefore = try Self.file(a, "trainer_log.jsonl")

        var changed = configA
        changed.resume = .latest
        if setting == "seed" { changed.seed = 7 } else { changed.perDeviceTrainBatchSize = 1 }
        let trainer = try Trainer(config: changed)
        let error = try #require(throws: LFError.self) { try trainer.run() }
        let expected = setting == "seed" ? "the checkpoint was made with seed 42, this run has 7"
                                         : "the checkpoint was made with micro-batch 2, this run has 1"
        #expect(error.message == expected)
        #expect(error.location?.file == a.appendingPathComponent("checkpoint-2").path)
        #expect(error.status == .usage)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: a.path).sorted() == before)
        #expect(try Self.file(a, "trainer_log.jsonl") == logBefore)
    }

    /// A new run (no --resume) into the output of an earlier one that left checkpoints is refused
    /// before anything is written: the two runs' checkpoints would mix, and a later --resume
    /// would take the newest, perhaps the earlier run's.
    @Test func aNewRunRefusesAnOutputHoldingCheckpoints() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-stale")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.train(try Self.config(root, steps: 10) { $0.saveSteps = 5 })
        #expect(Self.checkpoints(root) == [5])
        let before = try FileManager.default.subpathsOfDirectory(atPath: root.path).sorted()
        let error = try #require(throws: LFError.self) { try Trainer(config: try Self.config(root, steps: 4) { $0.saveSteps = 2 }) }
        #expect(error.message == "the output directory holds checkpoints of an earlier run (the newest is checkpoint-5)")
        #expect(error.location?.file == root.path)
        #expect(error.status == .usage)
        #expect(error.hint?.contains("--resume") == true)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: root.path).sorted() == before)
    }

    // MARK: Determinism

    /// The seed decides LoRA's initialisation, the data order and the dropout masks: the same seed
    /// gives the same bytes, another seed another adapter.
    @Test func sameSeedGivesTheSameAdapterAndAnotherSeedAnother() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-seed")
        defer { try? FileManager.default.removeItem(at: root) }
        var outputs: [URL] = []
        for (i, seed) in [42, 42, 43].enumerated() {
            let out = root.appendingPathComponent("run\(i)")
            try Self.train(try Self.config(out, steps: 5) { $0.seed = seed; $0.loraDropout = 0.1 })
            outputs.append(out)
        }
        #expect(try Self.file(outputs[0]) == Self.file(outputs[1]))
        #expect(try Self.log(outputs[0]).map(Self.timeless) == Self.log(outputs[1]).map(Self.timeless))
        #expect(try Self.file(outputs[0]) != Self.file(outputs[2]))
    }

    // MARK: Data checks

    /// A copy of tiny-chat whose `<|endoftext|>` (id 0) is renamed: a different tokenizer.
    static func otherTokenizer(in root: URL) throws -> URL {
        let dir = root.appendingPathComponent("other-tokenizer")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            let text = try String(contentsOfFile: tinyChat + "/" + name, encoding: .utf8)
            let changed = text.replacingOccurrences(of: "<|endoftext|>", with: "<|endofdoc|>")
            #expect(changed != text, "\(name) has no <|endoftext|> to rename")
            try changed.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// Shards packed with another tokenizer (train or eval) are refused before anything is
    /// written, naming the shards' manifest and the model, with both fingerprints.
    @Test(arguments: ["train", "eval"])
    func shardsOfAnotherTokenizerAreRefused(split: String) throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-tokenizer")
        defer { try? FileManager.default.removeItem(at: root) }
        let other = try Self.otherTokenizer(in: root)
        let foreign = try TrainingData.pack(model: other.path, into: root.appendingPathComponent("shards"))
        let output = root.appendingPathComponent("out")
        let config = try Self.config(output) {
            if split == "train" { $0.data = foreign.train } else { $0.evalData = foreign.eval }
        }
        let error = try #require(throws: LFError.self) { try Trainer(config: config) }
        let shards = split == "train" ? foreign.train : foreign.eval
        #expect(error.message.contains("\(shards)/manifest.json"), "\(error)")
        #expect(error.message.contains(Self.tinyChat), "\(error)")
        #expect(error.message.contains(try Tokenizer.load(directory: other.path).fingerprint), "\(error)")
        #expect(error.message.contains(try Tokenizer.load(directory: Self.tinyChat).fingerprint), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: output.path), "the output directory was created")
    }

    // MARK: NaN

    /// A learning rate of 1e20 makes step 1's update overflow float32 in step 2's forward pass: the
    /// run stops with an error naming the step, after saving the adapter of the last finite step
    /// as a checkpoint — the adapter a run that stopped there would have written.
    @Test func nonFiniteLossStopsWithACheckpointOfTheLastGoodStep() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-nan")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("out")
        let config = try Self.config(output, steps: 10) {
            $0.learningRate = 1e20
            $0.lrScheduler = .constant
            $0.evalData = nil
            $0.loggingSteps = 1
        }
        let trainer = try Trainer(config: config)
        let error = try #require(throws: LFError.self) { try trainer.run() }
        let match = try #require(error.message.firstMatch(of: #/the (loss|gradient norm) is (NaN|infinite) at step (\d+); training stopped/#),
                                 "unexpected message: \(error)")
        let failed = try #require(Int(match.output.3))
        #expect(failed >= 2 && failed <= 10)
        #expect(error.status == .failure)
        let good = failed - 1
        #expect(trainer.step == good)
        let checkpoint = output.appendingPathComponent("checkpoint-\(good)")
        #expect(error.location?.file == checkpoint.path)
        #expect(Self.checkpoints(output) == [good])
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path),
                "a final adapter was written for a run that failed")
        let state = try Self.json(checkpoint, "trainer_state.json")
        #expect((state["global_step"] as? Int) == good)
        for (name, values) in try Self.floats(checkpoint.appendingPathComponent("adapter_model.safetensors").path) {
            #expect(values.allSatisfy { $0.isFinite }, "\(name) is not finite in the checkpoint")
        }
        // The same run stopped at the last good step writes exactly that adapter.
        let shorter = root.appendingPathComponent("shorter")
        var config2 = config
        config2.output = shorter.path
        config2.maxSteps = good
        try Self.train(config2)
        #expect(try Self.file(shorter) == Self.file(checkpoint))
    }

    // MARK: Checkpoint rotation and --save-best

    @Test func saveTotalLimitKeepsTheNewestCheckpoints() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-limit")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.train(try Self.config(root, steps: 12) { $0.saveSteps = 2; $0.saveTotalLimit = 2; $0.evalData = nil })
        #expect(Self.checkpoints(root) == [8, 10])
        // The kept checkpoints are whole (rotation deleted other directories only).
        for k in [8, 10] {
            let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("checkpoint-\(k)").path).sorted()
            #expect(files == ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "trainer_state.json",
                              "training_args.yaml", "training_position.json"])
        }
    }

    /// With --save-best and evaluation every 2 steps the best checkpoint survives any
    /// `--save-total-limit` and the final adapter is its adapter. The HF Trainer keeps the best
    /// and the newest L-1 others; with a limit of 1 it keeps the newest as well, so that the run
    /// can still be resumed. The eval answers are in symbols the training moves away from, so the
    /// best eval loss comes well before the last checkpoints.
    @Test(arguments: [1, 2, 3])
    func saveBestKeepsTheBestCheckpointAndEndsWithIt(limit: Int) throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-best")
        defer { try? FileManager.default.removeItem(at: root) }
        let symbols = try TrainingData.tinyChatSymbolEval.get()
        let config = try Self.config(root, steps: 30) {
            $0.evalData = symbols.eval
            $0.learningRate = 0.01
            $0.lrScheduler = .constant
            $0.loraRank = 16
            $0.loraAlpha = 32
            $0.evalSteps = 2
            $0.saveSteps = 2
            $0.saveTotalLimit = limit
            $0.saveBest = true
        }
        try Self.train(config)
        let evals = try Self.log(root).filter { $0["eval_loss"] != nil }
        #expect(evals.count == 15)
        let evalSteps = evals.map { ($0["current_steps"] as! NSNumber).intValue }
        let best = evals.min { ($0["eval_loss"] as! Double) < ($1["eval_loss"] as! Double) }!
        let bestStep = (best["current_steps"] as! NSNumber).intValue
        let bestLoss = best["eval_loss"] as! Double
        // Checkpoints were saved at 2, 4, …, 28 (and at 30 only if it was the best).
        let newest = 28
        try #require(bestStep < newest - 2 * max(limit - 1, 1), "the best eval loss is among the newest checkpoints (\(zip(evalSteps, evals.map { $0["eval_loss"] as! Double }).map { "\($0): \($1)" })): the test would prove nothing")
        let others = Array(Swift.stride(from: 2, through: newest, by: 2).filter { $0 != bestStep }.suffix(max(limit - 1, 1)))
        #expect(Self.checkpoints(root) == ([bestStep] + others).sorted())
        #expect(try Self.file(root) == Self.file(root.appendingPathComponent("checkpoint-\(bestStep)")))

        let state = try Self.json(root, "trainer_state.json")
        #expect((state["best_model_checkpoint"] as? String) == root.appendingPathComponent("checkpoint-\(bestStep)").path)
        #expect((state["best_metric"] as? Double) == bestLoss)
        #expect((state["best_global_step"] as? Int) == bestStep)
        // The final evaluation figures describe the adapter that was saved: the best one.
        #expect((try Self.json(root, "eval_results.json")["eval_loss"] as? Double) == bestLoss)
    }

    // MARK: Continuing an adapter

    /// `--adapter` starts from an existing PEFT adapter: its values, rank, alpha and targets, not
    /// a new adapter from the configuration's LoRA settings.
    @Test func adapterContinuesAnExistingAdapter() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-adapter")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        try Self.train(try Self.config(first, steps: 3) {
            $0.loraRank = 4
            $0.loraAlpha = 8
            $0.loraTarget = ["q_proj", "v_proj"]
        })
        let saved = try Self.floats(first.appendingPathComponent("adapter_model.safetensors").path)
        #expect(saved.count == 8)

        let trainer = try Trainer(config: try Self.config(second, steps: 3) { $0.adapter = first.path })
        #expect(Set(trainer.adapter.parameters.map(\.name)) == Set(saved.keys))
        for p in trainer.adapter.parameters {
            #expect(Array(UnsafeBufferPointer(start: p.value, count: p.count)) == saved[p.name], "\(p.name) is not the saved adapter's")
        }
        try trainer.run()
        let config = try Self.json(second, "adapter_config.json")
        #expect((config["r"] as? Int) == 4)
        #expect((config["lora_alpha"] as? Int) == 8)
        #expect((config["target_modules"] as? [String]) == ["q_proj", "v_proj"])
        #expect(try Self.file(second) != Self.file(first), "training the adapter further changed nothing")
        #expect(Set(try Self.floats(second.appendingPathComponent("adapter_model.safetensors").path).keys) == Set(saved.keys))
    }

    /// An adapter trained with modules in full continues with them (its modules_to_save), and a
    /// run that asks for other modules than the adapter's is refused rather than ignored.
    @Test func adapterContinuesItsModulesToSave() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-adapter-modules")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        try Self.train(try Self.config(first, steps: 3) { $0.additionalTarget = ["embed_tokens", "norm"] })
        let saved = try Self.floats(first.appendingPathComponent("adapter_model.safetensors").path)
        #expect(saved["base_model.model.model.embed_tokens.weight"]?.count == 512 * 64)
        #expect(saved["base_model.model.model.layers.1.post_attention_layernorm.weight"]?.count == 64)
        #expect((try Self.json(first, "adapter_config.json")["modules_to_save"] as? [String]) == ["embed_tokens", "norm"])

        let trainer = try Trainer(config: try Self.config(second, steps: 2) { $0.adapter = first.path })
        #expect(Set(trainer.adapter.parameters.map(\.name)) == Set(saved.keys))
        for p in trainer.adapter.parameters {
            #expect(Array(UnsafeBufferPointer(start: p.value, count: p.count)) == saved[p.name], "\(p.name) is not the saved adapter's")
        }
        try trainer.run()
        let continued = try Self.floats(second.appendingPathComponent("adapter_model.safetensors").path)
        #expect(continued["base_model.model.model.norm.weight"] != saved["base_model.model.model.norm.weight"], "the norm did not train")

        let error = #expect(throws: LFError.self) {
            _ = try Trainer(config: try Self.config(root.appendingPathComponent("third")) {
                $0.adapter = first.path
                $0.additionalTarget = ["lm_head"]
            })
        }
        #expect(error?.message.contains("its modules_to_save") == true, "\(String(describing: error))")
    }

    // MARK: Outputs

    /// Everything a finished run writes, in the formats of PEFT, the HF Trainer and LLaMA-Factory.
    @Test func outputsHaveTheFormatsOfPEFTAndLlamaFactory() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-outputs")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Self.config(root, steps: 6) {
            $0.loraRank = 4
            $0.loraAlpha = 8
            $0.loraTarget = ["q_proj", "v_proj"]
            $0.loraDropout = 0.05
            $0.useRslora = true
            $0.evalSteps = 3
            $0.saveSteps = 4
        }
        try Self.train(config)

        let peft = try Self.json(root, "adapter_config.json")
        #expect((peft["peft_type"] as? String) == "LORA")
        #expect((peft["task_type"] as? String) == "CAUSAL_LM")
        #expect((peft["r"] as? Int) == 4)
        #expect((peft["lora_alpha"] as? Int) == 8)
        #expect((peft["lora_dropout"] as? Double) == 0.05)
        #expect((peft["target_modules"] as? [String]) == ["q_proj", "v_proj"])
        #expect((peft["use_rslora"] as? Bool) == true)
        #expect((peft["use_dora"] as? Bool) == false)
        #expect((peft["base_model_name_or_path"] as? String) == Self.tinyChat)
        // PEFT's keys and layout: lora_A [r, in], lora_B [out, r]; q is 4 heads × 16, v 2 × 16.
        let tensors = try SafetensorsFile(path: root.appendingPathComponent("adapter_model.safetensors").path)
        var shapes: [String: [Int]] = [:]
        for layer in 0..<2 {
            for (module, out) in [("q_proj", 64), ("v_proj", 32)] {
                let prefix = "base_model.model.model.layers.\(layer).self_attn.\(module)"
                shapes[prefix + ".lora_A.weight"] = [4, 64]
                shapes[prefix + ".lora_B.weight"] = [out, 4]
            }
        }
        #expect(Dictionary(uniqueKeysWithValues: tensors.tensors.map { ($0.name, $0.shape) }) == shapes)

        // trainer_log.jsonl: LLaMA-Factory's keys in its order, a line per log and per evaluation.
        let text = try String(contentsOf: root.appendingPathComponent("trainer_log.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        let keyOrder = lines.map { line in line.matches(of: #/"([a-z_]+)": /#).map { String($0.output.1) } }
        let training = ["current_steps", "total_steps", "loss", "lr", "epoch", "percentage", "elapsed_time", "remaining_time", "throughput", "total_tokens"]
        let evaluation = ["current_steps", "total_steps", "eval_loss", "epoch", "percentage", "elapsed_time", "remaining_time"]
        #expect(keyOrder == [training, evaluation, training, training, evaluation])
        #expect(try Self.log(root).map(Self.key) == ["2/train", "3/eval", "4/train", "6/train", "6/eval"])

        let state = try Self.json(root, "trainer_state.json")
        #expect((state["global_step"] as? Int) == 6)
        #expect((state["max_steps"] as? Int) == 6)
        #expect((state["logging_steps"] as? Int) == 2)
        #expect((state["eval_steps"] as? Int) == 3)
        #expect((state["save_steps"] as? Int) == 4)
        let history = try #require(state["log_history"] as? [[String: Any]])
        #expect(history.map { ($0["step"] as? Int) ?? -1 } == [2, 3, 4, 6, 6, 6])
        #expect(history.last?["train_loss"] != nil)

        // train_results.json: the HF Trainer's metrics; train_loss the mean step loss.
        let results = try Self.json(root, "train_results.json")
        #expect(Set(results.keys) == ["epoch", "total_flos", "train_loss", "train_runtime", "train_samples_per_second",
                                      "train_steps_per_second", "train_tokens_per_second"])
        let logged = try Self.log(root).compactMap { $0["loss"] as? Double }
        let trainLoss = try #require(results["train_loss"] as? Double)
        #expect(abs(trainLoss - logged.reduce(0, +) / Double(logged.count)) < 1e-3, "train_loss \(trainLoss), logged \(logged)")
        #expect((results["epoch"] as? Double) == 6.0 / 13.0)  // 26 training sequences, 2 per step: 13 steps an epoch
        let lastEval = try #require(try Self.log(root).last { $0["eval_loss"] != nil })
        let evalResults = try Self.json(root, "eval_results.json")
        #expect((evalResults["eval_loss"] as? Double) == (lastEval["eval_loss"] as? Double))
        let evalLine = try #require(history.last { $0["eval_loss"] != nil })
        #expect((evalResults["eval_steps_per_second"] as? Double) == (evalLine["eval_steps_per_second"] as? Double))
        #expect((evalResults["eval_samples_per_second"] as? Double) == (evalLine["eval_samples_per_second"] as? Double))
        let all = try Self.json(root, "all_results.json")
        #expect(Set(all.keys) == Set(results.keys).union(evalResults.keys))

        let svg = try String(contentsOf: root.appendingPathComponent("training_loss.svg"), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.hasSuffix("</svg>\n"))

        // training_args.yaml reads back to the configuration of the run.
        let layer = try YAMLConfiguration.load(path: root.appendingPathComponent("training_args.yaml").path)
        #expect(try TrainingConfiguration.merged([layer]) == config)
        #expect(Self.checkpoints(root) == [4])
    }

    // MARK: Learning

    /// Training lowers the eval loss: below the base model's (the fresh adapter's B is zero) and
    /// falling from the first evaluation to the last. tiny-chat's random weights, final norm and
    /// tied embeddings leave little to learn, so the margins are small, but the run is exact.
    @Test func evalLossFallsOnTinyChat() throws {
        let root = try Fixtures.temporaryDirectory("lf-trainer-learns")
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try Trainer(config: try Self.config(root, steps: 24) { $0.evalSteps = 6 })
        let base = try #require(try trainer.evaluate().evalLoss)
        try trainer.run()
        let evals = try Self.log(root).compactMap { $0["eval_loss"] as? Double }
        #expect(evals.count == 4)
        let last = try #require(evals.last)
        #expect(last < base - 0.1, "eval loss \(base) before training, \(evals) during")
        #expect(last < evals[0], "eval loss \(evals)")
    }
}
