import Extraction
import Foundation
import Testing
import TestSupport

/// lf-extract end to end: the built binary on the corpus and on small files made here.
@Suite struct CommandLineTests {
    static let dev = Fixtures.shared.appendingPathComponent("corpus/dev").path

    func lines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// A directory with a few documents (names chosen so byte order differs from creation order).
    func sampleDirectory() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("lf-extract-cli")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("b/drafts"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent(".hidden"), withIntermediateDirectories: true)
        try "Zebra text.\n".write(to: dir.appendingPathComponent("Z.txt"), atomically: true, encoding: .utf8)
        try "# Alpha\n\nSome [linked](http://x) words.\n".write(to: dir.appendingPathComponent("a.md"), atomically: true, encoding: .utf8)
        try "<html><body><p>Beta page</p><nav>menu</nav></body></html>".write(to: dir.appendingPathComponent("b/page.html"), atomically: true, encoding: .utf8)
        try "draft".write(to: dir.appendingPathComponent("b/drafts/d.txt"), atomically: true, encoding: .utf8)
        try "secret".write(to: dir.appendingPathComponent(".hidden/h.txt"), atomically: true, encoding: .utf8)
        try "ignored".write(to: dir.appendingPathComponent("b/notes.log"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.dev + "/pdf-ligature-codepoints.pdf", toPath: dir.appendingPathComponent("b/lig.pdf").path)
        return dir
    }

    @Test func walksInByteOrderWithGlobs() throws {
        let dir = try sampleDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Tools.run("lf-extract", [dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try lines(r.stdout)
        let sources = records.compactMap { $0["source"] as? String }.map { String($0.dropFirst(dir.path.count + 1)) }
        #expect(sources == ["Z.txt", "a.md", "b/drafts/d.txt", "b/lig.pdf", "b/page.html"])
        #expect(records.map { $0["format"] as? String } == ["text", "markdown", "text", "pdf", "html"])
        #expect(records[1]["text"] as? String == "# Alpha\n\nSome linked words.")
        #expect(records[4]["text"] as? String == "Beta page")

        let filtered = try Tools.run("lf-extract", ["--include", "*.txt", "--include", "*.md", "--exclude", "drafts", dir.path])
        #expect(filtered.status == 0)
        let kept = try lines(filtered.stdout).compactMap { ($0["source"] as? String)?.components(separatedBy: "/").last }
        #expect(kept == ["Z.txt", "a.md"])
    }

    @Test func outputIsTheSameWithOneOrTwoJobs() throws {
        // The whole corpus directory but its two longest PDFs (debug builds are slow).
        // --quiet: a slow run would otherwise print a timed progress line.
        let skip = ["--quiet", "--exclude", "*tracemonkey*", "--exclude", "*owner-only-rc4*"]
        let one = try Tools.run("lf-extract", ["--jobs", "1", "--keep-going"] + skip + [Self.dev])
        let two = try Tools.run("lf-extract", ["--jobs", "2", "--keep-going"] + skip + [Self.dev])
        #expect(one.status == 0 && two.status == 0)
        #expect(one.stdoutData == two.stdoutData)
        #expect(one.stderr == two.stderr)
        #expect(one.stderr.contains("pdf-truncated-DERIVED-head16k.pdf: damaged"))
        #expect(try lines(one.stdout).count > 20)
    }

    @Test func badFilesAreReportedAndTheOthersGoOn() throws {
        let dir = try Fixtures.temporaryDirectory("lf-extract-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("docs.jsonl").path
        let args = ["-o", out, "--json",
                    Self.dev + "/pdf-truncated-DERIVED-head16k.pdf",
                    Self.dev + "/pdf-corrupted-stream-zen.pdf",
                    Self.dev + "/pdf-encrypted-user-password.pdf",
                    Self.dev + "/pdf-scanned-image-only-fax-letter.pdf",
                    Self.dev + "/docx-truncated.docx",
                    dir.appendingPathComponent("missing.txt").path,
                    Self.dev + "/txt-utf16le-bom-multiscript.txt"]
        let r = try Tools.run("lf-extract", args)
        #expect(r.status == 1)
        let records = try lines(String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self))
        #expect(records.compactMap { ($0["source"] as? String)?.components(separatedBy: "/").last }
                == ["pdf-corrupted-stream-zen.pdf", "txt-utf16le-bom-multiscript.txt"])
        #expect(r.stderr.contains("pdf-truncated-DERIVED-head16k.pdf: damaged or truncated PDF"))
        #expect(r.stderr.contains("pdf-encrypted-user-password.pdf: encrypted PDF: a password is required"))
        #expect(r.stderr.contains("pdf-scanned-image-only-fax-letter.pdf: no extractable text: image-only (scanned) PDF"))
        #expect(r.stderr.contains("docx-truncated.docx: corrupt DOCX"))
        #expect(r.stderr.contains("missing.txt: cannot open: No such file or directory"))
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["failed"] as? Int == 5)
        #expect(summary?["extracted"] as? Int == 2)
        let errors = summary?["errors"] as? [[String: Any]] ?? []
        #expect(Set(errors.compactMap { $0["kind"] as? String }) == ["damaged", "encrypted", "needs_ocr", "io"])
        #expect(errors.first { $0["kind"] as? String == "needs_ocr" }?["pages"] as? [Int] == [1])

        let keepGoing = try Tools.run("lf-extract", ["--keep-going", "-o", out] + args.dropFirst(3))
        #expect(keepGoing.status == 0)
    }

    @Test func passwordPerPageAndChunks() throws {
        let pdf = Self.dev + "/pdf-encrypted-user-password.pdf"
        let r = try Tools.run("lf-extract", ["--password", "openpassword", "--per-page", pdf])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try lines(r.stdout)
        #expect(records.count == 1)
        #expect(records[0]["page"] as? Int == 1)
        #expect((records[0]["id"] as? String)?.hasSuffix(":p1") == true)
        #expect((records[0]["text"] as? String)?.contains("Lorem ipsum") == true)

        let chunks = try lines(try Tools.run("lf-extract", ["--chunk-chars", "500", "--overlap", "50", Self.dev + "/pdf-french-accents-proces-verbal.pdf"]).stdout)
        #expect(chunks.count >= 4)
        #expect(chunks.allSatisfy { (($0["text"] as? String)?.unicodeScalars.count ?? 0) <= 500 })
        #expect(chunks.enumerated().allSatisfy { i, c in c["chunk"] as? Int == i && (c["id"] as? String)?.hasSuffix(":c\(i)") == true })
    }

    @Test func stdinAndDuplicates() throws {
        let html = Data("<!doctype html><title>T</title><p>From stdin</p>".utf8)
        let r = try Tools.run("lf-extract", ["-"], stdin: html)
        #expect(r.status == 0, "\(r.stderr)")
        let record = try lines(r.stdout).first
        #expect(record?["source"] as? String == "-")
        #expect(record?["format"] as? String == "html")
        #expect(record?["text"] as? String == "From stdin")
        #expect(record?["title"] as? String == "T")

        let file = Self.dev + "/pdf-ligature-codepoints.pdf"
        let dup = try Tools.run("lf-extract", [file, file])
        #expect(dup.status == 0)
        #expect(try lines(dup.stdout).count == 1)
        #expect(dup.stderr.contains("same content as"))
    }

    @Test func shardsAreDisjointAndCoverEverything() throws {
        let dir = try sampleDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ids = { (r: ToolResult) in try self.lines(r.stdout).compactMap { $0["id"] as? String } }
        let all = try ids(Tools.run("lf-extract", [dir.path]))
        var seen: [String] = []
        for i in 1...3 {
            let r = try Tools.run("lf-extract", ["--shard", "\(i)/3", dir.path])
            #expect(r.status == 0, "\(r.stderr)")
            seen += try ids(r)
        }
        #expect(seen.count == all.count)
        #expect(Set(seen) == Set(all))
        #expect(try Tools.run("lf-extract", ["--shard", "4/3", dir.path]).status == 2)
    }

    @Test func isolatedRunsGiveTheSameOutput() throws {
        let files = ["pdf-french-accents-proces-verbal.pdf", "pdf-truncated-DERIVED-head16k.pdf", "docx-truncated.docx",
                     "epub2-ncx-chapters.epub", "pdf-scanned-image-only-fax-letter.pdf", "html-utf16le-bom.html"].map { Self.dev + "/" + $0 }
        let direct = try Tools.run("lf-extract", ["--quiet", "--json", "--per-page"] + files)
        let isolated = try Tools.run("lf-extract", ["--quiet", "--json", "--per-page", "--isolate", "--timeout", "120"] + files)
        #expect(direct.status == 1 && isolated.status == 1)
        #expect(direct.stdout == isolated.stdout)
        // The same messages; the summary's timing differs.
        let withoutSummary = { (s: String) in s.split(separator: "\n").filter { !$0.hasPrefix("{") } }
        #expect(withoutSummary(direct.stderr) == withoutSummary(isolated.stderr))
        #expect(isolated.stderr.contains(#""kind":"needs_ocr""#))
    }

    @Test func aCrashingOrHangingChildFailsOnlyItsFile() {
        let crash = IsolatedRunner(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"], timeout: nil).run(path: "x.pdf")
        #expect(crash.failure?.kind == .crashed)
        #expect(crash.failure?.message.contains("signal 11") == true)
        let start = Date()
        let hang = IsolatedRunner(executable: "/bin/sh", arguments: ["-c", "exec sleep 30"], timeout: 0.5).run(path: "x.pdf")
        #expect(hang.failure?.kind == .timeout)
        #expect(Date().timeIntervalSince(start) < 10)
        let garbage = IsolatedRunner(executable: "/bin/sh", arguments: ["-c", "echo nonsense >&2; exit 3"], timeout: nil).run(path: "x.pdf")
        #expect(garbage.failure?.kind == .io)
        #expect(garbage.failure?.message.contains("nonsense") == true)
    }

    @Test func usageErrors() throws {
        for args in [[], ["--chunk-chars", "10", "--overlap", "10", "x"], ["--overlap", "3", "x"], ["--format", "rtf", "x"],
                     ["--html", "some", "x"], ["--jobs", "0", "x"], ["-", "-"], ["--timeout", "5", "x"],
                     ["--isolate", "--timeout", "0", "x"]] {
            let r = try Tools.run("lf-extract", args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        let empty = try Fixtures.temporaryDirectory("lf-extract-empty")
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try Tools.run("lf-extract", [empty.path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("nothing to extract"))
    }
}
