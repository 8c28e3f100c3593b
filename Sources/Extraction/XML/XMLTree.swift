import CLibXML2
import Foundation

/// A parsed libxml2 document (XML or HTML), freed in `deinit`. Nodes borrowed from it (`XNode`)
/// must not outlive it.
final class XTree {
    let document: xmlDocPtr

    private init(_ document: xmlDocPtr) { self.document = document }

    deinit { xmlFreeDoc(document) }

    /// Called once before any parsing (libxml2 wants its globals set up before threads use it).
    static let initialize: Void = { xmlInitParser() }()

    /// Parses HTML with libxml2's HTML parser, which recovers from broken markup as browsers do.
    /// `utf8` must already be UTF-8 (the caller decodes the bytes).
    static func html(_ utf8: [UInt8]) -> XTree? {
        _ = initialize
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        let doc: htmlDocPtr? = utf8.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return nil }
            return htmlReadMemory(base.assumingMemoryBound(to: CChar.self), Int32(clamping: raw.count), nil, "UTF-8", options)
        }
        return doc.map { XTree($0) }
    }

    /// Parses XML without fetching anything from the network and without expanding external
    /// entities; with `recover`, markup errors are skipped instead of failing the parse.
    static func xml(_ bytes: [UInt8], recover: Bool) -> XTree? {
        _ = initialize
        var options = XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_COMPACT.rawValue
        if recover { options |= XML_PARSE_RECOVER.rawValue }
        let doc: xmlDocPtr? = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return nil }
            return xmlReadMemory(base.assumingMemoryBound(to: CChar.self), Int32(clamping: raw.count), nil, nil, Int32(options))
        }
        return doc.map { XTree($0) }
    }

    var root: XNode? {
        xmlDocGetRootElement(document).map { XNode($0, owner: self) }
    }
}

/// A view of one libxml2 node. It holds its tree, so the tree lives as long as any node of it is
/// in use (Swift may release a local the moment after its last use, which would otherwise free the
/// document under a node still being read).
struct XNode {
    let pointer: xmlNodePtr
    let owner: XTree

    init(_ pointer: xmlNodePtr, owner: XTree) {
        self.pointer = pointer
        self.owner = owner
    }

    var isElement: Bool { pointer.pointee.type == XML_ELEMENT_NODE }
    var isText: Bool { pointer.pointee.type == XML_TEXT_NODE || pointer.pointee.type == XML_CDATA_SECTION_NODE }

    /// The local name (no prefix), lowercased for HTML's sake.
    var name: String {
        guard let raw = pointer.pointee.name else { return "" }
        return String(cString: raw).lowercased()
    }

    /// The local name as written (XML names are case-sensitive: `w:tblPr`, `rootfile`).
    var localName: String {
        guard let raw = pointer.pointee.name else { return "" }
        return String(cString: raw)
    }

    /// The namespace URI, if the element has one.
    var namespace: String? {
        guard let ns = pointer.pointee.ns, let href = ns.pointee.href else { return nil }
        return String(cString: href)
    }

    /// The text of a text or CDATA node.
    var content: String {
        guard let raw = pointer.pointee.content else { return "" }
        return String(cString: raw)
    }

    var children: XChildren { XChildren(first: pointer.pointee.children, owner: owner) }

    /// The value of the attribute whose local name is `name` (any namespace; HTML names compared
    /// without case).
    func attribute(_ name: String) -> String? {
        var attr = pointer.pointee.properties
        while let a = attr {
            if let raw = a.pointee.name, String(cString: raw).caseInsensitiveCompare(name) == .orderedSame {
                var value = ""
                var child = a.pointee.children
                while let c = child {
                    if let content = c.pointee.content { value += String(cString: content) }
                    child = c.pointee.next
                }
                return value
            }
            attr = a.pointee.next
        }
        return nil
    }

    /// Child elements, in order.
    var elements: [XNode] { children.filter(\.isElement) }

    /// The first child element named `localName`.
    func child(_ localName: String) -> XNode? {
        children.first { $0.isElement && $0.localName == localName }
    }

    /// Every descendant element named `localName`, in document order.
    func descendants(_ localName: String) -> [XNode] {
        var out: [XNode] = []
        func visit(_ node: XNode) {
            for child in node.children where child.isElement {
                if child.localName == localName { out.append(child) }
                visit(child)
            }
        }
        visit(self)
        return out
    }

    /// All text below this node, concatenated.
    var textContent: String {
        var out = ""
        func visit(_ node: XNode) {
            for child in node.children {
                if child.isText { out += child.content } else if child.isElement { visit(child) }
            }
        }
        visit(self)
        return out
    }
}

struct XChildren: Sequence {
    let first: xmlNodePtr?
    let owner: XTree

    struct Iterator: IteratorProtocol {
        var current: xmlNodePtr?
        let owner: XTree

        mutating func next() -> XNode? {
            guard let node = current else { return nil }
            current = node.pointee.next
            return XNode(node, owner: owner)
        }
    }

    func makeIterator() -> Iterator { Iterator(current: first, owner: owner) }
}
