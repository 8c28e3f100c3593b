import Foundation

/// The exit statuses every lf tool documents in its `--help`.
public enum ExitStatus: Int32, Sendable {
    /// The work was done.
    case success = 0
    /// The work failed: bad data, I/O, a numeric failure.
    case failure = 1
    /// The command line was wrong: unknown flag, missing argument, conflicting options.
    case usage = 2

    /// The exit-code table shared by every tool's `--help` discussion.
    public static let helpTable = """
        Exit status:
          0  success
          1  the work failed (bad input data, I/O error); the message names the file and line
          2  usage error (unknown option, missing or conflicting arguments)
        """
}

/// Where in the input a problem sits: a file and, when it applies, a 1-based line or record number,
/// or a byte offset for binary formats.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var record: Int?
    public var byteOffset: Int?
    /// A path inside a structured document, e.g. `pre_tokenizer.pretokenizers[1].type` or a tensor name.
    public var field: String?

    public init(file: String, line: Int? = nil, record: Int? = nil, byteOffset: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.record = record
        self.byteOffset = byteOffset
        self.field = field
    }

    /// `file:line`, `file (record 3)`, `file @ byte 512`, with ` [field]` appended — the prefix of a message.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let record { s += " (record \(record))" }
        if let byteOffset { s += " @ byte \(byteOffset)" }
        if let field { s += " [\(field)]" }
        return s
    }
}

/// The one error type that lf's run paths throw. It carries where the problem is, what it is, and
/// what the user can do, and it decides the process exit status (1 for failed work, 2 for usage).
public struct LFError: Error, LocalizedError, CustomStringConvertible, Sendable {
    public var location: SourceLocation?
    public var message: String
    public var hint: String?
    public var status: ExitStatus

    public init(_ message: String, at location: SourceLocation? = nil, hint: String? = nil, status: ExitStatus = .failure) {
        self.message = message
        self.location = location
        self.hint = hint
        self.status = status
    }

    /// A bad-input error in `file`, optionally at a line or record.
    public static func input(_ message: String, file: String, line: Int? = nil, record: Int? = nil, field: String? = nil, hint: String? = nil) -> LFError {
        LFError(message, at: SourceLocation(file: file, line: line, record: record, field: field), hint: hint)
    }

    /// A usage error: exit status 2.
    public static func usage(_ message: String, hint: String? = nil) -> LFError {
        LFError(message, hint: hint, status: .usage)
    }

    /// An operating-system error (open, read, write, rename) on `path`.
    public static func io(_ action: String, path: String, errno code: Int32 = errno, hint: String? = nil) -> LFError {
        LFError("cannot \(action): \(String(cString: strerror(code)))", at: SourceLocation(file: path), hint: hint)
    }

    /// The same error, placed in `file` if it had no location yet (used when a parser that works on
    /// bytes is called on behalf of a named file).
    public func inFile(_ file: String) -> LFError {
        var copy = self
        if copy.location == nil { copy.location = SourceLocation(file: file) }
        return copy
    }

    public var description: String {
        var s = location.map { "\($0): " } ?? ""
        s += message
        if let hint { s += "\nhint: \(hint)" }
        return s
    }

    public var errorDescription: String? { description }
}
