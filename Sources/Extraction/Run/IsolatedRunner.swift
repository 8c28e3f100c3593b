import Dispatch
import Foundation
import Shared

/// Extracts one file in a child process (lf-extract itself, with `--json --quiet --keep-going`), so
/// that a crash in a parser — poppler, libxml2, libzip are C and C++ — or a hang past `timeout`
/// fails that file only. The child writes the records on stdout and its summary as the last line
/// of stderr; both are read back into the same outcome an in-process extraction gives.
public struct IsolatedRunner: Sendable {
    /// The program to run (normally this executable).
    public var executable: String
    /// Options for the child, ahead of `--json --quiet --keep-going --jobs 1 -- <path>`.
    public var arguments: [String]
    /// Seconds before the child is killed; nil waits for ever.
    public var timeout: Double?

    public init(executable: String, arguments: [String], timeout: Double?) {
        self.executable = executable
        self.arguments = arguments
        self.timeout = timeout
    }

    /// What the child gave for one file.
    public struct Result: Sendable {
        public var sha256: String?
        public var format: DocumentFormat?
        public var lines: [String] = []
        public var characters = 0
        public var pages = 0
        public var warnings: [String] = []
        public var needsOCR: [Int] = []
        public var failure: ExtractionError?
    }

    /// Runs the child on `path`. Never throws: every way the child can fail is a failure of the file.
    public func run(path: String, extraArguments: [String] = ["--json", "--quiet", "--keep-going", "--jobs", "1"]) -> Result {
        var result = Result()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + extraArguments + ["--", path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            result.failure = ExtractionError(.io, "cannot start a child process for it: \(error.localizedDescription)")
            return result
        }
        final class Box: @unchecked Sendable {
            var data = Data()
            private let lock = NSLock()
            private var _timedOut = false
            var timedOut: Bool {
                get { lock.withLock { _timedOut } }
                set { lock.withLock { _timedOut = newValue } }
            }
        }
        let stdout = Box(), stderr = Box(), state = Box()
        let group = DispatchGroup()
        // Queues of their own (which dispatch gives threads beyond the cores'): the readers block
        // for the child's whole life, and on the shared global queue, with other children's
        // readers blocked too, the killer below waited its turn — a 0.5 s timeout fired after 25 s
        // under a loaded test run.
        DispatchQueue(label: "lf.isolated.stdout").async(group: group) { stdout.data = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue(label: "lf.isolated.stderr").async(group: group) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
        let pid = process.processIdentifier
        var killer: DispatchWorkItem?
        if let timeout {
            let item = DispatchWorkItem {
                state.timedOut = true
                kill(pid, SIGKILL)
            }
            killer = item
            DispatchQueue(label: "lf.isolated.timeout").asyncAfter(deadline: .now() + timeout, execute: item)
        }
        process.waitUntilExit()
        killer?.cancel()
        if state.timedOut {
            // A grandchild may still hold the pipes open: do not wait for it for long.
            _ = group.wait(timeout: .now() + 2)
        } else {
            group.wait()
        }

        if state.timedOut {
            result.failure = ExtractionError(.timeout, "gave up after \(Self.seconds(timeout ?? 0)) (the reader did not finish)",
                                             hint: "raise --timeout if the file is just large")
            return result
        }
        if process.terminationReason == .uncaughtSignal {
            let signal = process.terminationStatus
            result.failure = ExtractionError(.crashed, "the reader crashed on this file (signal \(signal)); no record",
                                             hint: "the file is probably malformed; the other files were not affected")
            return result
        }
        let errText = String(decoding: stderr.data, as: UTF8.self)
        guard process.terminationStatus == 0,
              let last = errText.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let summary = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            let detail = errText.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"
            result.failure = ExtractionError(.io, "the child process failed: \(detail)")
            return result
        }
        result.lines = String(decoding: stdout.data, as: UTF8.self).split(separator: "\n").map(String.init)
        if let first = result.lines.first, let data = first.data(using: .utf8),
           let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let id = record["id"] as? String {
            result.sha256 = String(id.prefix { $0 != ":" })
        }
        result.characters = summary["characters"] as? Int ?? 0
        result.pages = summary["pdf_pages"] as? Int ?? 0
        result.format = (summary["formats"] as? [String: Any])?.keys.first.flatMap(DocumentFormat.init(rawValue:))
        result.warnings = (summary["warnings"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        result.needsOCR = (summary["needs_ocr"] as? [[String: Any]])?.first?["pages"] as? [Int] ?? []
        if let error = (summary["errors"] as? [[String: Any]])?.first {
            let kind = (error["kind"] as? String).flatMap(ExtractionError.Kind.init(rawValue:)) ?? .io
            result.failure = ExtractionError(kind, error["message"] as? String ?? "failed", hint: error["hint"] as? String,
                                             pages: error["pages"] as? [Int] ?? [])
        } else if let empty = (summary["empty_files"] as? [[String: Any]])?.first {
            result.failure = ExtractionError(.empty, empty["message"] as? String ?? "no text")
        }
        return result
    }

    static func seconds(_ t: Double) -> String {
        t == t.rounded() ? "\(Int(t)) s" : String(format: "%.1f s", t)
    }
}
