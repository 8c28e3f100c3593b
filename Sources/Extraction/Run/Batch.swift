import Dispatch
import Foundation
import Shared

/// What a batch run produced, for the summary and the exit status.
public struct BatchSummary: Sendable {
    public struct Failure: Sendable {
        public var source: String
        public var kind: String
        public var message: String
        public var pages: [Int]
        public var hint: String?

        public init(source: String, kind: String, message: String, pages: [Int], hint: String? = nil) {
            self.source = source
            self.kind = kind
            self.message = message
            self.pages = pages
            self.hint = hint
        }
    }
    public var files = 0
    public var extracted = 0
    public var records = 0
    public var characters = 0
    public var pages = 0
    public var duplicates: [(source: String, sameAs: String)] = []
    public var failures: [Failure] = []
    /// Inputs that held no text at all (an empty file, a PDF of blank pages): no record, no failure.
    public var empty: [(source: String, message: String)] = []
    public var warnings: [(source: String, message: String)] = []
    /// Every input with pages that have no text layer, failed (all pages) or extracted (some).
    public var needsOCR: [(source: String, pages: [Int])] = []
    public var byFormat: [String: Int] = [:]
    public var seconds = 0.0

    /// The `--json` summary.
    public var json: JSONValue {
        var entries: [(String, JSONValue)] = [
            ("files", .int(files)),
            ("extracted", .int(extracted)),
            ("failed", .int(failures.count)),
            ("duplicates", .int(duplicates.count)),
            ("empty", .int(empty.count)),
            ("records", .int(records)),
            ("characters", .int(characters)),
            ("pdf_pages", .int(pages)),
            ("seconds", .double((seconds * 1000).rounded() / 1000)),
            ("formats", .object(byFormat.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        entries.append(("errors", .array(failures.map { f in
            var e: [(String, JSONValue)] = [("source", .string(f.source)), ("kind", .string(f.kind)), ("message", .string(f.message))]
            if !f.pages.isEmpty { e.append(("pages", .array(f.pages.map { .int($0) }))) }
            if let hint = f.hint { e.append(("hint", .string(hint))) }
            return .object(e)
        })))
        entries.append(("warnings", .array(warnings.map { .object([("source", .string($0.source)), ("message", .string($0.message))]) })))
        entries.append(("needs_ocr", .array(needsOCR.map { .object([("source", .string($0.source)), ("pages", .array($0.pages.map { .int($0) }))]) })))
        entries.append(("empty_files", .array(empty.map { .object([("source", .string($0.source)), ("message", .string($0.message))]) })))
        entries.append(("duplicate_files", .array(duplicates.map { .object([("source", .string($0.source)), ("same_as", .string($0.sameAs))]) })))
        return .object(entries)
    }
}

/// Runs extraction over many inputs on `jobs` threads and writes the records in input order.
///
/// Output order never depends on timing: the records of input i are written before those of
/// input i+1. The input at the head of the order writes straight through; inputs finished early
/// wait in memory until their turn. A file whose bytes equal an earlier input's (same sha256) is
/// reported as a duplicate and gives no records, so ids stay unique in the output.
public final class Batch {
    public typealias Writer = (String) throws -> Void

    private let inputs: [InputFile]
    private let options: ExtractionOptions
    private let forcedFormat: DocumentFormat?
    private let chunking: Chunking?
    private let stdin: [UInt8]?
    private let write: Writer
    private let lock = NSLock()

    // Per input, guarded by `lock`.
    private var hashes: [String?]
    private var decided: [Bool]
    private var isDuplicate: [Bool]
    private var buffers: [[String]]
    private var finished: [Bool]
    private var outcomes: [Outcome?]
    private var head = 0
    private var firstSource: [String: String] = [:]
    private var writeError: Error?
    private var summary = BatchSummary()
    private let progress: ProgressReporter?
    /// When set, files (not stdin) are read in child processes.
    public var isolation: IsolatedRunner?

    private struct Outcome {
        var format: DocumentFormat?
        var needsOCR: [Int] = []
        var records = 0
        var characters = 0
        var pages = 0
        var warnings: [String] = []
        var failure: ExtractionError?
    }

    public init(inputs: [InputFile], options: ExtractionOptions, forcedFormat: DocumentFormat?, chunking: Chunking?,
                stdin: [UInt8]?, progress: ProgressReporter?, write: @escaping Writer) {
        self.inputs = inputs
        self.options = options
        self.forcedFormat = forcedFormat
        self.chunking = chunking
        self.stdin = stdin
        self.progress = progress
        self.write = write
        let n = inputs.count
        hashes = Array(repeating: nil, count: n)
        decided = Array(repeating: false, count: n)
        isDuplicate = Array(repeating: false, count: n)
        buffers = Array(repeating: [], count: n)
        finished = Array(repeating: false, count: n)
        outcomes = Array(repeating: nil, count: n)
    }

    /// Runs every input and returns the summary. Problems with single inputs are in the summary
    /// (and were reported on stderr in input order); only a failed write throws.
    public func run(jobs: Int) throws -> BatchSummary {
        let start = Date()
        summary.files = inputs.count
        let next = Counter()
        let workers = max(1, min(jobs, inputs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.take(below: inputs.count) {
                process(i)
            }
        }
        progress?.finish()
        summary.seconds = Date().timeIntervalSince(start)
        if let writeError { throw writeError }
        return summary
    }

    private func process(_ i: Int) {
        let input = inputs[i]
        var outcome = Outcome()
        if let isolation, input.path != "-" {
            let r = isolation.run(path: input.path)
            if let sha = r.sha256 { begin(i, hash: sha) }
            for line in r.lines { emit(i, line) }
            outcome.format = r.format
            outcome.records = r.lines.count
            outcome.characters = r.characters
            outcome.pages = r.pages
            outcome.warnings = r.warnings
            outcome.needsOCR = r.needsOCR
            outcome.failure = r.failure
            complete(i, outcome)
            return
        }
        do {
            let result = try Extractor.extract(input, stdin: input.path == "-" ? stdin : nil, forcedFormat: forcedFormat,
                                               options: options)
            begin(i, hash: result.sha256)
            outcome.format = result.format
            outcome.warnings = result.document.warnings
            outcome.pages = result.document.pageCount ?? 0
            for (key, value) in result.document.meta where key == "needs_ocr_pages" {
                if case .array(let pages) = value {
                    outcome.needsOCR = pages.compactMap { if case .int(let p) = $0 { return p } else { return nil } }
                }
            }
            let records = DocumentRecord.records(for: result.document, sha256: result.sha256, source: input.path,
                                                 perPage: options.perPage, chunking: chunking)
            for record in records {
                emit(i, record.jsonLine())
                outcome.characters += record.text.unicodeScalars.count
            }
            outcome.records = records.count
        } catch let error as ExtractionError {
            outcome.failure = error
        } catch {
            outcome.failure = ExtractionError(.io, "\(error)")
        }
        complete(i, outcome)
    }

    /// The input's hash is known: if it is at the head, decide now whether it is a duplicate.
    private func begin(_ i: Int, hash: String) {
        lock.withLock {
            hashes[i] = hash
            if i == head { decideHead() }
        }
    }

    private func emit(_ i: Int, _ line: String) {
        lock.withLock {
            if i == head && decided[i] {
                if !isDuplicate[i] { output(line) }
            } else {
                buffers[i].append(line)
            }
        }
    }

    private func complete(_ i: Int, _ outcome: Outcome) {
        lock.withLock {
            finished[i] = true
            outcomes[i] = outcome
            while head < inputs.count {
                decideHead()
                guard finished[head] else { break }
                report(head)
                head += 1
            }
        }
        progress?.advance()
    }

    /// Called with the lock held: once the head's hash is known, writes what it buffered (unless it
    /// is a duplicate of an earlier input).
    private func decideHead() {
        guard head < inputs.count, !decided[head], let hash = hashes[head] else { return }
        decided[head] = true
        if let first = firstSource[hash] {
            isDuplicate[head] = true
            summary.duplicates.append((inputs[head].path, first))
        } else {
            firstSource[hash] = inputs[head].path
            for line in buffers[head] { output(line) }
        }
        buffers[head] = []
    }

    /// Called with the lock held, in input order: stderr lines and the summary for input `i`.
    private func report(_ i: Int) {
        guard let outcome = outcomes[i] else { return }
        let source = inputs[i].path == "-" ? "<stdin>" : inputs[i].path
        if let failure = outcome.failure, failure.kind == .empty {
            // A document with no text is not a failure; it gives no record and is reported.
            summary.empty.append((inputs[i].path, failure.message))
            Log.warning("\(source): \(failure.message); no record written")
            return
        }
        if let failure = outcome.failure, failure.kind == .needsOCR {
            summary.needsOCR.append((inputs[i].path, failure.pages))
        }
        if let failure = outcome.failure {
            summary.failures.append(.init(source: inputs[i].path, kind: failure.kind.rawValue, message: failure.message,
                                          pages: failure.pages, hint: failure.hint))
            Log.error("lf-extract: \(source): \(failure.description)")
            return
        }
        if isDuplicate[i] {
            Log.warning("\(source): same content as \(summary.duplicates.last?.sameAs ?? "an earlier file"); skipped (its records would repeat the same id)")
            return
        }
        if !outcome.needsOCR.isEmpty { summary.needsOCR.append((inputs[i].path, outcome.needsOCR)) }
        for warning in outcome.warnings {
            summary.warnings.append((inputs[i].path, warning))
            Log.warning("\(source): \(warning)")
        }
        summary.extracted += 1
        summary.records += outcome.records
        summary.characters += outcome.characters
        summary.pages += outcome.pages
        if let format = outcome.format { summary.byFormat[format.rawValue, default: 0] += 1 }
        Log.debug("\(source): \(outcome.format?.rawValue ?? "?"), \(outcome.records) record\(outcome.records == 1 ? "" : "s"), \(outcome.characters) characters")
    }

    /// Called with the lock held.
    private func output(_ line: String) {
        guard writeError == nil else { return }
        do { try write(line + "\n") } catch { writeError = error }
    }
}

/// A shared work counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
