import Foundation

/// A file holding one JSON array of records (`[{…}, {…}]`, as LLaMA-Factory's demo files are),
/// read one element at a time: the scanner finds where each element ends (tracking strings and
/// nesting) and only that element is parsed, so memory stays at one record however large the file.
///
/// A malformed element is reported with the line where it starts and the reader goes on to the next
/// one; a broken array structure (no `[`, an unterminated array, text after `]`) ends the reading.
public final class JSONArraySource: RecordSource {
    let input: ByteInput
    private var line = 1
    private var records = 0
    private var opened = false
    private var finished = false
    public var name: String { input.displayName }

    public init(input: ByteInput) { self.input = input }

    public func rewind() throws {
        try input.rewind()
        line = 1; records = 0; opened = false; finished = false
    }

    public func next() throws -> SourceItem? {
        if finished { return nil }
        if !opened {
            guard let c = try skipBlank() else {
                throw structureError("the file is empty, expected a JSON array")
            }
            guard c == UInt8(ascii: "[") else {
                throw structureError("expected '[' to open a JSON array, found '\(Character(Unicode.Scalar(c)))'")
            }
            input.consume(1)
            opened = true
            if try skipBlank() == UInt8(ascii: "]") {
                input.consume(1)
                return try close()
            }
        } else {
            guard let c = try skipBlank() else { throw structureError("unterminated JSON array (no closing ']')") }
            if c == UInt8(ascii: "]") {
                input.consume(1)
                return try close()
            }
            guard c == UInt8(ascii: ",") else {
                throw structureError("expected ',' or ']' between array elements, found '\(Character(Unicode.Scalar(c)))'")
            }
            input.consume(1)
            guard let d = try skipBlank() else { throw structureError("unterminated JSON array (no closing ']')") }
            if d == UInt8(ascii: "]") { throw structureError("trailing comma before ']'") }
        }
        let startLine = line
        let length = try scanElement()
        records += 1
        let location = RecordLocation(file: input.displayName, line: startLine, record: records)
        let bytes = UnsafeRawBufferPointer(start: input.pointer, count: length)
        let item: SourceItem
        do {
            item = .record(RawRecord(value: try JSONParser.parse(bytes), location: location))
        } catch let error as JSONParseError {
            item = .malformed(MalformedRecord(location: location, message: error.description, text: RecordSources.excerpt(bytes)))
        }
        input.consume(length)
        return item
    }

    private func close() throws -> SourceItem? {
        finished = true
        if let c = try skipBlank() {
            throw structureError("unexpected text after the closing ']' ('\(Character(Unicode.Scalar(c)))')")
        }
        return nil
    }

    /// Skips whitespace (counting lines) and returns the next byte without consuming it.
    private func skipBlank() throws -> UInt8? {
        while true {
            if input.available == 0 {
                if try !input.fill() { return nil }
                continue
            }
            let c = input.pointer[0]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return c }
            if c == 0x0A { line += 1 }
            input.consume(1)
        }
    }

    /// The length of the element starting at the input's position (not consumed). Lines inside it
    /// are counted.
    private func scanElement() throws -> Int {
        var i = 0
        var depth = 0
        var inString = false
        var escaped = false
        while true {
            if i >= input.available {
                if try !input.fill() {
                    throw structureError("unterminated JSON array: the last element is cut off")
                }
                continue
            }
            let p = input.pointer
            let n = input.available
            while i < n {
                let c = p[i]
                if c == 0x0A { line += 1 }
                if inString {
                    if escaped {
                        escaped = false
                    } else if c == UInt8(ascii: "\\") {
                        escaped = true
                    } else if c == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { return i + 1 }
                    }
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        if depth == 0 { return i }  // a scalar element ended by the array's ']'
                        depth -= 1
                        if depth == 0 { return i + 1 }
                    case UInt8(ascii: ","), 0x20, 0x0A, 0x0D, 0x09:
                        if depth == 0 {
                            if c == 0x0A { line -= 1 }  // counted again by skipBlank
                            return i
                        }
                    default: break
                    }
                }
                i += 1
            }
        }
    }

    private func structureError(_ message: String) -> LFError {
        LFError.input(message, file: input.displayName, line: line,
                      hint: "a .json dataset must be one JSON array of records (or use .jsonl, one record per line)")
    }
}
