import Foundation

/// Where a raw record came from: the input as named on the command line, the 1-based line where it
/// starts, and its 1-based position among the input's records.
public struct RecordLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var record: Int

    public init(file: String, line: Int, record: Int) {
        self.file = file
        self.line = line
        self.record = record
    }

    public var description: String { "\(file):\(line)" }
}

/// One record as read, before any schema is applied: a JSON value (a CSV row is an object of strings).
public struct RawRecord {
    public var value: JSONValue
    public var location: RecordLocation

    public init(value: JSONValue, location: RecordLocation) {
        self.value = value
        self.location = location
    }
}

/// A record that could not be read (malformed JSON, a CSV row with the wrong number of fields).
/// Readers recover at the next record, so `--skip-invalid` can count it and go on.
public struct MalformedRecord: Error {
    public var location: RecordLocation
    public var message: String
    /// The offending text (truncated), for `--rejects`.
    public var text: String

    public init(location: RecordLocation, message: String, text: String) {
        self.location = location
        self.message = message
        self.text = text
    }
}

public enum SourceItem {
    case record(RawRecord)
    case malformed(MalformedRecord)
}

/// A stream of raw records from one input. `rewind` starts it over (oversampling needs it).
public protocol RecordSource: AnyObject {
    var name: String { get }
    func next() throws -> SourceItem?
    func rewind() throws
}

/// The container an input file uses.
public enum InputFormat: String, CaseIterable, Sendable {
    case auto, jsonl, json, csv, tsv, txt

    /// The format a path's extension names (`.jsonl`, `.json`, `.csv`, `.tsv`, `.txt`), or `.auto`.
    public static func fromExtension(_ path: String) -> InputFormat {
        switch (path as NSString).pathExtension.lowercased() {
        case "jsonl", "ndjson": return .jsonl
        case "json": return .json
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "txt", "text": return .txt
        default: return .auto
        }
    }
}

public enum RecordSources {
    /// Opens `path` (`-` for stdin) as a record source. `.auto` and `.json` look at the first
    /// non-blank byte: `[` is a JSON array, anything else JSON Lines (as Hugging Face's json loader
    /// accepts both under `.json`).
    public static func open(_ path: String, format: InputFormat = .auto, chunkSize: Int = 1 << 20) throws -> RecordSource {
        var format = format
        if format == .auto { format = InputFormat.fromExtension(path) }
        let input = try ByteInput(path: path, chunkSize: chunkSize)
        switch format {
        case .csv: return try DelimitedSource(input: input, delimiter: UInt8(ascii: ","))
        case .tsv: return try DelimitedSource(input: input, delimiter: UInt8(ascii: "\t"))
        case .txt: return TextLineSource(input: input)
        case .jsonl: return JSONLinesSource(input: input)
        case .json, .auto:
            if try input.peekFirstNonBlank() == UInt8(ascii: "[") { return JSONArraySource(input: input) }
            return JSONLinesSource(input: input)
        }
    }

    /// Reads every record of a source (for tests and small files).
    public static func readAll(_ source: RecordSource) throws -> [SourceItem] {
        var items: [SourceItem] = []
        while let item = try source.next() { items.append(item) }
        return items
    }

    static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 2000) -> String {
        let n = min(bytes.count, limit)
        var s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<n]), as: UTF8.self)
        if bytes.count > limit { s += "…" }
        return s
    }
}

/// JSON Lines: one JSON value per line; blank lines are skipped.
public final class JSONLinesSource: RecordSource {
    let input: ByteInput
    private var records = 0
    public var name: String { input.displayName }

    public init(input: ByteInput) { self.input = input }

    public func next() throws -> SourceItem? {
        while let line = try input.nextLine() {
            if isBlank(line) { continue }
            records += 1
            let location = RecordLocation(file: input.displayName, line: input.lineNumber, record: records)
            do {
                return .record(RawRecord(value: try JSONParser.parse(line), location: location))
            } catch let error as JSONParseError {
                return .malformed(MalformedRecord(location: location, message: error.description,
                                                  text: RecordSources.excerpt(line)))
            }
        }
        return nil
    }

    public func rewind() throws {
        try input.rewind()
        records = 0
    }

    private func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes where b != 0x20 && b != 0x09 && b != 0x0D { return false }
        return true
    }
}

/// Plain text: every non-blank line is a record `{"text": line}` (Hugging Face's text loader).
public final class TextLineSource: RecordSource {
    let input: ByteInput
    private var records = 0
    public var name: String { input.displayName }

    public init(input: ByteInput) { self.input = input }

    public func next() throws -> SourceItem? {
        while let line = try input.nextLine() {
            records += 1
            let location = RecordLocation(file: input.displayName, line: input.lineNumber, record: records)
            guard let text = String(validating: line.bindMemory(to: UInt8.self), as: UTF8.self) else {
                return .malformed(MalformedRecord(location: location, message: "invalid UTF-8", text: RecordSources.excerpt(line)))
            }
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { records -= 1; continue }
            return .record(RawRecord(value: .object([("text", .string(text))]), location: location))
        }
        return nil
    }

    public func rewind() throws {
        try input.rewind()
        records = 0
    }
}

/// The files of one dataset_info entry read one after the other.
public final class ConcatenatedSource: RecordSource {
    let parts: [RecordSource]
    private var index = 0
    public var name: String { parts.first?.name ?? "" }

    public init(_ parts: [RecordSource]) { self.parts = parts }

    public func next() throws -> SourceItem? {
        while index < parts.count {
            if let item = try parts[index].next() { return item }
            index += 1
        }
        return nil
    }

    public func rewind() throws {
        for part in parts { try part.rewind() }
        index = 0
    }
}
