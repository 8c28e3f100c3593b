@testable import Extraction
import Foundation
import Testing
import TestSupport

/// Encodings, clean-up, reflow, hyphenation, running headers, chunking and globs on small inputs.
@Suite struct TextTests {
    func decode(_ bytes: [UInt8], declared: String? = nil) throws -> TextDecoding.Result {
        try TextDecoding.decode(bytes, declared: declared)
    }

    @Test func encodings() throws {
        #expect(try decode([0xEF, 0xBB, 0xBF] + Array("héllo".utf8)).text == "héllo")
        let utf16le: [UInt8] = [0xFF, 0xFE] + Array("añ€".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(try decode(utf16le).text == "añ€")
        let utf16beNoBOM: [UInt8] = Array("plain ascii text".utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(try decode(utf16beNoBOM).encoding == "utf-16be")
        #expect(try decode(utf16beNoBOM).text == "plain ascii text")
        // "Привет мир, это тест" in windows-1251.
        let cp1251: [UInt8] = [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x20, 0xEC, 0xE8, 0xF0, 0x2C, 0x20, 0xFD, 0xF2, 0xEE, 0x20, 0xF2, 0xE5, 0xF1, 0xF2]
        let r = try decode(cp1251)
        #expect(r.encoding == "windows-1251")
        #expect(r.text == "Привет мир, это тест")
        // Latin-1 French: isolated accented letters → windows-1252.
        let latin1: [UInt8] = Array("le caf".utf8) + [0xE9] + Array(" et la cr".utf8) + [0xE8] + Array("me, d".utf8) + [0xE9, 0x6A, 0xE0] + Array(" vu".utf8)
        let l = try decode(latin1)
        #expect(l.encoding == "windows-1252")
        #expect(l.text == "le café et la crème, déjà vu")
        // A declared charset is used; a BOM beats it; a declared UTF-8 that is not falls back.
        #expect(try decode(cp1251, declared: "windows-1251").evidence == "declared")
        #expect(try decode([0xEF, 0xBB, 0xBF, 0x61], declared: "windows-1251").text == "a")
        #expect(try decode(latin1, declared: "utf-8").encoding == "windows-1252")
        #expect(throws: ExtractionError.self) { try TextDecoding.decode([0x61], forced: "no-such-charset") }
    }

    /// Streaming in small pieces gives the same text as one big piece, whatever the encoding, and
    /// lines longer than a piece are cut between characters.
    @Test func streamedTextMatchesWholeText() throws {
        let dir = try Fixtures.temporaryDirectory("lf-stream")
        defer { try? FileManager.default.removeItem(at: dir) }
        let dev = Fixtures.shared.appendingPathComponent("corpus/dev")
        var files = ["txt-latin1-french-gutenberg.txt", "txt-utf16le-bom-multiscript.txt", "txt-utf8-bom-french-gutenberg.txt"].map {
            dev.appendingPathComponent($0).path
        }
        let noNewlines: [(String, [UInt8])] = [
            ("utf8.txt", Array(String(repeating: "é漢🙂 ", count: 3000).utf8)),
            ("utf16.txt", [0xFF, 0xFE] + Array(String(repeating: "a🙂é", count: 3000).utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
            ("crlf.txt", Array(String(repeating: "line one\r\nline two\r", count: 2000).utf8)),
        ]
        for (name, bytes) in noNewlines {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let options = ExtractionOptions()
        for path in files {
            let whole = try PlainTextExtractor.extract(path: path, options: options).text
            for piece in [61, 1000, 4096] {
                let streamed = try PlainTextExtractor.extract(path: path, options: options, pieceSize: piece).text
                #expect(streamed == whole, "\(path) in pieces of \(piece)")
            }
            #expect(!whole.contains("\u{FFFD}"), "\(path)")
        }
    }

    @Test func cleanUp() {
        #expect(TextCleanup.clean("e\u{301}te\r\nﬁn\u{00A0}\u{200B}x\u{0007}\u{FEFF}") == "éte\nfin x")
        #expect(TextCleanup.clean("a\rb\r\n\rc") == "a\nb\n\nc")
    }

    @Test func reflowJoinsWrappedProseAndKeepsVerse() {
        let prose = """
            It was the best of times, it was the worst of times, it was the age
            of wisdom, it was the age of foolishness, it was the epoch of belief,
            it was the epoch of incredulity, it was the season of Light, it was
            the season of Darkness.

            The cold storms of winter
            shall chill him no more,
            His woes and his sorrows

            A last paragraph that is long enough to be wrapped by the width of the
            text, and it goes on for a while longer, with a word that is hyphen-
            ated.
            """
        let out = Reflow.paragraphs(prose)
        let paragraphs = out.components(separatedBy: "\n\n")
        #expect(paragraphs.count == 3)
        #expect(paragraphs[0] == "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness.")
        #expect(paragraphs[1] == "The cold storms of winter\nshall chill him no more,\nHis woes and his sorrows")
        #expect(paragraphs[2].hasSuffix("text, and it goes on for a while longer, with a word that is hyphenated."))
    }

    @Test func hyphenationKeepsRealCompounds() {
        var h = Hyphenation()
        h.learn(Array("a trace-based compiler".unicodeScalars))
        func join(_ a: String, _ b: String) -> String {
            var s = Array(a.unicodeScalars)
            h.append(Array(b.unicodeScalars), to: &s)
            var v = String.UnicodeScalarView(); v.append(contentsOf: s)
            return String(v)
        }
        #expect(join("we com-", "pile it") == "we compile it")
        #expect(join("a trace-", "based one") == "a trace-based one")
        #expect(join("Jean-", "Pierre") == "Jean-Pierre")
        #expect(join("soft\u{00AD}", "ware") == "software")
        #expect(join("ends here", "next") == "ends here next")
        #expect(join("range 3-", "5") == "range 3-5")
        #expect(join("a dash -", "then") == "a dash - then")
    }

    @Test func runningHeadersNeedRepetition() {
        func page(_ n: Int, _ lines: [(String, Double)]) -> PDFPageLines {
            PDFPageLines(number: n, width: 600, height: 800, lines: lines.map {
                PDFLine(scalars: Array($0.0.unicodeScalars), x1: 50, y1: $0.1, x2: 500, y2: $0.1 + 10)
            }, imageCount: 0)
        }
        var pages = (1...4).map { n in
            page(n, [("JOURNAL OF THINGS, VOL. 3", 20), ("Body text \(n) that differs", 300), (n == 2 ? "A unique last line" : "Body end", 600), ("\(n)", 770)])
        }
        let marked = RunningHeaders.mark(&pages)
        #expect(marked == 8)
        #expect(pages.allSatisfy { $0.lines[0].isFurniture && $0.lines[3].isFurniture })
        #expect(pages.allSatisfy { !$0.lines[1].isFurniture && !$0.lines[2].isFurniture })
        // Two pages: a repeated title line is kept, a page number is dropped.
        var two = (1...2).map { n in page(n, [("Same Heading", 20), ("text", 300), ("- \(n) -", 770)]) }
        RunningHeaders.mark(&two)
        #expect(two.allSatisfy { !$0.lines[0].isFurniture && $0.lines[2].isFurniture })
    }

    @Test func chunking() {
        let text = "First paragraph is here.\n\nSecond one follows it. It has two sentences.\n\nThird."
        let pieces = Chunking(size: 40, overlap: 0).split(text)
        #expect(pieces == ["First paragraph is here.", "Second one follows it.", "It has two sentences.\n\nThird."])
        #expect(pieces.allSatisfy { $0.unicodeScalars.count <= 40 })
        let overlapping = Chunking(size: 30, overlap: 10).split("alpha beta gamma delta epsilon zeta eta theta iota kappa")
        #expect(overlapping.allSatisfy { $0.unicodeScalars.count <= 30 })
        #expect(overlapping.count >= 3)
        for (a, b) in zip(overlapping, overlapping.dropFirst()) {
            // Each chunk starts with a word the previous one ended with.
            #expect(a.split(separator: " ").contains(b.split(separator: " ")[0]))
        }
        // A word longer than the chunk is cut, and progress is always made.
        let long = Chunking(size: 4, overlap: 3).split("abcdefghij")
        #expect(long.joined().count >= 10 && long.count <= 10)
        #expect(Chunking(size: 10, overlap: 0).split("") == [])
    }

    @Test func globs() {
        #expect(Glob("*.pdf").matches(relativePath: "a/b/c.pdf"))
        #expect(!Glob("*.pdf").matches(relativePath: "a/b/c.pdfx"))
        #expect(Glob("reports/*.pdf").matches(relativePath: "reports/q1.pdf"))
        #expect(!Glob("reports/*.pdf").matches(relativePath: "reports/old/q1.pdf"))
        #expect(Glob("reports/**/*.pdf").matches(relativePath: "reports/old/q1.pdf"))
        #expect(Glob("reports/**/*.pdf").matches(relativePath: "reports/q1.pdf"))
        #expect(Glob("**/drafts/**").matches(relativePath: "x/drafts/y/z.md"))
        #expect(Glob("drafts").matches(relativePath: "a/drafts"))
        #expect(Glob("file-[0-9]?.txt").matches(relativePath: "file-3a.txt"))
        #expect(!Glob("file-[!0-9].txt").matches(relativePath: "file-3.txt"))
        #expect(Glob("\\*.md").matches(relativePath: "*.md"))
    }

    @Test func records() {
        let doc = ExtractedDocument(format: .pdf, title: "T \"q\"", text: "one two three four", pageCount: 3,
                                    meta: [("z", .int(1)), ("a", .bool(true))])
        let r = DocumentRecord.records(for: doc, sha256: "abc", source: "d/x.pdf", perPage: false, chunking: Chunking(size: 9, overlap: 0))
        #expect(r.map(\.id) == ["abc:c0", "abc:c1", "abc:c2"])
        #expect(r.map(\.text) == ["one two", "three", "four"])
        #expect(r[0].jsonLine() == #"{"chunk":0,"format":"pdf","id":"abc:c0","meta":{"a":true,"z":1},"pages":3,"source":"d/x.pdf","text":"one two","title":"T \"q\""}"#)
    }

    @Test func sniffing() throws {
        #expect(DocumentFormat.sniff(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(DocumentFormat.sniff(Array("  <!DOCTYPE html><html>".utf8)) == .html)
        #expect(DocumentFormat.sniff(Array("just words".utf8)) == nil)
        #expect(try Extractor.detectFormat(path: "notes", head: Array("plain".utf8), isStdin: false, explicit: true) == .text)
        #expect(throws: ExtractionError.self) { try Extractor.detectFormat(path: "x.bin", head: [0, 1, 2, 0xFF, 0x10, 0, 0, 0, 0xFE, 0x7F, 0, 3], isStdin: false, explicit: true) }
    }
}

/// HTML: what main-content mode keeps and drops, and the Markdown it writes.
@Suite struct HTMLTests {
    static let page = """
        <!DOCTYPE html><html><head><title> A  page </title><style>p { color: red }</style>
        <script>var x = "<p>not text</p>";</script></head><body>
        <header><div class="logo">Site name</div><ul><li><a href="/">Home</a></li><li><a href="/a">About</a></li></ul></header>
        <nav><a href="/1">One</a> <a href="/2">Two</a></nav>
        <div class="sidebar-left">Sidebar text</div>
        <main>
          <h1>Title  here</h1>
          <p>First <b>bold</b>   paragraph,
             wrapped.<br>Second line.</p>
          <div class="share-buttons"><a href="#">Share</a></div>
          <ol start="3"><li>three</li><li>four<ul><li>nested</li></ul></li></ol>
          <blockquote><p>Quoted words.</p></blockquote>
          <pre>  code   stays
            as is</pre>
          <table><tr><th>Food</th><th>Calories</th></tr><tr><td>Leaves</td><td>50</td></tr></table>
          <p hidden>hidden text</p><p style="display: none">invisible</p>
          <ul class="links"><li><a href="/x">x link</a></li><li><a href="/y">y link</a></li><li><a href="/z">z link</a></li></ul>
        </main>
        <aside>Aside text</aside><footer>Footer text</footer>
        </body></html>
        """

    func convert(_ mode: HTMLContent) throws -> (String, String?) {
        try HTMLExtractor.convert(html: Self.page, mode: mode)
    }

    @Test func mainContent() throws {
        let (text, title) = try convert(.main)
        #expect(title == "A page")
        #expect(text == """
            # Title here

            First bold paragraph, wrapped.
            Second line.

            3. three
            4. four
              - nested

            > Quoted words.

            ```
              code   stays
                as is
            ```

            | Food | Calories |
            | --- | --- |
            | Leaves | 50 |
            """)
    }

    @Test func allContentKeepsChromeButNotNavAsideFooterOrScripts() throws {
        let (text, _) = try convert(.all)
        #expect(text.contains("Site name") && text.contains("Sidebar text") && text.contains("Share") && text.contains("x link"))
        for dropped in ["One", "Aside text", "Footer text", "not text", "color", "hidden text", "invisible"] {
            #expect(!text.contains(dropped), "\(dropped)")
        }
    }

    @Test func charsetFoundAfterALongScript() {
        let html = Array(("<script>" + String(repeating: "x", count: 5000) + "</script><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">").utf8)
        #expect(HTMLExtractor.declaredCharset(html) == "windows-1251")
        #expect(HTMLExtractor.declaredCharset(Array("<?xml version='1.0' encoding='ISO-8859-1'?><html/>".utf8)) == "iso-8859-1")
        #expect(HTMLExtractor.declaredCharset(Array("<meta charset=\"utf-8\">".utf8)) == "utf-8")
    }
}
