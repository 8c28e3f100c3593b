import Foundation
import Shared

/// DOCX (Office Open XML, ECMA-376) → Markdown-style text: headings from paragraph styles, list
/// items numbered as Word numbers them (numbering.xml), tables as pipe tables, image
/// descriptions in brackets, footnotes and endnotes as Markdown footnotes, tracked deletions left
/// out.
enum DOCXExtractor {
    static func extract(path: String, data: [UInt8]?, options: ExtractionOptions) throws -> ExtractedDocument {
        let zip = try ZipArchive(path: path, data: data, kind: "DOCX", maxInflatedBytes: options.maxInflatedBytes,
                                 maxEntries: options.maxZipEntries)
        let mainPart = try mainDocumentPath(zip)
        guard let documentBytes = try zip.read(mainPart) else {
            throw ExtractionError(.damaged, "corrupt DOCX: the package has no \(mainPart) (not a Word document?)")
        }
        guard let tree = XTree.xml(documentBytes, recover: true), let root = tree.root else {
            throw ExtractionError(.damaged, "corrupt DOCX: \(mainPart) is not well-formed XML")
        }
        let styles = try zip.read("word/styles.xml").flatMap { XTree.xml($0, recover: true) }.map(DOCXStyles.init) ?? DOCXStyles()
        let numbering = try zip.read("word/numbering.xml").flatMap { XTree.xml($0, recover: true) }.map(DOCXNumbering.init) ?? DOCXNumbering()
        var title = try zip.read("docProps/core.xml").flatMap { XTree.xml($0, recover: true) }?.root?
            .descendants("title").first?.textContent.trimmingCharacters(in: .whitespacesAndNewlines)
        if title?.isEmpty == true { title = nil }

        var reader = DOCXBodyReader(styles: styles, numbering: numbering)
        guard let body = root.descendants("body").first else {
            throw ExtractionError(.damaged, "corrupt DOCX: \(mainPart) has no document body")
        }
        reader.readContainer(body)
        // Footnotes and endnotes follow the body as Markdown footnotes, as the references in the
        // text name them ([^1], [^e1]).
        for (part, element, prefix) in [("word/footnotes.xml", "footnote", ""), ("word/endnotes.xml", "endnote", "e")] {
            guard let bytes = try zip.read(part), let notes = XTree.xml(bytes, recover: true), let notesRoot = notes.root else { continue }
            for note in notesRoot.elements where note.localName == element {
                guard let id = note.attribute("id"), (note.attribute("type") ?? "normal") == "normal" else { continue }
                var noteReader = DOCXBodyReader(styles: styles, numbering: reader.numbering)
                noteReader.readContainer(note)
                let text = BlockWriter.render(noteReader.blocks).split(whereSeparator: \.isNewline).joined(separator: " ")
                    .trimmingCharacters(in: .whitespaces)
                if !text.isEmpty { reader.appendNote("[^\(prefix)\(id)]: " + text) }
            }
        }
        let text = TextCleanup.clean(BlockWriter.render(reader.blocks))
        return ExtractedDocument(format: .docx, title: title.map(TextCleanup.clean) ?? reader.titleParagraph, text: text)
    }

    /// The main part named by the package relationships (`_rels/.rels`), normally word/document.xml.
    static func mainDocumentPath(_ zip: ZipArchive) throws -> String {
        guard let rels = try zip.read("_rels/.rels") else {
            if zip.contains("word/document.xml") { return "word/document.xml" }
            throw ExtractionError(.damaged, "corrupt DOCX: no _rels/.rels and no word/document.xml (not an OOXML package)")
        }
        if let tree = XTree.xml(rels, recover: true), let root = tree.root {
            for rel in root.descendants("Relationship") where rel.attribute("Type")?.hasSuffix("/officeDocument") == true {
                if var target = rel.attribute("Target") {
                    while target.hasPrefix("/") { target.removeFirst() }
                    return target
                }
            }
        }
        return "word/document.xml"
    }
}

/// Paragraph styles: which are headings (and at what level) and which are titles.
struct DOCXStyles {
    /// styleId → heading level (1…9), or 0 for the Title style.
    var headingLevel: [String: Int] = [:]

    init() {}

    init(_ tree: XTree) {
        guard let root = tree.root else { return }
        var basedOn: [String: String] = [:]
        for style in root.descendants("style") where style.attribute("type") == "paragraph" {
            guard let id = style.attribute("styleId") else { continue }
            let name = style.child("name")?.attribute("val")?.lowercased() ?? ""
            if let based = style.child("basedOn")?.attribute("val") { basedOn[id] = based }
            if name == "title" {
                headingLevel[id] = 0
            } else if name.hasPrefix("heading "), let n = Int(name.dropFirst(8)), (1...9).contains(n) {
                headingLevel[id] = n
            } else if let outline = style.child("pPr")?.child("outlineLvl")?.attribute("val").flatMap(Int.init), outline < 9 {
                headingLevel[id] = outline + 1
            }
        }
        // Styles based on a heading style are headings of the same level.
        for (id, base) in basedOn where headingLevel[id] == nil {
            var current = base
            var hops = 0
            while headingLevel[current] == nil, let next = basedOn[current], hops < 10 { current = next; hops += 1 }
            if let level = headingLevel[current] { headingLevel[id] = level }
        }
    }
}

/// Word's list numbering: abstract definitions (format and label per level) and the concrete
/// lists (`w:num`) that use them, with the counters that make "1.", "a.", "ii." as Word does.
struct DOCXNumbering {
    struct Level {
        var format = "decimal"
        var text = "%1."
        var start = 1
    }
    private var abstractLevels: [String: [Int: Level]] = [:]
    private var numToAbstract: [String: String] = [:]
    private var startOverrides: [String: [Int: Int]] = [:]
    private var counters: [String: [Int: Int]] = [:]

    init() {}

    init(_ tree: XTree) {
        guard let root = tree.root else { return }
        for abstract in root.descendants("abstractNum") {
            guard let id = abstract.attribute("abstractNumId") else { continue }
            var levels: [Int: Level] = [:]
            for lvl in abstract.elements where lvl.localName == "lvl" {
                guard let ilvl = lvl.attribute("ilvl").flatMap(Int.init) else { continue }
                var level = Level()
                if let f = lvl.child("numFmt")?.attribute("val") { level.format = f }
                if let t = lvl.child("lvlText")?.attribute("val") { level.text = t }
                if let s = lvl.child("start")?.attribute("val").flatMap(Int.init) { level.start = s }
                levels[ilvl] = level
            }
            abstractLevels[id] = levels
        }
        for num in root.descendants("num") {
            guard let id = num.attribute("numId"), let abstract = num.child("abstractNumId")?.attribute("val") else { continue }
            numToAbstract[id] = abstract
            for override in num.elements where override.localName == "lvlOverride" {
                if let ilvl = override.attribute("ilvl").flatMap(Int.init),
                   let start = override.child("startOverride")?.attribute("val").flatMap(Int.init) {
                    startOverrides[id, default: [:]][ilvl] = start
                }
            }
        }
    }

    /// The marker of the next item of list `numId` at `ilvl`, advancing the counters; nil when the
    /// list is unknown or numbering is switched off (`numId` 0).
    mutating func nextMarker(numId: String, ilvl: Int) -> String? {
        guard numId != "0", let abstract = numToAbstract[numId], let levels = abstractLevels[abstract] else { return nil }
        let level = levels[ilvl] ?? Level()
        if level.format == "bullet" { return "-" }
        if level.format == "none" { return nil }
        var c = counters[numId] ?? [:]
        let start = startOverrides[numId]?[ilvl] ?? level.start
        c[ilvl] = (c[ilvl] ?? (start - 1)) + 1
        for deeper in c.keys where deeper > ilvl { c[deeper] = nil }
        counters[numId] = c
        var label = ""
        var chars = Array(level.text)
        var i = 0
        while i < chars.count {
            if chars[i] == "%", i + 1 < chars.count, let k = chars[i + 1].wholeNumberValue, k >= 1 {
                let lvl = k - 1
                let value = c[lvl] ?? (startOverrides[numId]?[lvl] ?? levels[lvl]?.start ?? 1)
                label += Self.format(value, as: levels[lvl]?.format ?? "decimal")
                i += 2
            } else {
                label.append(chars[i])
                i += 1
            }
        }
        chars = []
        let trimmed = label.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    static func format(_ n: Int, as format: String) -> String {
        switch format {
        case "lowerLetter": return letters(n).lowercased()
        case "upperLetter": return letters(n)
        case "lowerRoman": return roman(n).lowercased()
        case "upperRoman": return roman(n)
        default: return String(n)
        }
    }

    /// 1 → A, 26 → Z, 27 → AA (Word repeats the letter).
    static func letters(_ n: Int) -> String {
        guard n >= 1 else { return String(n) }
        let letter = Character(Unicode.Scalar(UInt8(65 + (n - 1) % 26)))
        return String(repeating: letter, count: (n - 1) / 26 + 1)
    }

    static func roman(_ n: Int) -> String {
        guard n >= 1 && n < 4000 else { return String(n) }
        let table: [(Int, String)] = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                                      (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
        var n = n
        var out = ""
        for (value, symbol) in table { while n >= value { out += symbol; n -= value } }
        return out
    }
}

/// Walks `w:body`: paragraphs, tables and content controls, in document order.
struct DOCXBodyReader {
    var styles: DOCXStyles
    var numbering: DOCXNumbering
    private(set) var blocks: [Block] = []
    private(set) var titleParagraph: String?

    init(styles: DOCXStyles, numbering: DOCXNumbering) {
        self.styles = styles
        self.numbering = numbering
    }

    mutating func appendNote(_ text: String) {
        blocks.append(.paragraph(lines: [text], indent: 0, quote: 0))
    }

    mutating func readContainer(_ node: XNode) {
        for child in node.elements {
            switch child.localName {
            case "p": paragraph(child)
            case "tbl": table(child)
            case "sdt": if let content = child.child("sdtContent") { readContainer(content) }
            case "customXml", "ins", "smartTag": readContainer(child)
            default: break
            }
        }
    }

    private mutating func paragraph(_ p: XNode) {
        var writer = BlockWriter()
        var images: [String] = []
        Self.runs(p, into: &writer, images: &images)
        let lines = writer.takeLines()
        for description in images { blocks.append(.paragraph(lines: ["[\(description)]"], indent: 0, quote: 0)) }
        guard !lines.isEmpty else { return }
        let properties = p.child("pPr")
        if let style = properties?.child("pStyle")?.attribute("val"), let level = styles.headingLevel[style] {
            let text = lines.joined(separator: " ")
            if level == 0 {
                if titleParagraph == nil { titleParagraph = text }
                blocks.append(.heading(level: 1, text: text))
            } else {
                blocks.append(.heading(level: level, text: text))
            }
            return
        }
        if let numPr = properties?.child("numPr"), let numId = numPr.child("numId")?.attribute("val") {
            let ilvl = numPr.child("ilvl")?.attribute("val").flatMap(Int.init) ?? 0
            if let marker = numbering.nextMarker(numId: numId, ilvl: ilvl) {
                blocks.append(.listItem(depth: min(ilvl, 8), marker: marker, lines: lines, quote: 0))
                return
            }
        }
        blocks.append(.paragraph(lines: lines, indent: 0, quote: 0))
    }

    /// The text of the runs below `node` (hyperlinks, insertions, fields and content controls
    /// included; deletions and field instructions left out; note references as `[^1]`).
    static func runs(_ node: XNode, into writer: inout BlockWriter, images: inout [String]) {
        for child in node.elements {
            switch child.localName {
            case "t": writer.text(child.textContent, preformatted: true)
            case "tab", "ptab": writer.text(" ")
            case "br", "cr":
                if child.attribute("type") == nil || child.attribute("type") == "textWrapping" { writer.lineBreak() }
            case "noBreakHyphen": writer.text("-", preformatted: true)
            case "footnoteReference", "endnoteReference":
                if let id = child.attribute("id") {
                    writer.text("[^\(child.localName == "endnoteReference" ? "e" : "")\(id)]", preformatted: true)
                }
            case "del", "delText", "instrText", "pPr", "rPr", "fldChar", "commentReference":
                continue
            case "docPr":
                if let d = child.attribute("descr"), !d.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    images.append(d.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " "))
                }
            case "AlternateContent":
                // The same content twice (a DrawingML text box and its VML fallback): read one.
                if let choice = child.child("Choice") ?? child.child("Fallback") { runs(choice, into: &writer, images: &images) }
            case "p":
                // A paragraph inside a text box: its own line.
                writer.lineBreak()
                runs(child, into: &writer, images: &images)
                writer.lineBreak()
            default:
                runs(child, into: &writer, images: &images)
            }
        }
    }

    private mutating func table(_ tbl: XNode) {
        var rows: [[String]] = []
        for tr in tbl.elements where tr.localName == "tr" {
            var cells: [String] = []
            for tc in tr.elements where tc.localName == "tc" || tc.localName == "sdt" {
                let cell = tc.localName == "sdt" ? (tc.child("sdtContent")?.child("tc") ?? tc) : tc
                var cellReader = DOCXBodyReader(styles: styles, numbering: numbering)
                cellReader.readContainer(cell)
                numbering = cellReader.numbering
                let text = BlockWriter.render(cellReader.blocks).replacingOccurrences(of: "\n\n", with: " ")
                    .replacingOccurrences(of: "\n", with: " ")
                cells.append(text)
                let span = cell.child("tcPr")?.child("gridSpan")?.attribute("val").flatMap(Int.init) ?? 1
                if span > 1 { cells += Array(repeating: "", count: min(span, 50) - 1) }
            }
            if !cells.isEmpty { rows.append(cells) }
        }
        blocks.append(.table(rows: rows))
    }
}
