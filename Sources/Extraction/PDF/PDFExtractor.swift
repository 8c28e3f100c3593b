import CPoppler
import Foundation
import Shared

/// PDF → text through poppler-glib: poppler's reading order, then running headers and footers
/// dropped, lines grouped into paragraphs and reflowed, hyphenation undone, ligatures expanded.
enum PDFExtractor {
    static func extract(path: String, data: [UInt8]?, options: ExtractionOptions) throws -> ExtractedDocument {
        let document = try PopplerDocument(path: path, data: data, password: options.password)
        let pageCount = document.pageCount
        guard pageCount > 0 else {
            throw ExtractionError(.damaged, "damaged or truncated PDF: no pages (the page tree or the trailer is missing)",
                                  hint: "the file may be incomplete (an interrupted download); fetch it again")
        }
        var pages: [PDFPageLines] = []
        pages.reserveCapacity(pageCount)
        for index in 0..<pageCount {
            guard let page = document.page(index) else {
                pages.append(PDFPageLines(number: index + 1, width: 0, height: 0, lines: [], imageCount: 0))
                continue
            }
            let size = page.size
            var entry = PDFPageLines(number: index + 1, width: size.width, height: size.height, lines: page.lines(), imageCount: 0)
            // Images are counted only where there is (almost) no text: that is where they matter.
            if entry.characterCount < Self.littleText { entry.imageCount = page.imageCount }
            pages.append(entry)
        }

        // Pages without a text layer: scanned (an image and no text) or blank.
        let textless = pages.filter { $0.characterCount == 0 }
        let needsOCR = textless.filter { $0.imageCount > 0 }.map(\.number)
        if textless.count == pages.count {
            if !needsOCR.isEmpty {
                let what = needsOCR.count == pageCount
                    ? (pageCount == 1 ? "its only page" : "all \(pageCount) pages")
                    : "page\(needsOCR.count == 1 ? "" : "s") \(pageRanges(needsOCR)) of \(pageCount) (the others are blank)"
                throw ExtractionError(.needsOCR, "no extractable text: image-only (scanned) PDF, \(what) need\(needsOCR.count == 1 ? "s" : "") OCR (no text layer on page\(needsOCR.count == 1 ? "" : "s") \(pageRanges(needsOCR)))",
                                      hint: "run OCR first (for example ocrmypdf) and extract the result", pages: needsOCR)
            }
            throw ExtractionError(.empty, "no text: the PDF's \(pageCount) page\(pageCount == 1 ? " is" : "s are") blank",
                                  hint: "nothing to extract; leave the file out")
        }

        var warnings: [String] = []
        var meta: [(String, JSONValue)] = []
        if !needsOCR.isEmpty {
            warnings.append("page\(needsOCR.count == 1 ? "" : "s") \(pageRanges(needsOCR)) ha\(needsOCR.count == 1 ? "s" : "ve") no text layer (scanned?): needs OCR; the text of the other pages is extracted")
            meta.append(("needs_ocr_pages", .array(needsOCR.map { .int($0) })))
        }
        // A scan with a thin OCR layer (a word or two over a full-page image) is extracted, and said.
        let thin = pages.filter { $0.characterCount > 0 && $0.characterCount < Self.littleText && $0.imageCount > 0 }.map(\.number)
        if !thin.isEmpty {
            warnings.append("page\(thin.count == 1 ? "" : "s") \(pageRanges(thin)) ha\(thin.count == 1 ? "s" : "ve") an image and almost no text (a scan with a partial text layer?); OCR may find more")
            meta.append(("little_text_pages", .array(thin.map { .int($0) })))
        }
        let fullPermissions = POPPLER_PERMISSIONS_FULL.rawValue
        if document.permissions & fullPermissions != fullPermissions {
            meta.append(("permissions_restricted", .bool(true)))
        }

        if options.removeRunningHeaders {
            RunningHeaders.mark(&pages)
        }

        var hyphenation = Hyphenation()
        for page in pages { for line in page.lines { hyphenation.learn(line.scalars) } }
        let bodyHeight = Self.bodyHeight(pages)
        let linePitch = Self.linePitch(pages)
        let pageBlocks = pages.map { PDFParagraphs.group($0.lines, bodyHeight: bodyHeight, linePitch: linePitch) }
        let headingLevels = Self.headingLevels(pageBlocks)

        let pageTexts: [PageText]
        if options.perPage {
            pageTexts = pages.indices.map { i in
                PageText(number: pages[i].number,
                         text: render(pageBlocks[i], hyphenation: hyphenation, headingLevels: headingLevels))
            }
        } else {
            pageTexts = []
        }
        // The whole text: a paragraph cut by a page break is joined again.
        let text = render(Self.joinAcrossPages(pageBlocks), hyphenation: hyphenation, headingLevels: headingLevels)
        var title = document.title.map { TextCleanup.clean($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        if title?.isEmpty == true { title = nil }
        return ExtractedDocument(format: .pdf, title: title, text: text, pages: pageTexts, pageCount: pageCount,
                                 meta: meta, warnings: warnings)
    }

    /// Fewer visible characters than this on a page with an image: the page is mostly a picture.
    static let littleText = 20

    /// The most common line height, weighted by characters: the body text's size.
    static func bodyHeight(_ pages: [PDFPageLines]) -> Double {
        var histogram: [Int: Int] = [:]
        for page in pages {
            for line in page.lines where !line.isFurniture {
                histogram[Int((line.height * 2).rounded()), default: 0] += line.scalars.count
            }
        }
        guard let best = histogram.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else { return 0 }
        return Double(best.key) / 2
    }

    /// The most common distance between consecutive lines of the same size that overlap
    /// horizontally, in line heights: 1.2 or so for single-spaced text, 2 or more for double spacing.
    static func linePitch(_ pages: [PDFPageLines]) -> Double {
        var histogram: [Int: Int] = [:]
        for page in pages {
            let lines = page.lines.filter { !$0.isFurniture }
            for (a, b) in zip(lines, lines.dropFirst()) {
                let h = max(a.height, b.height)
                guard h > 0, abs(a.height - b.height) < 0.1 * h, b.x1 < a.x2, a.x1 < b.x2 else { continue }
                let ratio = (b.y1 - a.y1) / h
                guard ratio > 0.8 && ratio < 4 else { continue }
                histogram[Int((ratio * 20).rounded()), default: 0] += 1
            }
        }
        guard let best = histogram.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }),
              best.value >= 3 else { return 1.2 }
        return Double(best.key) / 20
    }

    /// Heading sizes, largest first, mapped to Markdown levels 1…4.
    static func headingLevels(_ pageBlocks: [[PDFBlock]]) -> [Int: Int] {
        var sizes = Set<Int>()
        for blocks in pageBlocks { for block in blocks where block.kind == .heading { sizes.insert(Int(block.height.rounded())) } }
        var levels: [Int: Int] = [:]
        for (i, size) in sizes.sorted(by: >).enumerated() { levels[size] = min(i + 1, 4) }
        return levels
    }

    /// The blocks of all pages in order, with a text block that runs on to the next page merged
    /// with its continuation: it ends without a sentence end, and the next page starts in lowercase
    /// or its own last line ran to the right margin (the sentence was cut by the page break).
    static func joinAcrossPages(_ pageBlocks: [[PDFBlock]]) -> [PDFBlock] {
        var all: [PDFBlock] = []
        for blocks in pageBlocks {
            for (i, block) in blocks.enumerated() {
                if i == 0, block.kind == .text, let last = all.last, last.kind == .text || last.kind == .listItem,
                   let lastLine = last.lines.last, let end = lastLine.scalars.last(where: { $0 != " " }),
                   !".:!?".unicodeScalars.contains(end),
                   let start = block.lines.first?.scalars.first(where: { $0 != " " }) {
                    let right = last.lines.map(\.x2).max() ?? lastLine.x2
                    let width = right - (last.lines.map(\.x1).min() ?? lastLine.x1)
                    let fullLine = last.lines.count >= 2 && right - lastLine.x2 < 0.05 * width
                    if start.properties.isLowercase || fullLine {
                        all[all.count - 1].lines += block.lines
                        continue
                    }
                }
                all.append(block)
            }
        }
        return all
    }

    /// Dot leaders of forms and tables of contents ("Name ……………………", "Intro ........ 3") become
    /// one ellipsis: the run of dots is layout, not text.
    static func collapseLeaders(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "…" || $0 == "." }) else { return text }
        var out = String.UnicodeScalarView()
        var run: [Unicode.Scalar] = []
        func flush() {
            let dots = run.reduce(0) { $0 + ($1 == "…" ? 3 : 1) }
            if dots >= 6 { out.append("…") } else { out.append(contentsOf: run) }
            run = []
        }
        for s in text.unicodeScalars {
            if s == "…" || s == "." { run.append(s); continue }
            if !run.isEmpty { flush() }
            out.append(s)
        }
        if !run.isEmpty { flush() }
        return String(out)
    }

    static func render(_ blocks: [PDFBlock], hyphenation: Hyphenation, headingLevels: [Int: Int]) -> String {
        var out: [String] = []
        var previousKind: PDFBlock.Kind?
        for block in blocks {
            var scalars: [Unicode.Scalar] = []
            for line in block.lines { hyphenation.append(line.scalars, to: &scalars) }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            var text = collapseLeaders(TextCleanup.collapseSpaces(TextCleanup.clean(String(view))))
            guard !text.isEmpty else { continue }
            switch block.kind {
            case .heading:
                let level = headingLevels[Int(block.height.rounded())] ?? 2
                text = String(repeating: "#", count: level) + " " + text
            case .listItem:
                if let first = text.unicodeScalars.first, "•◦▪■●○‣⁃∙·–*".unicodeScalars.contains(first) {
                    text = "- " + String(String.UnicodeScalarView(text.unicodeScalars.dropFirst())).trimmingCharacters(in: .whitespaces)
                }
            case .text:
                break
            }
            // Items of one list stay on consecutive lines.
            if block.kind == .listItem, previousKind == .listItem, let last = out.popLast() {
                out.append(last + "\n" + text)
            } else {
                out.append(text)
            }
            previousKind = block.kind
        }
        return out.joined(separator: "\n\n")
    }
}
