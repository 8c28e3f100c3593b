import Foundation
import Testing
@testable import Shared
import TestSupport

/// A clock the test moves by hand.
final class FakeClock: @unchecked Sendable {
    var seconds = 1000.0
    var now: () -> Double { { self.seconds } }
}

func readLines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

func steps(ofLog path: String) throws -> [Int] {
    try readLines(path).filter { !$0.isEmpty }.map { line in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return (object["current_steps"] as! NSNumber).intValue
    }
}

@Suite struct TrainerLogTests {
    @Test func trainingLineMatchesLlamaFactory() {
        // The expected text is what LLaMA-Factory's LogCallback writes for these values
        // (json.dumps of its dict, checked with Python).
        let entry = LogEntry.training(step: 10, epoch: 0.27, loss: 2.345678, gradNorm: 1.5, learningRate: 4.5e-05, tokensSeen: 20480)
        let line = TrainerLog.line(for: entry, totalSteps: 100, elapsed: 83.9, remaining: 755.1, throughput: 244.1)
        #expect(line == #"{"current_steps": 10, "total_steps": 100, "loss": 2.3457, "lr": 4.5e-05, "epoch": 0.27, "percentage": 10.0, "elapsed_time": "0:01:23", "remaining_time": "0:12:35", "throughput": 244.1, "total_tokens": 20480}"#)
    }

    @Test func evalLineHasEvalLossAndNoLearningRate() {
        let entry = LogEntry.evaluation(step: 7, epoch: 1.5, loss: 1.875, runtime: 2, samples: 8, batches: 8)
        let line = TrainerLog.line(for: entry, totalSteps: 3, elapsed: 0, remaining: 0, throughput: nil)
        #expect(line == #"{"current_steps": 7, "total_steps": 3, "eval_loss": 1.875, "epoch": 1.5, "percentage": 233.33, "elapsed_time": "0:00:00", "remaining_time": "0:00:00"}"#)
        let noTotal = TrainerLog.line(for: entry, totalSteps: 0, elapsed: 0, remaining: 0, throughput: nil)
        #expect(noTotal.contains(#""percentage": 100,"#))
    }

    @Test func pythonFormatting() {
        #expect(PythonFormat.timedelta(0) == "0:00:00")
        #expect(PythonFormat.timedelta(83.9) == "0:01:23")
        #expect(PythonFormat.timedelta(86_400 + 3723) == "1 day, 1:02:03")
        #expect(PythonFormat.timedelta(2 * 86_400 + 5) == "2 days, 0:00:05")
        #expect(PythonFormat.timedelta(-3) == "0:00:00")
        #expect(PythonFormat.seconds(fromTimedelta: "1 day, 1:02:03") == Double(86_400 + 3723))
        #expect(PythonFormat.seconds(fromTimedelta: "12:00:00") == 43_200.0)
        #expect(PythonFormat.seconds(fromTimedelta: "soon") == nil)
        #expect(PythonFormat.round(2.675, 2) == 2.67)  // as Python: the double is below 2.675
        #expect(PythonFormat.round(0.125, 2) == 0.12)  // ties to even, as Python
        #expect(PythonFormat.round(7.0 / 3 * 100, 2) == 233.33)
    }

    @Test func appendsLinesWithTimesFromTheClock() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = FakeClock()
        let log = try TrainerLog(directory: dir.path, totalSteps: 40, now: clock.now)
        clock.seconds += 50
        try log.append(.training(step: 10, epoch: 0.5, loss: 3, gradNorm: nil, learningRate: 1e-4, tokensSeen: 5120))
        clock.seconds += 50
        try log.append(.training(step: 20, epoch: 1, loss: 2.5, gradNorm: nil, learningRate: 5e-5, tokensSeen: 10240))
        try log.append(.evaluation(step: 20, epoch: 1, loss: 2.75, runtime: 1, samples: 4, batches: 4))
        log.close()
        let lines = try readLines(log.path)
        #expect(lines.count == 4 && lines[3].isEmpty)  // three lines, each ending in a newline
        #expect(lines[0] == #"{"current_steps": 10, "total_steps": 40, "loss": 3.0, "lr": 0.0001, "epoch": 0.5, "percentage": 25.0, "elapsed_time": "0:00:50", "remaining_time": "0:02:30", "throughput": 102.4, "total_tokens": 5120}"#)
        #expect(lines[1] == #"{"current_steps": 20, "total_steps": 40, "loss": 2.5, "lr": 5e-05, "epoch": 1.0, "percentage": 50.0, "elapsed_time": "0:01:40", "remaining_time": "0:01:40", "throughput": 102.4, "total_tokens": 10240}"#)
        #expect(lines[2] == #"{"current_steps": 20, "total_steps": 40, "eval_loss": 2.75, "epoch": 1.0, "percentage": 50.0, "elapsed_time": "0:01:40", "remaining_time": "0:01:40"}"#)
    }

    @Test func resumeDropsLaterStepsSoNoneIsDuplicated() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = FakeClock()
        do {
            let log = try TrainerLog(directory: dir.path, totalSteps: 50, now: clock.now)
            for step in stride(from: 10, through: 50, by: 10) {
                clock.seconds += 10
                try log.append(.training(step: step, epoch: Double(step) / 50, loss: 2, gradNorm: nil, learningRate: 1e-4))
            }
        }
        let path = dir.appendingPathComponent(TrainerLog.fileName).path
        #expect(try steps(ofLog: path) == [10, 20, 30, 40, 50])

        // The checkpoint was saved at step 30: the run goes on from there.
        let resumed = try TrainerLog(directory: dir.path, totalSteps: 50, resumedStep: 30, now: clock.now)
        #expect(resumed.keptLines == 3 && resumed.droppedLines == 2)
        #expect(try steps(ofLog: path) == [10, 20, 30])
        clock.seconds += 20
        try resumed.append(.training(step: 40, epoch: 0.8, loss: 2, gradNorm: nil, learningRate: 1e-4))
        resumed.close()
        #expect(try steps(ofLog: path) == [10, 20, 30, 40])
        // Elapsed time continues from step 30's 0:00:30; the pace is this session's 20 s per 10 steps.
        let last = try readLines(path)[3]
        #expect(last.contains(#""elapsed_time": "0:00:50", "remaining_time": "0:00:20""#))
    }

    @Test func aTornLastLineIsDroppedAndAFreshRunStartsEmpty() throws {
        let dir = try Fixtures.temporaryDirectory("lf-trainer-log")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(TrainerLog.fileName).path
        let whole = #"{"current_steps": 10, "total_steps": 20, "loss": 2.0, "elapsed_time": "0:00:05"}"#
        try (whole + "\n" + #"{"current_steps": 20, "tot"#).write(toFile: path, atomically: true, encoding: .utf8)
        let log = try TrainerLog(directory: dir.path, totalSteps: 20, resumedStep: 20)
        log.close()
        #expect(log.keptLines == 1 && log.droppedLines == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == whole + "\n")

        let fresh = try TrainerLog(directory: dir.path, totalSteps: 20)
        fresh.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [TrainerLog.fileName])
    }

    @Test func missingDirectoryIsAnError() {
        let e = expectLFError { _ = try TrainerLog(directory: "/nonexistent-lf-dir/out", totalSteps: 1) }
        #expect(e?.location?.file == "/nonexistent-lf-dir/out/trainer_log.jsonl")
    }
}
