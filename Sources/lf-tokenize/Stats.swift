import ArgumentParser
import Foundation
import Shared

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise a shard directory.",
        discussion: """
            Opens a shard directory written by lf-tokenize pack, checks it (manifest.json, every
            file's size and sha256, headers and indexes; with --verify also every sequence), and
            prints what it holds: records read, dropped by reason, truncated; sequences, documents,
            tokens and the trained share; sequence lengths (min, p50, p90, p99, max, mean;
            percentiles by nearest rank) and a histogram. It needs no tokenizer.

            Examples:
              lf-tokenize stats shards/
              lf-tokenize stats --verify shards/
              lf-tokenize stats --json shards/ | jq .length.p90

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Also decompress and check every sequence.")
    var verify = false

    @Option(name: .long, help: "Histogram bins.")
    var bins = 8

    @Argument(help: ArgumentHelp("The shard directory.", valueName: "dir"))
    var directory: String

    func validate() throws {
        try common.validate()
        if bins < 1 || bins > 1000 { throw ValidationError("--bins must be between 1 and 1000") }
    }

    struct Summary {
        var lengths: [Int]
        var documents: Int
        var min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0
        var mean = 0.0
        /// (from, to, sequences), `to` inclusive.
        var histogram: [(Int, Int, Int)] = []
    }

    func run() throws {
        common.apply()
        let reader = try ShardReader(directory: directory)
        if verify { try reader.verifyAllSequences() }
        let m = reader.manifest
        var lengths = (0 ..< reader.sequenceCount).map(reader.tokenCount(ofSequence:))
        let documents = (0 ..< reader.sequenceCount).reduce(0) { $0 + reader.documentCount(ofSequence: $1) }
        lengths.sort()
        var s = Summary(lengths: lengths, documents: documents)
        if !lengths.isEmpty {
            func rank(_ p: Double) -> Int { lengths[Swift.max(0, Int((p / 100 * Double(lengths.count)).rounded(.up)) - 1)] }
            s.min = lengths.first!
            s.max = lengths.last!
            s.p50 = rank(50)
            s.p90 = rank(90)
            s.p99 = rank(99)
            s.mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
            let width = Swift.max(1, (m.maxLength + bins - 1) / bins)
            var counts = [Int](repeating: 0, count: bins)
            for n in lengths { counts[Swift.min(bins - 1, (n - 1) / width)] += 1 }
            s.histogram = counts.enumerated().map { i, c in (i * width + 1, Swift.min(m.maxLength, (i + 1) * width), c) }
        }
        if common.json {
            try StandardOutput.write(json(reader, s).serialized(pretty: false) + "\n")
        } else {
            try StandardOutput.write(text(reader, s))
        }
    }

    func json(_ r: ShardReader, _ s: Summary) -> JSONValue {
        let m = r.manifest
        let c = m.counts
        return .object([
            ("directory", .string(directory)),
            ("format_version", .int(ShardManifest.formatVersion)),
            ("files", .int(m.files.count)),
            ("bytes", .int(m.files.reduce(0) { $0 + $1.bytes })),
            ("verified", .string(verify ? "checksums and every sequence" : "checksums and indexes")),
            ("tokenizer", .object([("fingerprint", .string(m.tokenizerFingerprint)), ("vocab_size", .int(m.vocabularySize)), ("id_bytes", .int(m.idBytes))])),
            ("template", m.template.map { .string($0.name) } ?? .null),
            ("max_length", .int(m.maxLength)),
            ("packing", .bool(m.packing)),
            ("counts", m.json["counts"] ?? .null),
            ("documents_per_sequence", .double(s.lengths.isEmpty ? 0 : Double(s.documents) / Double(s.lengths.count))),
            ("trained_share", .double(c.tokens == 0 ? 0 : Double(c.trainedTokens) / Double(c.tokens))),
            ("fill", .double(s.lengths.isEmpty ? 0 : Double(c.tokens) / Double(s.lengths.count * m.maxLength))),
            ("length", .object([
                ("min", .int(s.min)), ("p50", .int(s.p50)), ("p90", .int(s.p90)), ("p99", .int(s.p99)), ("max", .int(s.max)),
                ("mean", .double((s.mean * 10).rounded() / 10)),
            ])),
            ("histogram", .array(s.histogram.map { .object([("from", .int($0.0)), ("to", .int($0.1)), ("sequences", .int($0.2))]) })),
        ])
    }

    func text(_ r: ShardReader, _ s: Summary) -> String {
        let m = r.manifest
        let c = m.counts
        let bytes = m.files.reduce(0) { $0 + $1.bytes }
        var lines: [String] = []
        lines.append("\(directory)  (lf-shards v\(ShardManifest.formatVersion), \(m.files.count) file\(m.files.count == 1 ? "" : "s"), "
                     + "\(ShardReport.humanBytes(bytes)); " + (verify ? "checksums and every sequence verified)" : "checksums verified)"))
        lines.append("  tokenizer   fingerprint \(m.tokenizerFingerprint.prefix(16))…, vocabulary \(ShardReport.grouped(m.vocabularySize)) (u\(m.idBytes * 8) ids)")
        if let t = m.template {
            var line = "  template    \(t.name)"
            if let system = t.defaultSystem { line += "; default system prompt \"\(system)\"" }
            lines.append(line)
        }
        var settings = ["max length \(m.maxLength)", m.packing ? "packed" : "one document per sequence"]
        settings.append(m.settings.shuffle ? "shuffled (seed \(m.settings.seed))" : "input order")
        settings.append(m.settings.trainOnPrompt ? "trains every token" : (m.settings.maskHistory ? "trains the last answer" : "trains the answers"))
        if m.settings.dropLong { settings.append("over-long records dropped") }
        lines.append("  settings    " + settings.joined(separator: ", "))
        var records = "\(ShardReport.grouped(c.records)) read: \(ShardReport.grouped(c.chatRecords)) chat, \(ShardReport.grouped(c.textRecords)) text"
        if c.recordsTruncated > 0 { records += "; \(ShardReport.grouped(c.recordsTruncated)) truncated" }
        if c.textRecordsSplit > 0 { records += "; \(ShardReport.grouped(c.textRecordsSplit)) split" }
        if c.droppedTotal > 0 {
            records += "; \(ShardReport.grouped(c.droppedTotal)) dropped ("
                + c.recordsDropped.sorted { $0.key < $1.key }.map { "\($0.key) \(ShardReport.grouped($0.value))" }.joined(separator: ", ") + ")"
        }
        lines.append("  records     " + records)
        let perSequence = s.lengths.isEmpty ? 0 : Double(s.documents) / Double(s.lengths.count)
        lines.append("  sequences   \(ShardReport.grouped(s.lengths.count)) holding \(ShardReport.grouped(s.documents)) documents ("
                     + String(format: "%.2f", perSequence) + " per sequence)")
        lines.append("  tokens      \(ShardReport.grouped(c.tokens)); trained \(ShardReport.grouped(c.trainedTokens)) (\(ShardReport.percent(c.trainedTokens, c.tokens)))")
        if !s.lengths.isEmpty {
            lines.append("  length      min \(ShardReport.grouped(s.min))  p50 \(ShardReport.grouped(s.p50))  p90 \(ShardReport.grouped(s.p90))  "
                         + "p99 \(ShardReport.grouped(s.p99))  max \(ShardReport.grouped(s.max))  mean " + String(format: "%.1f", s.mean)
                         + "  (\(ShardReport.percent(c.tokens, s.lengths.count * m.maxLength)) of max length)")
            let peak = Swift.max(1, s.histogram.map(\.2).max() ?? 1)
            let fromWidth = String(m.maxLength).count, countWidth = Swift.max(9, String(s.lengths.count).count)
            lines.append("  histogram")
            let rangeWidth = Swift.max(6, 2 * fromWidth + 3)
            lines.append("    " + "tokens".padding(toLength: rangeWidth, withPad: " ", startingAt: 0) + "  " + ShardReport.padLeft("sequences", countWidth))
            for (from, to, count) in s.histogram {
                let bar = String(repeating: "#", count: count == 0 ? 0 : Swift.max(1, count * 40 / peak))
                let range = ShardReport.padLeft(String(from), fromWidth) + " – " + ShardReport.padLeft(String(to), fromWidth)
                lines.append("    " + range.padding(toLength: rangeWidth, withPad: " ", startingAt: 0)
                             + "  " + ShardReport.padLeft(String(count), countWidth) + "  " + bar)
            }
        }
        return lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n") + "\n"
    }
}

/// Number formatting shared by pack, stats and cat.
enum ShardReport {
    /// 1234567 → "1,234,567"
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// "37.1%"
    static func percent(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "0.0%" }
        return String(format: "%.1f%%", Double(part) * 100 / Double(whole))
    }

    /// "1.2 MB" (powers of 1000)
    static func humanBytes(_ n: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) bytes" : String(format: "%.1f %@", value, units[unit])
    }

    static func padLeft(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
