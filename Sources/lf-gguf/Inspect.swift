import ArgumentParser
import Foundation
import Shared

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a GGUF file's metadata and tensor table.",
        discussion: """
            The file is checked as it is read (header, every key, every tensor's
            shape, type and data range); a damaged file is reported with the byte
            offset of the problem, and the exit status is 1.

            Examples:
              lf-gguf inspect model.gguf          summary, metadata, tensor table
              lf-gguf inspect --full model.gguf   every array element, whole strings
              lf-gguf inspect --json model.gguf | jq '.tensors[].type'

            Text output:
              header    GGUF version, alignment, start of the data section, file
                        size, and whether the tensor data is laid out as
                        llama.cpp requires (each tensor right after the last)
              metadata  one line per key in file order: KEY, TYPE (uint32,
                        float32, string, array[string] …) and VALUE; arrays show
                        their length and first \(Self.textArrayItems) items, strings longer than
                        \(Self.textStringLimit) characters are cut and followed by their length
              tensors   #, NAME, TYPE (ggml type: F32, F16, BF16, Q8_0, Q4_K …),
                        SHAPE (ne0×ne1…; ne0 is the contiguous row length, so
                        this is the PyTorch shape reversed), ELEMENTS, BYTES (data
                        size without padding), OFFSET (from the data section)
              types     tensors, elements and bytes per ggml type

            JSON output (--json): one object with version, alignment, data_offset,
            file_bytes, tensor_count, canonical_layout, metadata (key → {type,
            value}; arrays → {type: "array", element_type, count, values}, values
            cut to the first \(Self.jsonArrayItems) unless --full) and tensors (name, type,
            ne, offset, bytes) in file order.

            \(ExitStatus.helpTable)
            """)

    static let textArrayItems = 8
    static let textStringLimit = 80
    static let jsonArrayItems = 16

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Show every array element and whole strings (JSON: every array element).")
    var full = false

    @Argument(help: "The GGUF file.")
    var file: String

    func run() throws {
        common.apply()
        let gguf = try GGUFFile(path: file)
        var out = common.json ? jsonReport(gguf) : textReport(gguf)
        out += "\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    // MARK: Text

    func textReport(_ g: GGUFFile) -> String {
        var lines: [String] = []
        let totalElements = g.tensors.reduce(0) { $0 + $1.elementCount }
        lines.append(file)
        lines.append("  GGUF version   \(g.version)")
        lines.append("  alignment      \(g.alignment)")
        lines.append("  data offset    \(g.dataOffset)")
        lines.append("  file size      \(grouped(g.fileSize)) bytes (\(humanBytes(g.fileSize)))")
        lines.append("  metadata       \(g.metadata.count) keys")
        lines.append("  tensors        \(g.tensors.count) (\(grouped(totalElements)) elements)")
        lines.append("  layout         " + (g.layoutProblem.map { "not canonical: \($0); llama.cpp will refuse the file" } ?? "canonical"))
        lines.append("")

        lines.append("Metadata (\(g.metadata.count) keys):")
        let keyWidth = max(3, g.metadata.map { $0.key.count }.max() ?? 0)
        let types = g.metadata.map { Self.typeLabel($0.value) }
        let typeWidth = max(4, types.map(\.count).max() ?? 0)
        lines.append("  " + pad("KEY", keyWidth) + "  " + pad("TYPE", typeWidth) + "  VALUE")
        for (i, kv) in g.metadata.enumerated() {
            lines.append("  " + pad(kv.key, keyWidth) + "  " + pad(types[i], typeWidth) + "  " + textValue(kv.value))
        }
        lines.append("")

        lines.append("Tensors (\(g.tensors.count)):")
        let header = ["#", "NAME", "TYPE", "SHAPE", "ELEMENTS", "BYTES", "OFFSET"]
        var rows: [[String]] = []
        for (i, t) in g.tensors.enumerated() {
            rows.append([String(i), t.name, t.type.name, t.shapeDescription, grouped(t.elementCount), grouped(t.byteCount), grouped(t.offset)])
        }
        let rightAligned: Set<Int> = [0, 4, 5, 6]
        var widths = header.map(\.count)
        for row in rows {
            for (c, cell) in row.enumerated() { widths[c] = max(widths[c], cell.count) }
        }
        func format(_ row: [String]) -> String {
            "  " + row.enumerated().map { c, cell in
                rightAligned.contains(c) ? padLeft(cell, widths[c]) : pad(cell, widths[c])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        lines.append(format(header))
        for row in rows { lines.append(format(row)) }
        lines.append("")

        lines.append("Types:")
        for s in typeSummary(g) {
            lines.append("  " + pad(s.type.name, 8) + "  " + padLeft(String(s.count), 5) + " tensors  "
                         + padLeft(grouped(s.elements), 15) + " elements  " + padLeft(grouped(s.bytes), 15) + " bytes")
        }
        return lines.joined(separator: "\n")
    }

    struct TypeCount {
        var type: GGMLType
        var count = 0
        var elements = 0
        var bytes = 0
    }

    /// Per ggml type, in order of first appearance.
    func typeSummary(_ g: GGUFFile) -> [TypeCount] {
        var order: [GGMLType] = []
        var counts: [GGMLType: TypeCount] = [:]
        for t in g.tensors {
            if counts[t.type] == nil { order.append(t.type) }
            counts[t.type, default: TypeCount(type: t.type)].count += 1
            counts[t.type, default: TypeCount(type: t.type)].elements += t.elementCount
            counts[t.type, default: TypeCount(type: t.type)].bytes += t.byteCount
        }
        return order.compactMap { counts[$0] }
    }

    static func typeLabel(_ v: GGUFValue) -> String {
        if case .array(let t, _) = v { return "array[\(t.name)]" }
        return v.type.name
    }

    func textValue(_ v: GGUFValue) -> String {
        switch v {
        case .string(let s):
            return quoted(s, limit: full ? nil : Self.textStringLimit)
        case .array(_, let values):
            let shown = full ? values : Array(values.prefix(Self.textArrayItems))
            var s = "\(values.count) item\(values.count == 1 ? "" : "s")"
            if !values.isEmpty {
                s += ": " + shown.map { item -> String in
                    if case .string(let str) = item { return quoted(str, limit: full ? nil : 40) }
                    if case .array = item { return "[" + textValue(item) + "]" }
                    return textValue(item)
                }.joined(separator: ", ")
                if shown.count < values.count { s += ", …" }
            }
            return s
        case .float32(let f): return floatText(f)
        case .float64(let d): return d.description
        case .bool(let b): return b ? "true" : "false"
        case .uint8(let x): return String(x)
        case .int8(let x): return String(x)
        case .uint16(let x): return String(x)
        case .int16(let x): return String(x)
        case .uint32(let x): return String(x)
        case .int32(let x): return String(x)
        case .uint64(let x): return String(x)
        case .int64(let x): return String(x)
        }
    }

    /// A string in double quotes with control characters escaped, cut to `limit` characters.
    func quoted(_ s: String, limit: Int?) -> String {
        var body = ""
        var shownScalars = 0
        var cut = false
        for scalar in s.unicodeScalars {
            if let limit, shownScalars >= limit { cut = true; break }
            body += escape(scalar)
            shownScalars += 1
        }
        var result = "\"" + body + "\""
        if cut { result += "… (\(grouped(s.utf8.count)) bytes; --full shows all)" }
        return result
    }

    func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\"": return "\\\""
        case "\\": return "\\\\"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F { return String(format: "\\u{%02x}", scalar.value) }
            return String(scalar)
        }
    }

    func floatText(_ f: Float) -> String { f.description }

    // MARK: JSON

    func jsonReport(_ g: GGUFFile) -> String {
        let report: JSONValue = .object([
            ("file", .string(file)),
            ("version", .int(g.version)),
            ("alignment", .int(g.alignment)),
            ("data_offset", .int(g.dataOffset)),
            ("file_bytes", .int(g.fileSize)),
            ("tensor_count", .int(g.tensors.count)),
            ("canonical_layout", .bool(g.layoutProblem == nil)),
            ("metadata", .object(g.metadata.map { ($0.key, jsonTypedValue($0.value)) })),
            ("tensors", .array(g.tensors.map { t in
                .object([
                    ("name", .string(t.name)), ("type", .string(t.type.name)), ("ne", .array(t.dimensions.map { .int($0) })),
                    ("offset", .int(t.offset)), ("bytes", .int(t.byteCount)),
                ])
            })),
        ])
        return report.serialized(pretty: false)
    }

    /// `{"type": …, "value": …}`, or for arrays `{"type": "array", "element_type", "count", "values"}`.
    func jsonTypedValue(_ v: GGUFValue) -> JSONValue {
        if case .array(let t, let values) = v {
            let shown = full ? values : Array(values.prefix(Self.jsonArrayItems))
            return .object([
                ("type", .string("array")), ("element_type", .string(t.name)), ("count", .int(values.count)),
                ("values", .array(shown.map(jsonValue))),
            ])
        }
        return .object([("type", .string(v.type.name)), ("value", jsonValue(v))])
    }

    func jsonValue(_ v: GGUFValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .array: return jsonTypedValue(v)  // an element of an array of arrays
        case .float32(let f): return f.isFinite ? .float(f) : nonFinite(Double(f))
        case .float64(let d): return d.isFinite ? .double(d) : nonFinite(d)
        case .bool(let b): return .bool(b)
        case .uint64(let u): return u <= UInt64(Int.max) ? .int(Int(u)) : .double(Double(u))
        default: return .int(v.intValue ?? 0)  // the other integer types all fit in Int
        }
    }

    /// JSON has no NaN or infinity: those become the strings "nan", "inf", "-inf".
    func nonFinite(_ d: Double) -> JSONValue {
        .string(d.isNaN ? "nan" : (d > 0 ? "inf" : "-inf"))
    }
}

// MARK: - Formatting helpers

private func pad(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : s + String(repeating: " ", count: width - n)
}

private func padLeft(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : String(repeating: " ", count: width - n) + s
}

/// 1234567 → "1,234,567".
private func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

private func humanBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(n)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(n) B" : String(format: "%.1f", value) + " " + units[unit]
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
