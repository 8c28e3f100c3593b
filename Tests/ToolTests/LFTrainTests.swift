import Foundation
import Shared
import Testing
import TestSupport

/// lf-train end to end on tiny-chat: Ctrl-C saves a checkpoint that --resume continues to the
/// uninterrupted run's adapter, a --config file runs, and bad inputs fail naming the path. The
/// shards are made as a user makes them: lf-format --split, then lf-tokenize pack.
@Suite struct LFTrainTests {
    static let model = Fixtures.path("models/tiny-chat")

    struct Shards { let train: String; let eval: String }

    static let shards: Result<Shards, Error> = Result {
        let dir = try Fixtures.temporaryDirectory("lf-train-tool-shards")
        let samples = Fixtures.packageRoot.appendingPathComponent("samples/instructions.jsonl").path
        let sft = dir.appendingPathComponent("sft").path
        let format = try Tools.run("lf-format", [samples, "--split", "0.8,0.2", "-o", sft, "--quiet"])
        guard format.status == 0 else { throw ToolFailure("lf-format", format) }
        for split in ["train", "eval"] {
            let pack = try Tools.run("lf-tokenize", ["pack", "--tokenizer", model, sft + "/\(split).jsonl", "-o", dir.appendingPathComponent(split).path, "--quiet"])
            guard pack.status == 0 else { throw ToolFailure("lf-tokenize pack", pack) }
        }
        return Shards(train: dir.appendingPathComponent("train").path, eval: dir.appendingPathComponent("eval").path)
    }

    struct ToolFailure: Error, CustomStringConvertible {
        let description: String
        init(_ tool: String, _ r: ToolResult) { description = "\(tool) exited \(r.status): \(r.stderr)" }
    }

    /// Every file and directory under `directory`, relative to it.
    static func tree(_ directory: URL) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    static func lines(_ directory: URL) throws -> [String] {
        let text = try String(contentsOf: directory.appendingPathComponent("trainer_log.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// A log line without the keys that measure time.
    static func timeless(_ line: String) -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return "not JSON: " + line }
        for key in ["elapsed_time", "remaining_time", "throughput"] { object[key] = nil }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Ctrl-C and --resume

    /// Where the time of a run goes, and so where a Ctrl-C most likely lands.
    enum Phase: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// 300 one-sequence steps, evaluating every 50.
        case training
        /// One-sequence steps, each followed by an evaluation of the 26 training sequences.
        case evaluation

        var testDescription: String { rawValue }

        func arguments(_ shards: Shards, output: URL) -> [String] {
            var a = ["--model", LFTrainTests.model, "--data", shards.train, "-o", output.path, "--learning-rate", "1e-2",
                     "--micro-batch", "1", "--grad-accum", "1", "--logging-steps", "1", "--save-steps", "1000", "--lora-dropout", "0.1"]
            switch self {
            case .training: a += ["--eval-data", shards.eval, "--max-steps", "300", "--eval-steps", "50"]
            case .evaluation: a += ["--eval-data", shards.train, "--max-steps", "40", "--eval-steps", "1"]
            }
            return a
        }
    }

    /// SIGINT after the first log lines: exit 130, a checkpoint of the steps done, no temporary
    /// left; `--resume` then ends with the uninterrupted run's adapter bytes and log lines.
    @Test(arguments: Phase.allCases)
    func interruptThenResumeEqualsAnUninterruptedRun(phase: Phase) throws {
        let shards = try Self.shards.get()
        let root = try Fixtures.temporaryDirectory("lf-train-interrupt")
        defer { try? FileManager.default.removeItem(at: root) }
        let reference = root.appendingPathComponent("reference"), output = root.appendingPathComponent("out")
        let whole = try Tools.run("lf-train", phase.arguments(shards, output: reference))
        #expect(whole.status == 0, "\(whole.stderr)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.path("lf-train"))
        process.arguments = phase.arguments(shards, output: output)
        let stderrPath = root.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
        let stderr = try FileHandle(forWritingTo: stderrPath)
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait for three log lines: the model is loaded and training is under way.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning, ((try? Self.lines(output))?.count ?? 0) < 3 {
            usleep(5_000)
        }
        process.interrupt()
        process.waitUntilExit()
        try stderr.close()
        let message = try String(contentsOf: stderrPath, encoding: .utf8)
        try #require(process.terminationStatus == 130, "lf-train exited \(process.terminationStatus), not 130: \(message)")

        let files = Self.tree(output)
        let checkpoints = files.filter { $0.hasPrefix("checkpoint-") && !$0.contains("/") }
        #expect(checkpoints.count == 1, "\(files)")
        let step = try #require(checkpoints.first.flatMap { Int($0.dropFirst("checkpoint-".count)) })
        #expect(message.contains("interrupted: saved \(output.path)/checkpoint-\(step); continue with --resume"), "\(message)")
        #expect(!files.contains { $0.contains(".tmp-") || $0.contains(".old-") }, "temporary files left: \(files)")
        #expect(!files.contains("adapter_model.safetensors"), "an interrupted run wrote a final adapter")
        for name in ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "trainer_state.json",
                     "training_args.yaml", "training_position.json"] {
            #expect(files.contains("checkpoint-\(step)/\(name)"))
        }
        let logged = try Self.lines(output)
        let lastStep = logged.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["current_steps"] as? Int }.last
        #expect(lastStep.map { $0 <= step } == true, "the log goes beyond the checkpoint's step \(step): \(logged.last ?? "")")
        #expect(step < (phase == .training ? 300 : 40))

        let resumed = try Tools.run("lf-train", phase.arguments(shards, output: output) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming from \(output.path)/checkpoint-\(step) at step \(step)/"))
        #expect(try Data(contentsOf: output.appendingPathComponent("adapter_model.safetensors"))
                == Data(contentsOf: reference.appendingPathComponent("adapter_model.safetensors")),
                "the resumed adapter differs from the uninterrupted run's")
        #expect(try Self.lines(output).map(Self.timeless) == Self.lines(reference).map(Self.timeless))
    }

    // MARK: --config

    /// A LLaMA-Factory-style YAML file runs, and the training_args.yaml it leaves repeats the run
    /// to the same bytes.
    @Test func yamlConfigRunsAndTrainingArgsRepeatIt() throws {
        let shards = try Self.shards.get()
        let root = try Fixtures.temporaryDirectory("lf-train-yaml")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first").path
        let yaml = root.appendingPathComponent("train.yaml").path
        try """
            ### model
            model_name_or_path: \(Self.model)

            ### method
            stage: sft
            finetuning_type: lora
            lora_target: q_proj,v_proj
            lora_rank: 4

            ### dataset
            data: \(shards.train)
            eval_data: \(shards.eval)

            ### output
            output_dir: \(first)
            logging_steps: 1
            save_steps: 2

            ### train
            per_device_train_batch_size: 2
            gradient_accumulation_steps: 2
            learning_rate: 1.0e-2
            max_steps: 3
            lr_scheduler_type: cosine
            warmup_ratio: 0.1
            """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let r = try Tools.run("lf-train", ["--config", yaml])
        #expect(r.status == 0, "\(r.stderr)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first + "/adapter_config.json"))) as? [String: Any])
        #expect((config["r"] as? Int) == 4)
        #expect((config["lora_alpha"] as? Int) == 8)
        #expect((config["target_modules"] as? [String]) == ["q_proj", "v_proj"])
        let args = try String(contentsOfFile: first + "/training_args.yaml", encoding: .utf8)
        #expect(args.contains("\nlr_scheduler_type: cosine\n") && args.contains("\nmax_steps: 3\n") && args.contains("\ngradient_accumulation_steps: 2\n"))
        #expect(FileManager.default.fileExists(atPath: first + "/checkpoint-2"))

        let again = root.appendingPathComponent("again").path
        let repeated = try Tools.run("lf-train", ["--config", first + "/training_args.yaml", "-o", again])
        #expect(repeated.status == 0, "\(repeated.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/adapter_model.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: first + "/adapter_model.safetensors")))
    }

    // MARK: --additional-target

    /// `--additional-target` trains the modules in full and saves them as PEFT's modules_to_save;
    /// lf-eval applies the adapter; a name that selects no module is a usage error naming the
    /// nearest names, before anything is written.
    @Test func additionalTargetTrainsModulesThatLFEvalApplies() throws {
        let shards = try Self.shards.get()
        let root = try Fixtures.temporaryDirectory("lf-train-additional")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("out")
        let base = ["--model", Self.model, "--data", shards.train, "--max-steps", "3", "--micro-batch", "2", "--learning-rate", "1e-2"]
        let r = try Tools.run("lf-train", base + ["-o", output.path, "--additional-target", "embed_tokens,norm", "--lora-target", "q_proj,v_proj"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("4 LoRA modules and 6 trained in full"), "\(r.stderr)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("adapter_config.json"))) as? [String: Any]
        #expect(config?["modules_to_save"] as? [String] == ["embed_tokens", "norm"])
        let names = try SafetensorsFile(path: output.appendingPathComponent("adapter_model.safetensors").path).names
        #expect(names.contains("base_model.model.model.embed_tokens.weight") && names.contains("base_model.model.model.norm.weight")
                && names.contains("base_model.model.model.layers.0.input_layernorm.weight"), "\(names)")

        let prompts = Data("{\"messages\":[{\"role\":\"user\",\"content\":\"Name a colour.\"}]}\n".utf8)
        let args = ["generate", "-m", Self.model, "--max-new-tokens", "6", "--ignore-eos", "-q"]
        let tuned = try Tools.run("lf-eval", args + ["--adapter", output.path], stdin: prompts)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stdout != (try Tools.run("lf-eval", args, stdin: prompts)).stdout, "the adapter changed no answer")

        let bad = root.appendingPathComponent("bad")
        let refused = try Tools.run("lf-train", base + ["-o", bad.path, "--additional-target", "embed_token"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("\"embed_token\"") && refused.stderr.contains("nearest: embed_tokens"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bad.path))
    }

    // MARK: Bad inputs

    /// A missing or damaged shard directory, model or adapter: exit 1, a message naming the path,
    /// and no output directory.
    @Test func badInputsNameThePathAndWriteNothing() throws {
        let shards = try Self.shards.get()
        let root = try Fixtures.temporaryDirectory("lf-train-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let empty = root.appendingPathComponent("empty").path
        let damaged = root.appendingPathComponent("damaged").path
        let noWeights = root.appendingPathComponent("no-weights").path
        for dir in [empty, damaged, noWeights] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try "{\"format\": ".write(toFile: damaged + "/manifest.json", atomically: true, encoding: .utf8)
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: Self.model + "/" + name, toPath: noWeights + "/" + name)
        }
        let missing = root.appendingPathComponent("missing").path
        let output = root.appendingPathComponent("out").path
        let cases: [(arguments: [String], message: String)] = [
            (["--model", Self.model, "--data", missing], "lf-train: error: \(missing): the shard directory does not exist"),
            (["--model", Self.model, "--data", empty], "lf-train: error: \(empty)/manifest.json: the shard directory has no manifest.json"),
            (["--model", Self.model, "--data", damaged], "lf-train: error: \(damaged)/manifest.json: manifest.json is not valid JSON"),
            (["--model", Self.model, "--data", shards.train, "--eval-data", missing], "lf-train: error: \(missing): the shard directory does not exist"),
            (["--model", missing, "--data", shards.train], "lf-train: error: \(missing): no such file or directory"),
            (["--model", noWeights, "--data", shards.train], noWeights),
            (["--model", Self.model, "--data", shards.train, "--adapter", missing], missing),
        ]
        for c in cases {
            let r = try Tools.run("lf-train", ["-q"] + c.arguments + ["-o", output])
            #expect(r.status == 1, "\(c.arguments): \(r.stderr)")
            #expect(r.stderr.hasPrefix("lf-train: error: ") && r.stderr.contains(c.message), "\(c.arguments): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "\(c.arguments) created the output directory")
        }
    }
}
