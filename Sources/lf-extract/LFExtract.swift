import ArgumentParser
import Extraction
import Foundation
import Shared

@main
struct LFExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lf-extract",
        abstract: "Extract text from documents (PDF, HTML, DOCX, EPUB, Markdown, text) as JSONL records.",
        discussion: """
            Writes one JSON object per document (or per page, or per chunk):
              {"format":"pdf","id":"<sha256>","pages":2,"source":"a.pdf","text":"…"}
            `id` is the sha256 of the file's bytes; per-page and chunk records
            append :p<page> and :c<chunk> (pages from 1, chunks from 0), so ids
            are stable and distinct. `text` is UTF-8 NFC, paragraphs separated by
            blank lines, headings, lists and tables in Markdown. A file whose bytes
            repeat an earlier one is skipped and reported.

            PDF: poppler's reading order, running headers, footers and page
            numbers dropped, hyphenation undone, ligatures expanded. HTML: libxml2;
            script, style, nav, aside, footer dropped, and with --html main (the
            default) page chrome and link lists too. DOCX, EPUB, Markdown, and
            text with its encoding detected (BOM, UTF-8, UTF-16, windows-1251,
            Latin-1).

            Directories are walked recursively in byte order; hidden entries are
            skipped. Without --include, files with a known extension are taken
            (.pdf .html .htm .xhtml .docx .epub .md .markdown .txt). A glob without
            a slash matches the file name, with a slash the path below the
            directory; ** spans directories. Files named on the command line are
            always read; - reads stdin.

            A file that cannot be extracted (encrypted without --password, pages
            with no text layer, truncated or corrupt, a ZIP bomb) is reported on
            stderr and in the --json summary, and the others go on; the exit status
            is then 1, or 0 with --keep-going. With --isolate each file is read in
            a child process, so that a crash (or, with --timeout, a hang) in a
            parser fails that file only. The --json summary goes to stdout when -o
            names the records' file, else to stderr as the last line.

            Examples:
              lf-extract docs/ > docs.jsonl
              lf-extract --include '*.pdf' --exclude 'drafts/**' -o d.jsonl papers/
              lf-extract --per-page --password secret report.pdf
              curl -s https://example.org/ | lf-extract --format html -
              lf-extract --chunk-chars 2000 --overlap 200 book.epub

            \(ExitStatus.helpTable)
            """,
        version: LFVersion.string)

    @Argument(help: ArgumentHelp("Files and directories to extract; - for stdin.", valueName: "path"))
    var paths: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the records to this file (atomically) instead of stdout.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Walk only files matching this glob (repeatable).", valueName: "glob"))
    var include: [String] = []

    @Option(help: ArgumentHelp("Skip files and directories matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("Read every input as this format: \(DocumentFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var format: String?

    @Flag(help: "One record per PDF page (with `page`); other formats give one record per document.")
    var perPage = false

    @Option(help: ArgumentHelp("The user password of encrypted PDFs.", valueName: "password"))
    var password: String?

    @Option(help: ArgumentHelp("HTML: main (drop page chrome, link lists, sidebars) or all (everything visible but script, style, nav, aside, footer).", valueName: "mode"))
    var html: String = HTMLContent.main.rawValue

    @Option(help: ArgumentHelp("Decode text, Markdown and HTML with this encoding (an iconv name) instead of detecting it.", valueName: "name"))
    var encoding: String?

    @Flag(help: "Keep PDF lines that repeat at the top or bottom of pages (running headers, footers, page numbers).")
    var keepHeaders = false

    @Option(help: ArgumentHelp("Cut each record's text into chunks of at most N characters (Unicode code points).", valueName: "N"))
    var chunkChars: Int?

    @Option(help: ArgumentHelp("Characters shared by consecutive chunks (with --chunk-chars).", valueName: "M"))
    var overlap: Int = 0

    @Option(help: ArgumentHelp("Files extracted at once (default: the number of cores).", valueName: "n"))
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Most bytes inflated from one DOCX or EPUB container (a ZIP bomb stops there).", valueName: "bytes"))
    var maxUnzippedBytes: Int = 512 << 20

    @Option(help: ArgumentHelp("Extract only slice I of N (1-based) of the inputs, chosen by a stable hash of each path, so that N machines can share the work.", valueName: "I/N"))
    var shard: String?

    @Flag(help: "Read each file in a child process, so that a crash in a parser fails that file only.")
    var isolate = false

    @Option(help: ArgumentHelp("With --isolate: give up on a file after this many seconds.", valueName: "seconds"))
    var timeout: Double?

    @Flag(help: "Exit 0 even when some files could not be extracted (they are still reported).")
    var keepGoing = false

    @OptionGroup var common: CommonOptions

    static func main() { CommandMain.run(Self.self) }

    func validate() throws {
        if paths.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be given only once") }
        if let format, DocumentFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format \"\(format)\"; use one of \(DocumentFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if HTMLContent(rawValue: html) == nil { throw ValidationError("--html takes main or all, not \"\(html)\"") }
        if let chunkChars {
            if chunkChars < 1 { throw ValidationError("--chunk-chars must be at least 1") }
            if overlap < 0 || overlap >= chunkChars { throw ValidationError("--overlap must be at least 0 and smaller than --chunk-chars") }
        } else if overlap != 0 {
            throw ValidationError("--overlap needs --chunk-chars")
        }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if maxUnzippedBytes < 1 { throw ValidationError("--max-unzipped-bytes must be positive") }
        if let timeout {
            if !isolate { throw ValidationError("--timeout needs --isolate (a file is stopped by killing its child process)") }
            if !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        }
        if let shard, Shard(shard) == nil { throw ValidationError("--shard takes I/N with 1 ≤ I ≤ N, such as 2/8") }
        if output == "-" { throw ValidationError("records go to stdout without -o; -o - is not needed") }
    }

    func run() throws {
        common.apply()
        // Checked here rather than in validate(), which would hide an unknown option's own message.
        if paths.isEmpty {
            throw LFError.usage("give the files or directories to extract (or - for stdin)",
                                hint: "lf-extract docs/ > docs.jsonl; see lf-extract --help")
        }
        var options = ExtractionOptions()
        options.password = password
        options.perPage = perPage
        options.htmlContent = HTMLContent(rawValue: html) ?? .main
        options.removeRunningHeaders = !keepHeaders
        options.maxInflatedBytes = maxUnzippedBytes
        options.encoding = encoding

        let walker = InputWalker(includes: include.map(Glob.init), excludes: exclude.map(Glob.init))
        var files: [InputFile] = []
        var problems: [InputWalker.Problem] = []
        for argument in paths {
            let (found, trouble) = walker.expand([argument])
            if found.isEmpty && trouble.isEmpty {
                Log.warning("\(argument): no documents found (known extensions: pdf html htm xhtml docx epub md markdown txt; see --include)")
            }
            files += found
            problems += trouble
        }
        for problem in problems {
            Log.error("lf-extract: \(problem.path): \(problem.message)")
        }
        if let slice = shard.flatMap(Shard.init) {
            let all = files.count
            files = files.filter(slice.contains)
            Log.debug("shard \(slice.index)/\(slice.count): \(files.count) of \(all) files")
        }
        if files.isEmpty {
            if shard != nil && problems.isEmpty {
                // An empty slice is normal when there are fewer files than shards: an empty output.
                if let output { try AtomicFile.write(Data(), to: output) }
                Log.info("lf-extract: no files in shard \(shard ?? "")")
                return
            }
            throw LFError("nothing to extract", hint: problems.isEmpty ? "check the paths and the --include/--exclude globs" : nil)
        }
        let stdinBytes = files.contains { $0.path == "-" } ? try readStandardInput() : nil

        let file = try output.map { try AtomicFile(path: $0) }
        let stdout = BufferedStandardOutput()
        let progress = ProgressReporter("extract", total: files.count, unit: "files")
        let batch = Batch(inputs: files, options: options, forcedFormat: format.flatMap(DocumentFormat.init(rawValue:)),
                          chunking: chunkChars.map { Chunking(size: $0, overlap: overlap) }, stdin: stdinBytes,
                          progress: progress) { line in
            if let file { try file.write(line) } else { try stdout.write(line) }
        }
        if isolate {
            batch.isolation = IsolatedRunner(executable: Self.executablePath, arguments: childArguments, timeout: timeout)
        }
        var summary = try batch.run(jobs: jobs)
        try stdout.flush()
        try file?.commit()
        for problem in problems {
            summary.failures.insert(.init(source: problem.path, kind: "io", message: problem.message, pages: []), at: 0)
        }
        let failed = summary.failures.count
        if common.json {
            let line = summary.json.serialized(pretty: false) + "\n"
            if output != nil { try StandardOutput.write(line) } else { Log.writeStderr(line) }
        } else {
            Log.info("lf-extract: \(summary.extracted) of \(files.count) file\(files.count == 1 ? "" : "s") extracted, \(summary.records) record\(summary.records == 1 ? "" : "s")"
                     + (failed > 0 ? ", \(failed) failed" : "")
                     + (summary.duplicates.isEmpty ? "" : ", \(summary.duplicates.count) duplicate\(summary.duplicates.count == 1 ? "" : "s") skipped"))
        }
        if failed > 0 && !keepGoing {
            throw ExitCode(ExitStatus.failure.rawValue)
        }
    }

    /// The options that change what a file gives, for a child process under --isolate.
    var childArguments: [String] {
        var a: [String] = ["--html", html]
        if let format { a += ["--format", format] }
        if perPage { a.append("--per-page") }
        if let password { a += ["--password", password] }
        if let encoding { a += ["--encoding", encoding] }
        if keepHeaders { a.append("--keep-headers") }
        if let chunkChars { a += ["--chunk-chars", String(chunkChars), "--overlap", String(overlap)] }
        a += ["--max-unzipped-bytes", String(maxUnzippedBytes)]
        return a
    }

    /// This program's path, for starting child processes.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    private func readStandardInput() throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LFError.io("read", path: "<stdin>")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}

/// Records to stdout in 64 KiB writes rather than one system call per record. Only the batch's
/// writer calls it, one record at a time.
final class BufferedStandardOutput {
    private var buffer: [UInt8] = []

    func write(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try StandardOutput.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
