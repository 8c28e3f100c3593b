import Foundation

/// CSV (RFC 4180) or TSV with a header row. Each row becomes an object mapping the header's column
/// names to the cells as strings, so a column mapping (`--columns prompt=question,response=answer`)
/// or the schema detection applies as for JSON.
///
/// Quoted fields may hold the delimiter, doubled quotes (`""`) and line breaks; TSV accepts the same
/// quoting (as pandas does). A row with a different number of cells than the header is malformed.
/// Blank lines are skipped. An empty cell is an empty string.
public final class DelimitedSource: RecordSource {
    let input: ByteInput
    let delimiter: UInt8
    private var header: [String] = []
    private var line = 1
    private var records = 0
    public var name: String { input.displayName }

    public init(input: ByteInput, delimiter: UInt8) throws {
        self.input = input
        self.delimiter = delimiter
        try readHeader()
    }

    public func rewind() throws {
        try input.rewind()
        line = 1
        records = 0
        try readHeader()
    }

    private func readHeader() throws {
        guard let row = try readRow() else {
            throw LFError.input("the file is empty, expected a header row naming the columns", file: input.displayName, line: 1)
        }
        switch row.result {
        case .failure(let problem):
            throw LFError.input("cannot read the header row: \(problem.message)", file: input.displayName, line: row.line)
        case .success(let cells):
            header = cells
        }
        var seen = Set<String>()
        for name in header where !seen.insert(name).inserted {
            throw LFError.input("the header names the column \"\(name)\" twice", file: input.displayName, line: 1)
        }
    }

    public func next() throws -> SourceItem? {
        guard let row = try readRow() else { return nil }
        records += 1
        let location = RecordLocation(file: input.displayName, line: row.line, record: records)
        switch row.result {
        case .failure(let problem):
            return .malformed(MalformedRecord(location: location, message: problem.message, text: row.text))
        case .success(let cells):
            guard cells.count == header.count else {
                return .malformed(MalformedRecord(
                    location: location,
                    message: "the row has \(cells.count) cells, the header has \(header.count) columns",
                    text: row.text))
            }
            return .record(RawRecord(value: .object(zip(header, cells).map { ($0, .string($1)) }), location: location))
        }
    }

    private struct Row {
        var line: Int
        var result: Result<[String], RowError>
        var text: String
    }

    private struct RowError: Error { var message: String }

    /// Reads one row (skipping blank lines); nil at the end of the input.
    private func readRow() throws -> Row? {
        // Skip blank lines.
        while true {
            if input.available == 0, try !input.fill() { return nil }
            let c = input.pointer[0]
            if c == 0x0A { line += 1; input.consume(1); continue }
            if c == 0x0D { input.consume(1); continue }
            break
        }
        let startLine = line
        var cells: [String] = []
        var field: [UInt8] = []
        var quoted = false      // inside a quoted field
        var wasQuoted = false   // the current field was quoted
        var i = 0
        var problem: String?
        while true {
            if i >= input.available {
                if try !input.fill() {
                    // End of input ends the row.
                    if quoted { problem = problem ?? "unterminated quoted field" }
                    break
                }
                continue
            }
            let c = input.pointer[i]
            if quoted {
                if c == UInt8(ascii: "\"") {
                    // A doubled quote is a literal quote; a single one closes the field.
                    if i + 1 >= input.available, try !input.ensure(i + 2) {
                        quoted = false
                        i += 1
                        continue
                    }
                    if input.pointer[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 2
                    } else {
                        quoted = false
                        i += 1
                    }
                    continue
                }
                if c == 0x0A { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            if c == delimiter {
                cells.append(try cell(field, line: startLine, problem: &problem))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
                i += 1
                continue
            }
            if c == 0x0A || c == 0x0D {
                i += 1
                if c == 0x0D, try input.ensure(i + 1), input.pointer[i] == 0x0A { i += 1 }
                line += 1
                break
            }
            if c == UInt8(ascii: "\"") && field.isEmpty && !wasQuoted {
                quoted = true
                wasQuoted = true
                i += 1
                continue
            }
            if wasQuoted {
                problem = problem ?? "text after a closing quote (write a quote inside a quoted field as \"\")"
            }
            field.append(c)
            i += 1
        }
        cells.append(try cell(field, line: startLine, problem: &problem))
        let text = RecordSources.excerpt(UnsafeRawBufferPointer(start: input.pointer, count: min(i, input.available)))
        input.consume(min(i, input.available))
        if let problem { return Row(line: startLine, result: .failure(RowError(message: problem)), text: text) }
        return Row(line: startLine, result: .success(cells), text: text)
    }

    private func cell(_ bytes: [UInt8], line: Int, problem: inout String?) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            problem = problem ?? "invalid UTF-8 in a cell"
            return ""
        }
        return s
    }
}
