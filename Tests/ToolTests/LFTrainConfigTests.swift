import Foundation
import Testing
import TestSupport

/// lf-train's settings end to end: the --config file, the options that override it, the effective
/// configuration on stderr, and the exit statuses of configuration mistakes.
@Suite struct LFTrainConfigTests {
    static func yamlFile(_ text: String) throws -> (dir: URL, path: String) {
        let dir = try Fixtures.temporaryDirectory("lf-train-config")
        let path = dir.appendingPathComponent("train.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    @Test func commandLineWinsOverTheFileAndTheResultIsPrinted() throws {
        let (dir, path) = try Self.yamlFile("""
            model_name_or_path: models/base
            data: shards/train
            output_dir: out
            lora_rank: 16
            learning_rate: 1.0e-4
            bf16: true
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tools.run("lf-train", ["--config", path, "--lora-rank", "4", "--lr", "3e-4", "--no-use-rslora"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("\nlora_rank: 4\n"))
        #expect(r.stderr.contains("\nlora_alpha: 8.0\n"))  // 2 × the command line's rank
        #expect(r.stderr.contains("\nlearning_rate: 0.0003\n"))
        #expect(r.stderr.contains("\nmodel_name_or_path: models/base\n"))
        #expect(r.stderr.contains("\(path):6: note: bf16 is not used by lf-train"))
        #expect(r.stderr.contains("shards/train: the shard directory does not exist"))
    }

    @Test func quietPrintsOnlyTheError() throws {
        let r = try Tools.run("lf-train", ["-q", "--model", "m", "--data", "d", "-o", "o"])
        #expect(r.status == 1)
        #expect(!r.stderr.contains("lora_rank"))
        #expect(r.stderr == "lf-train: error: d: the shard directory does not exist\n" || r.stderr.hasPrefix("lf-train: error: d: the shard directory does not exist\nhint:"))
    }

    @Test func unknownKeyInTheFileIsAUsageError() throws {
        let (dir, path) = try Self.yamlFile("lora_rank: 8\nlora_aplha: 16\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tools.run("lf-train", ["--config", path, "--model", "m", "--data", "d", "-o", "o"])
        #expect(r.status == 2)
        #expect(r.stderr == "lf-train: error: \(path):2 [lora_aplha]: unknown key lora_aplha\nhint: did you mean `lora_alpha`?\n")
    }

    @Test func badOptionValueNamesTheFlag() throws {
        let r = try Tools.run("lf-train", ["--model", "m", "--data", "d", "-o", "o", "--lora-dropout", "1.5"])
        #expect(r.status == 2)
        #expect(r.stderr == "lf-train: error: --lora-dropout: must be in [0, 1) (got 1.5)\n")
    }

    @Test func missingModelSaysHowToGiveIt() throws {
        let r = try Tools.run("lf-train", ["--data", "d", "-o", "o"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no base model"))
        #expect(r.stderr.contains("--model"))
    }

    @Test func contradictoryResumeFlagsAreRefused() throws {
        let r = try Tools.run("lf-train", ["--model", "m", "--data", "d", "-o", "o", "--no-resume", "--resume-from", "ck"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--no-resume and --resume-from contradict each other"))
    }
}
