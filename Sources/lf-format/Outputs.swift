import Foundation
import Shared

/// Where one stream of lines goes: stdout, or a file written atomically (visible only after
/// `commit`, removed if the run fails or is interrupted).
final class LineSink {
    let path: String?
    private let file: AtomicFile?
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        if let path, path != "-" {
            self.path = path
            file = try AtomicFile(path: path)
        } else {
            self.path = nil
            file = nil
            buffer.reserveCapacity(1 << 17)
        }
    }

    var isStandardOutput: Bool { file == nil }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let file {
            try file.write(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try StandardOutput.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    func commit() throws {
        if let file { try file.commit() } else { try flush() }
    }
}

/// The destinations of a run: one per split that receives records, and the rejects file.
struct OutputPlan {
    var splits: [SplitName: String?]  // nil path = stdout
    var rejects: String?

    /// Resolves `-o DIR` / `--train/--eval/--test` / stdout for the active splits; usage errors
    /// explain what to write instead.
    static func make(active: [SplitName], directory: String?, explicit: [SplitName: String], rejects: String?) throws -> OutputPlan {
        var splits: [SplitName: String?] = [:]
        if let directory {
            for split in active {
                splits[split] = (directory as NSString).appendingPathComponent("\(split.rawValue).jsonl")
            }
        } else if !explicit.isEmpty {
            for (split, path) in explicit where !active.contains(split) {
                throw LFError.usage("--\(split.rawValue) \(path) was given but --split gives the \(split.rawValue) split no records",
                                    hint: "add a ratio for it, e.g. --split 0.9,0.05,0.05")
            }
            for split in active {
                guard let path = explicit[split] else {
                    throw LFError.usage("the \(split.rawValue) split has no destination",
                                        hint: "add --\(split.rawValue) FILE, or use -o DIR to write DIR/train.jsonl, DIR/eval.jsonl, DIR/test.jsonl")
                }
                splits[split] = path == "-" ? String?.none : path
            }
        } else {
            guard active == [.train] else {
                throw LFError.usage("a split writes several files, so it needs -o DIR (or --train/--eval/--test FILE)",
                                    hint: "for example: lf-format data.json --split 0.9,0.1 -o out/")
            }
            splits[.train] = String?.none
        }
        let stdoutCount = splits.values.filter { $0 == nil }.count
        if stdoutCount > 1 { throw LFError.usage("only one split can go to stdout (-)") }
        let paths = splits.values.compactMap { $0 } + (rejects.map { [$0] } ?? [])
        if Set(paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }).count != paths.count {
            throw LFError.usage("two outputs name the same file")
        }
        return OutputPlan(splits: splits, rejects: rejects)
    }

    var writesStandardOutput: Bool { splits.values.contains { $0 == nil } || rejects == "-" }
}
