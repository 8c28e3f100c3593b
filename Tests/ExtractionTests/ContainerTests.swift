import CLibZip
import Extraction
import Foundation
import Testing
import TestSupport

/// DOCX and EPUB containers built here with libzip: structure to Markdown, truncation, and ZIP bombs.
@Suite struct ContainerTests {
    /// Writes a ZIP (deflated entries) with libzip.
    static func makeZip(_ entries: [(String, String)], at path: String) throws {
        var code: Int32 = 0
        guard let archive = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code) else {
            throw ExtractionError(.io, "zip_open failed with \(code)")
        }
        for (name, text) in entries {
            let bytes = Array(text.utf8)
            let copy = malloc(max(bytes.count, 1))!
            bytes.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) } }
            guard let source = zip_source_buffer(archive, copy, zip_uint64_t(bytes.count), 1) else {
                free(copy)
                throw ExtractionError(.io, "zip_source_buffer failed")
            }
            if zip_file_add(archive, name, source, zip_flags_t(ZIP_FL_OVERWRITE)) < 0 {
                zip_source_free(source)
                throw ExtractionError(.io, "zip_file_add failed")
            }
        }
        guard zip_close(archive) == 0 else { throw ExtractionError(.io, "zip_close failed") }
    }

    static let w = #"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#

    static func docx(body: String, numbering: String? = nil) -> [(String, String)] {
        var entries: [(String, String)] = [
            ("[Content_Types].xml", #"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#),
            ("_rels/.rels", #"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#),
            ("word/document.xml", #"<?xml version="1.0"?><w:document \#(w)><w:body>\#(body)</w:body></w:document>"#),
            ("word/styles.xml", #"<?xml version="1.0"?><w:styles \#(w)><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Kop2"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style></w:styles>"#),
            ("docProps/core.xml", #"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Test Title</dc:title></cp:coreProperties>"#),
        ]
        if let numbering { entries.append(("word/numbering.xml", #"<?xml version="1.0"?><w:numbering \#(w)>\#(numbering)</w:numbering>"#)) }
        return entries
    }

    static func p(_ text: String, style: String? = nil, num: (id: Int, level: Int)? = nil) -> String {
        var pPr = ""
        if let style { pPr += #"<w:pStyle w:val="\#(style)"/>"# }
        if let num { pPr += #"<w:numPr><w:ilvl w:val="\#(num.level)"/><w:numId w:val="\#(num.id)"/></w:numPr>"# }
        return "<w:p>" + (pPr.isEmpty ? "" : "<w:pPr>\(pPr)</w:pPr>") + "<w:r><w:t xml:space=\"preserve\">\(text)</w:t></w:r></w:p>"
    }

    static let numbering = """
        <w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>\
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/></w:lvl></w:abstractNum>\
        <w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl></w:abstractNum>\
        <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
        """

    func extract(_ path: String, maxInflated: Int = 512 << 20) throws -> ExtractedDocument {
        var options = ExtractionOptions()
        options.maxInflatedBytes = maxInflated
        return try Extractor.extract(InputFile(path: path, explicit: true), options: options).document
    }

    @Test func docxStructureBecomesMarkdown() throws {
        let dir = try Fixtures.temporaryDirectory("lf-docx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.docx").path
        let body = Self.p("Big Title", style: "Title") + Self.p("Intro", style: "Heading1") + Self.p("Plain paragraph with  two spaces.")
            + Self.p("first", num: (1, 0)) + Self.p("nested", num: (1, 1)) + Self.p("second", num: (1, 0)) + Self.p("dot", num: (2, 0))
            + Self.p("Sub", style: "Kop2")
            + "<w:tbl><w:tr><w:tc>\(Self.p("Food"))</w:tc><w:tc>\(Self.p("Calories"))</w:tc></w:tr><w:tr><w:tc>\(Self.p("Leaves"))</w:tc><w:tc>\(Self.p("50"))</w:tc></w:tr></w:tbl>"
            + "<w:p><w:r><w:t>kept</w:t></w:r><w:del><w:r><w:delText>deleted</w:delText></w:r></w:del><w:r><w:br/><w:t>next line</w:t></w:r></w:p>"
        try Self.makeZip(Self.docx(body: body, numbering: Self.numbering), at: path)
        let doc = try extract(path)
        #expect(doc.title == "Test Title")
        #expect(doc.text == """
            # Big Title

            # Intro

            Plain paragraph with  two spaces.

            1. first
              a) nested
            2. second
            - dot

            ## Sub

            | Food | Calories |
            | --- | --- |
            | Leaves | 50 |

            kept
            next line
            """)
    }

    @Test func docxFootnotesFollowTheBody() throws {
        let dir = try Fixtures.temporaryDirectory("lf-docx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("n.docx").path
        let body = "<w:p><w:r><w:t>Claim</w:t></w:r><w:r><w:footnoteReference w:id=\"2\"/></w:r><w:r><w:t xml:space=\"preserve\"> stands.</w:t></w:r></w:p>"
        var entries = Self.docx(body: body)
        entries.append(("word/footnotes.xml", #"<?xml version="1.0"?><w:footnotes \#(Self.w)><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="2"><w:p><w:r><w:t>The source.</w:t></w:r></w:p></w:footnote></w:footnotes>"#))
        try Self.makeZip(entries, at: path)
        #expect(try extract(path).text == "Claim[^2] stands.\n\n[^2]: The source.")
    }

    @Test func truncatedDocxIsACorruptContainer() throws {
        let dir = try Fixtures.temporaryDirectory("lf-docx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.docx").path
        try Self.makeZip(Self.docx(body: Self.p("hello")), at: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in [bytes.count / 2, bytes.count - 10, 30] {
            let truncated = dir.appendingPathComponent("cut\(cut).docx").path
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: truncated))
            #expect(throws: ExtractionError.self) { try extract(truncated) }
            do { _ = try extract(truncated) } catch let e as ExtractionError {
                #expect(e.kind == .damaged)
                #expect(e.message.contains("corrupt DOCX"))
            }
        }
    }

    @Test func zipBombWithHonestSizeIsRefusedBeforeInflating() throws {
        let dir = try Fixtures.temporaryDirectory("lf-bomb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bomb.docx").path
        let huge = String(repeating: "a", count: 8 << 20)
        try Self.makeZip(Self.docx(body: Self.p(huge)), at: path)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 100_000, "8 MiB of one letter should deflate to a few KiB, got \(size)")
        do {
            _ = try extract(path, maxInflated: 1 << 20)
            Issue.record("a container past the inflation limit must fail")
        } catch let e as ExtractionError {
            #expect(e.kind == .tooLarge)
            #expect(e.message.contains("word/document.xml declares"))
        }
        // With room enough, the same file extracts.
        let doc = try extract(path, maxInflated: 64 << 20)
        #expect(doc.text.count == 8 << 20)
    }

    @Test func zipBombThatLiesAboutItsSizeIsCutOff() throws {
        let dir = try Fixtures.temporaryDirectory("lf-bomb")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("liar.docx").path
        try Self.makeZip(Self.docx(body: Self.p(String(repeating: "b", count: 8 << 20))), at: path)
        // Rewrite the declared uncompressed size of word/document.xml to 1000 bytes, in its local
        // header (offset 22) and its central directory entry (offset 24).
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let name = Array("word/document.xml".utf8)
        var patched = 0
        for i in 0..<(bytes.count - 46) {
            let local = bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 3 && bytes[i + 3] == 4
            let central = bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 1 && bytes[i + 3] == 2
            guard local || central else { continue }
            let nameOffset = i + (local ? 30 : 46)
            guard nameOffset + name.count <= bytes.count, Array(bytes[nameOffset..<nameOffset + name.count]) == name else { continue }
            let sizeOffset = i + (local ? 22 : 24)
            bytes[sizeOffset] = 0xE8; bytes[sizeOffset + 1] = 0x03; bytes[sizeOffset + 2] = 0; bytes[sizeOffset + 3] = 0
            patched += 1
        }
        #expect(patched == 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let start = Date()
        do {
            _ = try extract(path, maxInflated: 1 << 20)
            Issue.record("a lying ZIP bomb must fail")
        } catch let e as ExtractionError {
            // libzip may notice the size mismatch itself (damaged); otherwise the budget stops it.
            #expect(e.kind == .tooLarge || e.kind == .damaged, "\(e)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    static let opf = """
        <?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>A Book</dc:title></metadata>\
        <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="c2" href="text/ch%202.xhtml" media-type="application/xhtml+xml"/>\
        <item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/><item id="css" href="s.css" media-type="text/css"/></manifest>\
        <spine><itemref idref="nav"/><itemref idref="c1"/><itemref idref="c2"/></spine></package>
        """

    @Test func epubSpineOrderAndVerse() throws {
        let dir = try Fixtures.temporaryDirectory("lf-epub")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.epub").path
        let xhtml = #"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title><style>p{}</style></head><body>"#
        try Self.makeZip([
            ("mimetype", "application/epub+zip"),
            ("META-INF/container.xml", #"<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#),
            ("OEBPS/content.opf", Self.opf),
            ("OEBPS/nav.xhtml", xhtml + "<nav><ol><li>Chapter One</li></ol></nav></body></html>"),
            ("OEBPS/text/ch1.xhtml", xhtml + "<h1>Chapter One</h1><p>The cold storms<br/>of winter</p><ul><li>one</li><li>two</li></ul></body></html>"),
            // Not well-formed XML (an HTML entity): read with the HTML parser instead.
            ("OEBPS/text/ch 2.xhtml", xhtml + "<h2>Chapter&nbsp;Two</h2><p>Last<p>words</body></html>"),
        ], at: path)
        let doc = try extract(path)
        #expect(doc.title == "A Book")
        #expect(doc.text == "# Chapter One\n\nThe cold storms\nof winter\n\n- one\n- two\n\n## Chapter Two\n\nLast\n\nwords")
    }

    @Test func epubWithoutSpineIsCorrupt() throws {
        let dir = try Fixtures.temporaryDirectory("lf-epub")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.epub").path
        try Self.makeZip([("mimetype", "application/epub+zip"), ("content.opf", "<package><manifest/><spine/></package>")], at: path)
        do {
            _ = try extract(path)
            Issue.record("an EPUB without a spine must fail")
        } catch let e as ExtractionError {
            #expect(e.kind == .damaged)
        }
    }
}
