import Extraction
import Foundation
import Testing
import TestSupport

/// PDFs written here object by object, for cases the corpus lacks: a document where only some
/// pages are scanned, and one of blank pages.
@Suite struct HandMadePDFTests {
    enum Page {
        /// Lines of text (Helvetica 12 pt) from the top of the page down.
        case text([String])
        /// A full-page grey image and no text, as a scanner makes.
        case image
        case blank
    }

    /// A minimal PDF 1.4 with a correct cross-reference table.
    static func pdf(_ pages: [Page]) -> Data {
        var objects: [String] = []
        // 1: catalog, 2: page tree, 3: font, 4: image; then a page and its content per page.
        let pageIds = pages.indices.map { 5 + 2 * $0 }
        objects.append("<< /Type /Catalog /Pages 2 0 R >>")
        objects.append("<< /Type /Pages /Kids [\(pageIds.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>")
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        let pixels = String(repeating: "7F", count: 16)
        objects.append("<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /ASCIIHexDecode /Length \(pixels.count + 1) >>\nstream\n\(pixels)>\nendstream")
        for (i, page) in pages.enumerated() {
            var content = ""
            switch page {
            case .text(let lines):
                content = "BT /F1 12 Tf 14 TL 72 720 Td " + lines.map { "(\($0)) Tj T* " }.joined() + "ET"
            case .image:
                content = "q 612 0 0 792 0 0 cm /Im1 Do Q"
            case .blank:
                content = ""
            }
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >> /Contents \(pageIds[i] + 1) 0 R >>")
            objects.append("<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream")
        }
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (i, body) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(i + 1) 0 obj\n\(body)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(format: "%010d 00000 n \n", offset) }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(out.utf8)
    }

    func write(_ pages: [Page]) throws -> (URL, String) {
        let dir = try Fixtures.temporaryDirectory("lf-pdf")
        let path = dir.appendingPathComponent("made.pdf").path
        try Self.pdf(pages).write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    @Test func someScannedPagesAreListedAndTheRestExtracted() throws {
        let (dir, path) = try write([.text(["First page text."]), .image, .text(["Third page text."]), .image])
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = ExtractionOptions()
        options.perPage = true
        let r = try Extractor.extract(InputFile(path: path, explicit: true), options: options)
        #expect(r.document.pageCount == 4)
        #expect(r.document.text == "First page text.\n\nThird page text.")
        #expect(r.document.pages.filter { !$0.text.isEmpty }.map(\.number) == [1, 3])
        #expect(r.document.meta.contains { $0.0 == "needs_ocr_pages" && $0.1 == .array([.int(2), .int(4)]) })
        #expect(r.document.warnings == ["pages 2, 4 have no text layer (scanned?): needs OCR; the text of the other pages is extracted"])

        let cli = try Tools.run("lf-extract", ["--per-page", "--json", path])
        #expect(cli.status == 0)
        #expect(cli.stdout.split(separator: "\n").count == 2)
        #expect(cli.stderr.contains("made.pdf: pages 2, 4 have no text layer"))
        #expect(cli.stderr.contains(#""needs_ocr":[{"source":"\#(path)","pages":[2,4]}]"#))
    }

    @Test func onlyScannedPagesFailWithTheirNumbers() throws {
        let (dir, path) = try write([.image, .blank, .image])
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Extractor.extract(InputFile(path: path, explicit: true), options: ExtractionOptions())
            Issue.record("an image-only PDF must not give a record")
        } catch let e as ExtractionError {
            #expect(e.kind == .needsOCR)
            #expect(e.pages == [1, 3])
            #expect(e.message == "no extractable text: image-only (scanned) PDF, pages 1, 3 of 3 (the others are blank) need OCR (no text layer on pages 1, 3)")
        }
    }

    @Test func blankPagesAreEmptyNotAFailure() throws {
        let (dir, path) = try write([.blank, .blank])
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = try Tools.run("lf-extract", ["--json", path])
        #expect(cli.status == 0)
        #expect(cli.stdout.isEmpty)
        #expect(cli.stderr.contains("no text: the PDF's 2 pages are blank"))
        #expect(cli.stderr.contains(#""empty":1"#))
    }

    @Test func runningHeadersAndPageNumbersOfAMadeDocument() throws {
        let words = ["one", "two", "three", "four"]
        let pages: [Page] = (1...4).map { n in .text(["Quarterly Report 2024", "", "", "Body of page \(words[n - 1]) says something", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "- \(n) -"]) }
        let (dir, path) = try write(pages)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try Extractor.extract(InputFile(path: path, explicit: true), options: ExtractionOptions()).document.text
        #expect(!text.contains("Quarterly Report"))
        #expect(!text.contains("- 2 -"))
        #expect(text.contains("Body of page three says something"))
        var keep = ExtractionOptions()
        keep.removeRunningHeaders = false
        let kept = try Extractor.extract(InputFile(path: path, explicit: true), options: keep).document.text
        #expect(kept.components(separatedBy: "Quarterly Report 2024").count == 5)
    }
}
