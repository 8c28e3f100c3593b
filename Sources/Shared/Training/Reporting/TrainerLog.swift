import Foundation

/// trainer_log.jsonl, the line-per-log file LLaMA-Factory's LogCallback writes and LLaMA-Board
/// plots: one JSON object per training or evaluation log, with LLaMA-Factory's keys in its order —
/// `current_steps`, `total_steps`, `loss` or `eval_loss`, `lr`, `epoch`, `percentage`,
/// `elapsed_time`, `remaining_time`, then `throughput` (tokens per second) and `total_tokens`
/// when the tokens seen are known — formatted as Python's `json.dumps` does.
///
/// The file grows during training, so it is appended to rather than rewritten: each line goes out
/// in one `write` on an `O_APPEND` descriptor, so a reader never sees half a line short of a crash
/// in the middle of that call, and a torn last line left by one is dropped when the log is opened
/// again. Opening rewrites the file (atomically, as every lf output) only to drop lines: those
/// after the step training resumes from, so that no step appears twice, and, on a fresh run, all
/// of them.
///
/// Times differ from LLaMA-Factory's in one way: after a resume LLaMA-Factory restarts
/// `elapsed_time` at zero and divides it by every step done, so its estimates go wrong; here
/// `elapsed_time` continues from the last kept line, and `remaining_time` and `throughput` use
/// this session's pace.
public final class TrainerLog {
    public static let fileName = "trainer_log.jsonl"

    public let path: String
    public let totalSteps: Int
    /// Lines kept from a previous run (at or before the resumed step) and lines dropped.
    public private(set) var keptLines = 0
    public private(set) var droppedLines = 0

    private let resumedStep: Int
    private let tokensAtStart: Int
    private let elapsedBefore: Double
    private let startTime: Double
    private let now: () -> Double
    private var fd: Int32 = -1

    /// Opens `directory/trainer_log.jsonl` for a run of `totalSteps` steps that starts after
    /// `resumedStep` (0 for a fresh run) with `tokensAtStart` tokens already seen. `now` gives
    /// seconds on a monotonic clock (replaceable in tests).
    public init(directory: String, totalSteps: Int, resumedStep: Int = 0, tokensAtStart: Int = 0,
                now: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime }) throws {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        self.totalSteps = totalSteps
        self.resumedStep = resumedStep
        self.tokensAtStart = tokensAtStart
        self.now = now
        let previous = try Self.keep(path: path, upTo: resumedStep)
        keptLines = previous.kept
        droppedLines = previous.dropped
        elapsedBefore = previous.elapsed
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw LFError.io("open for appending", path: path, hint: "check that the output directory exists and is writable")
        }
        startTime = now()
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { Foundation.close(fd) }
        fd = -1
    }

    /// Appends the line for a `log_history` entry (a training or evaluation log).
    public func append(_ entry: LogEntry) throws {
        let session = now() - startTime
        let stepsThisSession = entry.step - resumedStep
        let remaining = stepsThisSession > 0 ? Double(totalSteps - entry.step) * session / Double(stepsThisSession) : 0
        var throughput: Double?
        if let tokens = entry.tokensSeen, session > 0 {
            throughput = PythonFormat.round(Double(tokens - tokensAtStart) / session, 2)
        }
        var text = Self.line(for: entry, totalSteps: totalSteps, elapsed: elapsedBefore + session,
                             remaining: remaining, throughput: throughput)
        text += "\n"
        guard fd >= 0 else { throw LFError("the trainer log is closed", at: SourceLocation(file: path)) }
        let written = text.withCString { write(fd, $0, strlen($0)) }
        if written != text.utf8.count {
            throw LFError.io("append to", path: path, hint: "is the disk full?")
        }
    }

    /// One line of the log, without its newline.
    public static func line(for entry: LogEntry, totalSteps: Int, elapsed: Double, remaining: Double, throughput: Double?) -> String {
        var fields: [(String, JSONValue)] = [
            ("current_steps", .int(entry.step)),
            ("total_steps", .int(totalSteps)),
        ]
        if let loss = entry.values["loss"] { fields.append(("loss", loss)) }
        if let evalLoss = entry.values["eval_loss"] { fields.append(("eval_loss", evalLoss)) }
        if let lr = entry.values["learning_rate"] { fields.append(("lr", lr)) }
        if let epoch = entry.values["epoch"] { fields.append(("epoch", epoch)) }
        // LLaMA-Factory: round(cur / max * 100, 2), or the integer 100 when there is no total.
        fields.append(("percentage", totalSteps > 0
                       ? .double(PythonFormat.round(Double(entry.step) / Double(totalSteps) * 100, 2)) : .int(100)))
        fields.append(("elapsed_time", .string(PythonFormat.timedelta(elapsed))))
        fields.append(("remaining_time", .string(PythonFormat.timedelta(remaining))))
        if let tokens = entry.tokensSeen {
            if let throughput { fields.append(("throughput", .double(throughput))) }
            fields.append(("total_tokens", .int(tokens)))
        }
        return PythonFormat.jsonLine(fields)
    }

    /// Keeps the lines of an existing log whose `current_steps` is at most `step`, rewriting the
    /// file atomically if any must go; returns the counts and the last kept line's elapsed time.
    static func keep(path: String, upTo step: Int) throws -> (kept: Int, dropped: Int, elapsed: Double) {
        guard let data = FileManager.default.contents(atPath: path) else { return (0, 0, 0) }
        var kept: [Substring] = []
        var dropped = 0
        var elapsed = 0.0
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() {
            if line.isEmpty { continue }
            // A last line without its newline was cut short by a crash mid-write.
            let complete = i < lines.count - 1
            guard complete,
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let current = (object["current_steps"] as? NSNumber)?.intValue,
                  current <= step else {
                dropped += 1
                continue
            }
            kept.append(line)
            if let time = object["elapsed_time"] as? String, let seconds = PythonFormat.seconds(fromTimedelta: time) {
                elapsed = seconds
            }
        }
        if dropped > 0 {
            let rest = kept.map { $0 + "\n" }.joined()
            try AtomicFile.write(Data(rest.utf8), to: path)
        }
        return (kept.count, dropped, elapsed)
    }
}
