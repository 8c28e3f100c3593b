import Foundation

/// A record that cannot be used, with where it is and why.
public struct InvalidRecord: Error, Sendable, Equatable {
    /// A short key for counts: missing_field, wrong_type, unknown_role, invalid_record, or a
    /// `ConversationError.reason`.
    public var reason: String
    public var message: String
    public var field: String?
    public var hint: String?

    /// A problem with the setup rather than the record (never skipped).
    public var isFatal: Bool { reason == "fatal" }

    public func error(file: String, line: Int) -> LFError {
        LFError.input(message, file: file, line: line, field: field, hint: hint)
    }
}

/// Reads canonical dataset JSONL (DESIGN.md's dataset records) line by line from a file or stdin (`-`).
///
/// A line that is not JSON at all is a fatal error (the file is damaged); a line that is JSON but not
/// a usable record is reported to the caller as an `InvalidRecord` (lf-tokenize pack stops on it, or
/// counts and skips it with `--skip-invalid`). Blank lines are not records.
public struct DatasetReader {
    public let path: String

    public init(path: String) { self.path = path }

    /// Calls `body` with each record's display file name, line number and record (or why not).
    public func forEachRecord(_ body: (_ file: String, _ line: Int, _ record: Result<DatasetRecord, InvalidRecord>) throws -> Void) throws {
        let lines = try LineReader(path: path)
        let decoder = JSONDecoder()
        try lines.forEachLine { line, bytes in
            guard !JSONLReader.isBlank(bytes) else { return }
            let data = Data(bytes)
            let result: Result<DatasetRecord, InvalidRecord>
            do {
                result = .success(try decoder.decode(DatasetRecord.self, from: data))
            } catch let error as DecodingError {
                if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                    throw JSONLReader.malformed(error, data: data, file: lines.displayName, line: line)
                }
                result = .failure(Self.invalid(error))
            }
            try body(lines.displayName, line, result)
        }
    }

    static func invalid(_ error: DecodingError) -> InvalidRecord {
        let field = JSONLReader.path(of: error)
        let hint = "records are {\"messages\": [{\"role\": \"system\"|\"user\"|\"assistant\", \"content\": \"…\"}, …]} or {\"text\": \"…\"} (lf-format writes them)"
        switch error {
        case .keyNotFound:
            return InvalidRecord(reason: "missing_field", message: JSONLReader.describe(error), field: field, hint: hint)
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return InvalidRecord(reason: "invalid_record", message: "expected a JSON object", field: nil, hint: hint)
        case .typeMismatch, .valueNotFound:
            return InvalidRecord(reason: "wrong_type", message: JSONLReader.describe(error), field: field, hint: hint)
        case .dataCorrupted(let context):
            if let last = context.codingPath.last, last.stringValue == "role" {
                return InvalidRecord(reason: "unknown_role", message: "unknown role: lf-tokenize takes \"system\", \"user\" and \"assistant\"",
                                     field: field, hint: "convert other roles (tool, function, …) with lf-format first")
            }
            return InvalidRecord(reason: "invalid_record", message: context.debugDescription, field: field, hint: hint)
        @unknown default:
            return InvalidRecord(reason: "invalid_record", message: "\(error)", field: field, hint: hint)
        }
    }
}
