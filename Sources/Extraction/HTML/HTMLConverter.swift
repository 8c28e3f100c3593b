import Foundation

/// An HTML (or XHTML) element tree → Markdown-style blocks.
///
/// Always dropped: script, style, template, noscript, svg, iframe, object, embed, form controls,
/// nav, aside, footer, elements that are hidden (`hidden`, `aria-hidden="true"`, `display:none`)
/// or whose ARIA role is navigation, banner, contentinfo, complementary, search or a menu. In
/// `main` mode also: a page `<header>` without an `<h1>`, elements whose class or id names
/// boilerplate (navbox, sidebar, breadcrumb, cookie, share, …) and link lists (containers whose
/// text is mostly link text); and when the page has one `<main>`, `role="main"` or `<article>`,
/// only that is read.
struct HTMLConverter {
    var mode: HTMLContent
    private var writer = BlockWriter()
    private var listStack: [(ordered: Bool, counter: Int)] = []
    /// The list item whose first paragraph has not been written yet: its depth and marker.
    private var pendingItem: (depth: Int, marker: String)?
    /// Inside a list item after its first paragraph: continuation paragraphs are indented.
    private var itemDepth: Int?
    private var quoteDepth = 0
    private var preDepth = 0
    private var linkStats: [UnsafeMutableRawPointer: (text: Int, links: Int)] = [:]

    init(mode: HTMLContent) { self.mode = mode }

    /// Converts the document whose root element is `root`. Returns the blocks and the `<title>`.
    static func convert(root: XNode, mode: HTMLContent) -> (blocks: [Block], title: String?) {
        var converter = HTMLConverter(mode: mode)
        let title = root.descendants("title").first.map { TextCleanup.collapseSpaces($0.textContent.replacingOccurrences(of: "\n", with: " ")) }
        let body = root.descendants("body").first ?? root
        var start = body
        if mode == .main {
            converter.computeLinkStats(body)
            if let main = converter.mainElement(in: body) { start = main }
        }
        converter.visitChildren(start)
        converter.endBlock()
        return (converter.writer.blocks, title.flatMap { $0.isEmpty ? nil : $0 })
    }

    // MARK: - Choosing and pruning

    static let alwaysDropped: Set<String> = [
        "script", "style", "template", "noscript", "svg", "iframe", "object", "embed", "canvas", "audio", "video",
        "map", "button", "select", "option", "textarea", "input", "nav", "aside", "footer", "head", "title", "link",
        "meta", "dialog", "menu",
    ]

    static let droppedRoles: Set<String> = [
        "navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "toolbar", "dialog", "alert",
    ]

    /// Words in a class or id that mark page chrome rather than content.
    static let boilerplateWords: Set<String> = [
        "nav", "navbar", "navbox", "navigation", "navpanel", "menu", "menubar", "sidebar", "breadcrumb", "breadcrumbs",
        "footer", "cookie", "cookies", "banner", "advert", "advertisement", "ads", "ad", "sponsor", "sponsored", "share",
        "sharing", "social", "related", "promo", "subscribe", "newsletter", "popup", "modal", "skip", "jump", "catlinks",
        "printfooter", "editsection", "noprint", "toolbar", "masthead", "topbar", "pagination", "pager", "widget",
        "comments", "sitesub", "contentsub", "mw-jump-link", "sistersitebox", "authority", "navigation-not-searchable",
    ]

    func isDropped(_ node: XNode, name: String) -> Bool {
        if Self.alwaysDropped.contains(name) { return true }
        if node.attribute("hidden") != nil { return true }
        if node.attribute("aria-hidden")?.lowercased() == "true" { return true }
        if let style = node.attribute("style")?.lowercased().replacingOccurrences(of: " ", with: ""),
           style.contains("display:none") || style.contains("visibility:hidden") {
            return true
        }
        if let role = node.attribute("role")?.lowercased(), Self.droppedRoles.contains(role) { return true }
        guard mode == .main, name != "body", name != "main", name != "article", name != "html" else { return false }
        if name == "header" && node.descendants("h1").isEmpty { return true }
        for attribute in ["class", "id"] {
            guard let value = node.attribute(attribute)?.lowercased() else { continue }
            for token in value.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if Self.boilerplateWords.contains(String(token)) { return true }
                for word in token.split(whereSeparator: { $0 == "-" || $0 == "_" }) where Self.boilerplateWords.contains(String(word)) {
                    return true
                }
            }
        }
        // A link list: a container whose text is nearly all link text.
        if ["ul", "ol", "div", "table", "section", "dl", "p", "span"].contains(name),
           let stats = linkStats[UnsafeMutableRawPointer(node.pointer)], stats.text > 0,
           Double(stats.links) / Double(stats.text) > 0.8, stats.text < 2000 {
            // A single short link in a paragraph is content, not a list.
            if name == "p" || name == "span" { return stats.text < 400 && Double(stats.links) / Double(stats.text) > 0.95 && node.descendants("a").count >= 3 }
            return node.descendants("a").count >= 3
        }
        return false
    }

    /// `<main>`, `role="main"`, or the only `<article>`, when it holds a fair share of the text.
    func mainElement(in body: XNode) -> XNode? {
        var mains: [XNode] = [], articles: [XNode] = []
        func visit(_ node: XNode) {
            for child in node.children where child.isElement {
                let name = child.name
                if name == "main" || child.attribute("role")?.lowercased() == "main" { mains.append(child); continue }
                if name == "article" { articles.append(child); continue }
                visit(child)
            }
        }
        visit(body)
        let total = linkStats[UnsafeMutableRawPointer(body.pointer)]?.text ?? 0
        let candidate = mains.count == 1 ? mains[0] : (mains.isEmpty && articles.count == 1 ? articles[0] : nil)
        guard let candidate, let text = linkStats[UnsafeMutableRawPointer(candidate.pointer)]?.text,
              total == 0 || text * 4 >= total else { return nil }
        return candidate
    }

    /// Text length and link-text length of every element, bottom up.
    private mutating func computeLinkStats(_ node: XNode) {
        @discardableResult
        func visit(_ node: XNode, inLink: Bool) -> (Int, Int) {
            var text = 0, links = 0
            for child in node.children {
                if child.isText {
                    let n = child.content.unicodeScalars.reduce(0) { $0 + ($1.properties.isWhitespace ? 0 : 1) }
                    text += n
                    if inLink { links += n }
                } else if child.isElement {
                    let name = child.name
                    if name == "script" || name == "style" { continue }
                    let (t, l) = visit(child, inLink: inLink || name == "a")
                    text += t
                    links += l
                }
            }
            linkStats[UnsafeMutableRawPointer(node.pointer)] = (text, links)
            return (text, links)
        }
        visit(node, inLink: false)
    }

    // MARK: - Walking

    private mutating func visitChildren(_ node: XNode) {
        for child in node.children {
            if child.isText {
                writer.text(child.content, preformatted: preDepth > 0)
            } else if child.isElement {
                visit(child)
            }
        }
    }

    /// Writes the waiting inline text as the right kind of block.
    private mutating func endBlock() {
        if let item = pendingItem {
            let lines = writer.takeLines()
            guard !lines.isEmpty else { return }
            writer.append(.listItem(depth: item.depth, marker: item.marker, lines: lines, quote: quoteDepth))
            pendingItem = nil
            itemDepth = item.depth
            return
        }
        writer.endParagraph(indent: itemDepth.map { $0 + 1 } ?? 0, quote: quoteDepth)
    }

    private mutating func visit(_ node: XNode) {
        let name = node.name
        if isDropped(node, name: name) { return }
        switch name {
        case "br":
            writer.lineBreak()
        case "h1", "h2", "h3", "h4", "h5", "h6":
            endBlock()
            visitChildren(node)
            let text = writer.takeLines().joined(separator: " ")
            if !text.isEmpty {
                writer.append(.heading(level: Int(String(name.dropFirst())) ?? 2, text: text))
            }
        case "ul", "ol", "dl":
            endBlock()
            var start = 1
            if let s = node.attribute("start").flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { start = s }
            listStack.append((ordered: name == "ol", counter: start))
            let savedItem = itemDepth
            visitChildren(node)
            endBlock()
            listStack.removeLast()
            itemDepth = savedItem
        case "li", "dt", "dd":
            endBlock()
            let depth = max(listStack.count - 1, 0)
            var marker = "-"
            if name == "li", let top = listStack.last, top.ordered {
                marker = "\(top.counter)."
                listStack[listStack.count - 1].counter += 1
            }
            if name == "dt" || name == "dd" {
                // Definition lists: the term as a paragraph, the definition as an item.
                if name == "dt" { visitChildren(node); writer.endParagraph(quote: quoteDepth); return }
            }
            pendingItem = (depth, marker)
            let savedItem = itemDepth
            visitChildren(node)
            endBlock()
            pendingItem = nil
            itemDepth = savedItem
        case "pre":
            endBlock()
            preDepth += 1
            visitChildren(node)
            preDepth -= 1
            let lines = writer.takeLines(preformatted: true)
            let code = lines.joined(separator: "\n")
            if !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                writer.append(.code(language: nil, text: code))
            }
        case "blockquote":
            endBlock()
            quoteDepth += 1
            visitChildren(node)
            endBlock()
            quoteDepth -= 1
        case "table":
            endBlock()
            table(node)
        case "td", "th":
            // Cells of a layout table (data tables are read whole by `table`): the cells of a row
            // run on as one paragraph unless they hold blocks of their own.
            visitChildren(node)
            writer.space()
        case "tr":
            visitChildren(node)
            endBlock()
        case "p", "div", "section", "article", "main", "header", "figure", "figcaption", "address", "center",
             "details", "summary", "fieldset", "legend", "form", "hgroup", "caption", "tbody", "thead", "tfoot", "body",
             "html", "hr", "picture", "search":
            endBlock()
            visitChildren(node)
            endBlock()
        case "img":
            break
        default:
            if preDepth == 0 && (name == "td" || name == "th") { writer.space() }
            visitChildren(node)
        }
    }

    private func blockChildren(_ node: XNode) -> Bool {
        node.children.contains { $0.isElement && ["p", "div", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"].contains($0.name) }
    }

    /// A data table becomes a Markdown table; a layout table (nested tables, or blocks inside the
    /// cells) is read cell by cell as ordinary content.
    private mutating func table(_ node: XNode) {
        var rows: [XNode] = []
        func collectRows(_ n: XNode) {
            for child in n.children where child.isElement {
                switch child.name {
                case "tr": rows.append(child)
                case "thead", "tbody", "tfoot": collectRows(child)
                default: break
                }
            }
        }
        collectRows(node)
        let cellNames: Set<String> = ["td", "th"]
        let isLayout = rows.contains { row in
            row.children.contains { cell in
                cell.isElement && cellNames.contains(cell.name)
                    && (!cell.descendants("table").isEmpty || blockChildren(cell))
            }
        } || rows.count == 0
        if isLayout {
            for child in node.children where child.isElement {
                if child.name == "caption" { visit(child); continue }
                visit(child)
            }
            endBlock()
            return
        }
        var grid: [[String]] = []
        for caption in node.children where caption.isElement && caption.name == "caption" {
            var w = BlockWriter()
            w.text(caption.textContent)
            let text = w.takeLines().joined(separator: " ")
            if !text.isEmpty { writer.append(.paragraph(lines: [text], indent: 0, quote: quoteDepth)) }
        }
        for row in rows {
            var cells: [String] = []
            for cell in row.children where cell.isElement && cellNames.contains(cell.name) && !isDropped(cell, name: cell.name) {
                var w = BlockWriter()
                collectText(cell, into: &w)
                cells.append(w.takeLines().joined(separator: " "))
                let span = cell.attribute("colspan").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 1
                if span > 1 { cells += Array(repeating: "", count: min(span, 50) - 1) }
            }
            if !cells.isEmpty { grid.append(cells) }
        }
        writer.append(.table(rows: grid))
    }

    /// The visible text below `node` as one run (for table cells).
    private func collectText(_ node: XNode, into w: inout BlockWriter) {
        for child in node.children {
            if child.isText {
                w.text(child.content)
            } else if child.isElement {
                let name = child.name
                if isDropped(child, name: name) { continue }
                if name == "br" || name == "p" || name == "div" || name == "li" { w.space() }
                collectText(child, into: &w)
            }
        }
    }
}
