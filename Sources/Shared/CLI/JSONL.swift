import Foundation

/// Streaming JSON Lines: one JSON value per line, read from a file or stdin (`-`).
///
/// Blank (whitespace-only) lines are skipped; they are not records. A malformed line is an error
/// naming the file, the line and, where the parser says, the column.
public final class JSONLReader {
    private let lines: LineReader
    public var displayName: String { lines.displayName }

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        lines = try LineReader(path: path, chunkSize: chunkSize)
    }

    public init(lines: LineReader) {
        self.lines = lines
    }

    /// Calls `body` with each record's line number and parsed JSON value (`[String: Any]`, `[Any]`,
    /// `String`, `NSNumber`, `NSNull`, as JSONSerialization returns them).
    public func forEachValue(_ body: (_ line: Int, _ value: Any) throws -> Void) throws {
        try lines.forEachLine { line, bytes in
            guard !Self.isBlank(bytes) else { return }
            let data = Data(bytes)
            let value: Any
            do {
                value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            } catch {
                throw Self.malformed(error, data: data, file: lines.displayName, line: line)
            }
            try body(line, value)
        }
    }

    /// Calls `body` with each record, which must be a JSON object.
    public func forEachObject(_ body: (_ line: Int, _ object: [String: Any]) throws -> Void) throws {
        try forEachValue { line, value in
            guard let object = value as? [String: Any] else {
                throw LFError.input("expected a JSON object on each line, found \(JSONLReader.kind(of: value))",
                                    file: lines.displayName, line: line)
            }
            try body(line, object)
        }
    }

    /// Decodes each record as `T`; a record that does not fit names the line and the field.
    public func forEach<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder(), _ body: (_ line: Int, _ record: T) throws -> Void) throws {
        try lines.forEachLine { line, bytes in
            guard !Self.isBlank(bytes) else { return }
            let data = Data(bytes)
            let record: T
            do {
                record = try decoder.decode(T.self, from: data)
            } catch let error as DecodingError {
                if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                    throw Self.malformed(error, data: data, file: lines.displayName, line: line)
                }
                throw LFError.input(JSONLReader.describe(error), file: lines.displayName, line: line,
                                    field: JSONLReader.path(of: error))
            }
            try body(line, record)
        }
    }

    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b != 0x20 && b != 0x09 && b != 0x0D { return false }
        return true
    }

    /// "malformed JSON at column 9: Invalid value" from Foundation's "Invalid value around character 8."
    static func malformed(_ error: Error, data: Data, file: String, line: Int) -> LFError {
        let nsError = error as NSError
        var detail = (nsError.userInfo[NSDebugDescriptionErrorKey] as? String)
            ?? (nsError.userInfo[NSUnderlyingErrorKey] as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            ?? ""
        if case DecodingError.dataCorrupted(let context) = error {
            detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String ?? context.debugDescription
        }
        var message = "malformed JSON"
        if let range = detail.range(of: #"around (line \d+, )?(column|character) (\d+)"#, options: .regularExpression) {
            let digits = detail[range].split(separator: " ").last.flatMap { Int($0) }
            if let offset = digits {
                // Foundation counts characters from 0 (or columns from 1 in the newer parser);
                // editors count columns from 1.
                let column = detail[range].contains("character") ? offset + 1 : offset
                message += " at column \(column)"
            }
            detail.removeSubrange(range)
        }
        detail = detail.trimmingCharacters(in: CharacterSet(charactersIn: " ."))
        if !detail.isEmpty { message += ": " + detail }
        if data.count > 0, data.count < 200 {
            message += "\n  " + String(decoding: data, as: UTF8.self)
        }
        return LFError.input(message, file: file, line: line, hint: "each line must hold one complete JSON value")
    }

    static func kind(of value: Any) -> String {
        switch value {
        case is [String: Any]: return "an object"
        case is [Any]: return "an array"
        case is String: return "a string"
        case is NSNull: return "null"
        case is NSNumber: return "a number"
        default: return "\(type(of: value))"
        }
    }

    static func path(of error: DecodingError) -> String? {
        let path: [CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
        case .keyNotFound(let key, let c): path = c.codingPath + [key]
        @unknown default: return nil
        }
        guard !path.isEmpty else { return nil }
        return path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let c): return "wrong type: expected \(type) (\(c.debugDescription))"
        case .valueNotFound(let type, _): return "missing value: expected \(type), found null"
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "\(error)"
        }
    }
}

/// Writes JSON Lines to stdout (path nil or `-`) or atomically to a file (visible only after `finish()`).
public final class JSONLWriter {
    private let file: AtomicFile?
    private var buffer: [UInt8] = []
    private let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
    public private(set) var count = 0

    public init(path: String?) throws {
        file = (path == nil || path == "-") ? nil : try AtomicFile(path: path!)
        buffer.reserveCapacity(1 << 16)
    }

    /// Writes one JSON value (dictionary, array, string, number) as a line. Keys are sorted, so the
    /// same record always gives the same bytes.
    public func write(_ value: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: value, options: options.union(.fragmentsAllowed))
        try append(data)
    }

    /// Writes one Encodable record as a line.
    public func write<T: Encodable>(encodable value: T, encoder: JSONEncoder = JSONLWriter.encoder) throws {
        try append(try encoder.encode(value))
    }

    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    private func append(_ data: Data) throws {
        buffer.append(contentsOf: data)
        buffer.append(0x0A)
        count += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        if let file {
            try buffer.withUnsafeBytes { try file.write($0) }
        } else {
            try buffer.withUnsafeBytes { try StandardOutput.write($0) }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and, for a file, moves it into place.
    public func finish() throws {
        try flush()
        try file?.commit()
    }
}

/// Direct writes to stdout, bypassing stdio's buffer (flushed first, so earlier `print`s stay in order).
public enum StandardOutput {
    public static func write(_ bytes: UnsafeRawBufferPointer) throws {
        fflush(stdout)
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw LFError.io("write", path: "<stdout>")
            }
            offset += n
        }
    }

    public static func write(_ string: String) throws {
        var string = string
        try string.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}
