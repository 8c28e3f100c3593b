import Foundation
import Testing
import TestSupport

/// lf-eval generate and chat as scripts run them (tiny-chat: a complete model directory with a
/// tokenizer and a ChatML template; SmolLM2 for a real answer).
@Suite struct LFEvalTests {
    static let tiny = Fixtures.path("models/tiny-chat")

    static func objects(_ stdout: String) -> [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func generateWritesOneObjectPerPrompt() throws {
        let input = "hello there\n{\"id\": \"a7\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n{\"prompt\": \"tell me\"}\n"
        let r = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--max-new-tokens", "5", "--ignore-eos"], stdin: Data(input.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let out = Self.objects(r.stdout)
        #expect(out.count == 3)
        #expect(out.map { $0["index"] as? Int } == [0, 1, 2])
        #expect(out[1]["id"] as? String == "a7")
        #expect(out.allSatisfy { $0["completion_tokens"] as? Int == 5 && $0["finish_reason"] as? String == "length" })
        #expect(r.stderr.contains("template chatml"))
    }

    @Test func greedyIsDeterministicAndSamplingFollowsTheSeed() throws {
        func run(_ extra: [String]) throws -> String {
            let out = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--max-new-tokens", "12", "--ignore-eos", "-q"] + extra,
                                    stdin: Data("a story\n".utf8)).stdout
            return Self.objects(out).first?["completion"] as? String ?? "(none)"
        }
        #expect(try run([]) == run([]))
        #expect(try run(["--temperature", "1", "--seed", "3"]) == run(["--temperature", "1", "--seed", "3"]))
        #expect(try run(["--temperature", "1", "--seed", "3"]) != run(["--temperature", "1", "--seed", "4"]))
    }

    @Test func streamPrintsTheSameTextFollowedByBlankLines() throws {
        let args = ["generate", "-m", Self.tiny, "--max-new-tokens", "6", "--ignore-eos", "-q"]
        let input = Data("one\ntwo\n".utf8)
        let streamed = try Tools.run("lf-eval", args + ["--stream"], stdin: input)
        let json = Self.objects(try Tools.run("lf-eval", args, stdin: input).stdout)
        #expect(streamed.status == 0)
        #expect(streamed.stdout == json.map { ($0["completion"] as? String ?? "") + "\n\n" }.joined())
    }

    @Test func badPromptLinesAreNamed() throws {
        let bad = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--max-new-tokens", "2"],
                                stdin: Data("fine\n{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}\n".utf8))
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("<stdin>:2"))
        let long = String(repeating: "word ", count: 400)
        let tooLong = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--max-new-tokens", "2"], stdin: Data((long + "\n").utf8))
        #expect(tooLong.status == 1)
        #expect(tooLong.stderr.contains("context"))
    }

    @Test func badModelAndAdapterAreClearErrors() throws {
        let missing = try Tools.run("lf-eval", ["generate", "-m", "/nonexistent/model"], stdin: Data("x\n".utf8))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/model"))
        let adapter = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--adapter", Fixtures.path("models/phi3/adapter")], stdin: Data("x\n".utf8))
        #expect(adapter.status == 1)
        #expect(adapter.stderr.contains("another base model"))
        let usage = try Tools.run("lf-eval", ["generate", "-m", Self.tiny, "--top-p", "2"])
        #expect(usage.status == 2)
    }

    @Test func chatWorksInAPipeAndResetForgetsTheHistory() throws {
        // Greedy: the same message after /reset gets the same answer; without /reset the history changes it.
        let reset = try Tools.run("lf-eval", ["chat", "-m", Self.tiny, "--max-new-tokens", "5", "-q"], stdin: Data("hi\n/reset\nhi\n".utf8))
        #expect(reset.status == 0, "\(reset.stderr)")
        let half = reset.stdout.prefix(reset.stdout.count / 2)
        #expect(!half.isEmpty && reset.stdout == String(half) + String(half))
        let kept = try Tools.run("lf-eval", ["chat", "-m", Self.tiny, "--max-new-tokens", "5", "-q"], stdin: Data("hi\nhi\n".utf8))
        #expect(kept.stdout != reset.stdout)
    }

    @Test(.enabled(if: DefaultModel.shouldTest, "the default model is not fetched"))
    func smolLM2KnowsTheCapitalOfFrance() throws {
        let r = try Tools.run("lf-eval", ["generate", "-m", DefaultModel.directory, "-q"], stdin: Data("What is the capital of France?\n".utf8))
        #expect(r.status == 0)
        let out = Self.objects(r.stdout)
        #expect(out.first?["completion"] as? String == "The capital of France is Paris.")
        #expect(out.first?["finish_reason"] as? String == "eos")
    }
}
