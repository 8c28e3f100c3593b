import Foundation
import Shared

/// EPUB 2 and 3 → Markdown-style text: the package document named by META-INF/container.xml
/// gives the title and the spine, and each XHTML document of the spine is read in order with the
/// HTML converter (headings, lists, tables, verse line breaks kept; nav elements dropped).
enum EPUBExtractor {
    static func extract(path: String, data: [UInt8]?, options: ExtractionOptions) throws -> ExtractedDocument {
        let zip = try ZipArchive(path: path, data: data, kind: "EPUB", maxInflatedBytes: options.maxInflatedBytes,
                                 maxEntries: options.maxZipEntries)
        let opfPath = try packagePath(zip)
        guard let opfBytes = try zip.read(opfPath), let opf = XTree.xml(opfBytes, recover: true), let package = opf.root else {
            throw ExtractionError(.damaged, "corrupt EPUB: the package document \(opfPath) is missing or not XML")
        }
        let base = (opfPath as NSString).deletingLastPathComponent
        var title = package.descendants("metadata").first?.descendants("title").first?.textContent
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if title?.isEmpty == true { title = nil }

        var manifest: [String: (href: String, type: String)] = [:]
        for item in package.descendants("item") {
            guard let id = item.attribute("id"), let href = item.attribute("href") else { continue }
            manifest[id] = (resolve(href, base: base), item.attribute("media-type") ?? "")
        }
        var spine: [String] = []
        for itemref in package.descendants("itemref") {
            guard let id = itemref.attribute("idref"), let item = manifest[id] else { continue }
            guard item.type.contains("html") || item.href.hasSuffix(".xhtml") || item.href.hasSuffix(".html") else { continue }
            spine.append(item.href)
        }
        guard !spine.isEmpty else {
            throw ExtractionError(.damaged, "corrupt EPUB: the spine of \(opfPath) lists no XHTML documents")
        }

        var parts: [String] = []
        var missing: [String] = []
        var matter = Set<String>()
        for href in spine {
            guard let bytes = try zip.read(href) else { missing.append(href); continue }
            let blocks: [Block]
            if let tree = XTree.xml(bytes, recover: false), let root = tree.root {
                blocks = HTMLConverter.convert(root: root, mode: .all).blocks
                matter.formUnion(Self.matterTypes(root))
            } else {
                let decoded = try TextDecoding.decode(bytes, declared: HTMLExtractor.declaredCharset(bytes))
                guard let tree = XTree.html(Array(decoded.text.utf8)), let root = tree.root else { continue }
                blocks = HTMLConverter.convert(root: root, mode: .all).blocks
            }
            parts.append(BlockWriter.render(blocks))
        }
        let text = TextCleanup.clean(TextCleanup.joinBlocks(parts))
        var warnings: [String] = []
        if !missing.isEmpty {
            warnings.append("the spine names \(missing.count) document\(missing.count == 1 ? "" : "s") missing from the container: \(missing.prefix(3).joined(separator: ", "))")
        }
        var meta: [(String, JSONValue)] = [("spine_documents", .int(spine.count))]
        if !matter.isEmpty { meta.append(("epub_matter", .array(matter.sorted().map { .string($0) }))) }
        return ExtractedDocument(format: .epub, title: title.map(TextCleanup.clean), text: text, meta: meta, warnings: warnings)
    }

    /// Publisher's front and back matter kept in the text (EPUB 3 structural semantics, `epub:type`
    /// on the body or its sections): imprint, colophon, copyright page, title pages, table of
    /// contents. The text keeps them, as pandoc does; `meta.epub_matter` names them so that a
    /// consumer can tell.
    static func matterTypes(_ root: XNode) -> Set<String> {
        let known: Set<String> = ["imprint", "colophon", "copyright-page", "titlepage", "halftitlepage", "toc",
                                  "landmarks", "loi", "lot", "uncopyright", "acknowledgments", "frontmatter", "backmatter"]
        var found = Set<String>()
        var stack = root.descendants("body")
        var depth = 0
        while !stack.isEmpty && depth < 3 {
            var next: [XNode] = []
            for node in stack {
                if let types = node.attribute("type") {
                    for t in types.split(separator: " ") where known.contains(String(t)) { found.insert(String(t)) }
                }
                next += node.elements.filter { ["section", "article", "div", "nav"].contains($0.name) }
            }
            stack = next
            depth += 1
        }
        return found
    }

    /// The package document's path from META-INF/container.xml, or the first `.opf` in the archive.
    static func packagePath(_ zip: ZipArchive) throws -> String {
        if let container = try zip.read("META-INF/container.xml"), let tree = XTree.xml(container, recover: true),
           let root = tree.root, let path = root.descendants("rootfile").first?.attribute("full-path"), !path.isEmpty {
            return path
        }
        if let opf = zip.names.first(where: { $0.lowercased().hasSuffix(".opf") }) { return opf }
        throw ExtractionError(.damaged, "corrupt EPUB: no META-INF/container.xml and no package document (.opf)")
    }

    /// An href of the package document → a path inside the archive (percent-decoded, `..` resolved,
    /// fragment dropped).
    static func resolve(_ href: String, base: String) -> String {
        var h = href
        if let hash = h.firstIndex(of: "#") { h = String(h[..<hash]) }
        h = h.removingPercentEncoding ?? h
        var parts: [Substring] = base.isEmpty ? [] : base.split(separator: "/")
        for component in h.split(separator: "/") {
            if component == ".." { if !parts.isEmpty { parts.removeLast() } } else if component != "." { parts.append(component) }
        }
        return parts.joined(separator: "/")
    }
}
