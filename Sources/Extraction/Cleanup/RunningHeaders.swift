import Foundation

/// Finds running headers, footers and page numbers: lines at the top or bottom of a page whose
/// text (digits ignored) comes back on many pages.
///
/// A line is a candidate when it is among the first or last `edgeLines` lines of its page by
/// position and lies in the top or bottom `edgeFraction` of the page. Its key is its text with
/// every digit run replaced by `#`, lowercased, spaces collapsed, so "Page 3 of 14" and "Page 4 of
/// 14" share a key. A key is furniture when it is at a page edge on at least half of the pages
/// (and on at least 3 pages); a bare page number (`#`, `- # -`, `page #`, `# of #`, a roman
/// numeral) needs only 2 pages.
enum RunningHeaders {
    static let edgeLines = 2
    static let edgeFraction = 0.15

    /// Marks furniture lines in place and returns how many were marked.
    @discardableResult
    static func mark(_ pages: inout [PDFPageLines]) -> Int {
        guard pages.count >= 2 else { return 0 }
        var candidates: [[(line: Int, key: String)]] = []
        var pagesWithKey: [String: Int] = [:]
        for page in pages {
            var found: [(Int, String)] = []
            let order = page.lines.indices.sorted { page.lines[$0].y1 < page.lines[$1].y1 }
            let top = order.prefix(edgeLines).filter { page.lines[$0].y2 <= page.height * edgeFraction }
            let bottom = order.suffix(edgeLines).filter { page.lines[$0].y1 >= page.height * (1 - edgeFraction) }
            var seen = Set<String>()
            for i in Set(top + bottom).sorted() {
                let key = Self.key(page.lines[i].scalars)
                guard !key.isEmpty else { continue }
                found.append((i, key))
                if seen.insert(key).inserted { pagesWithKey[key, default: 0] += 1 }
            }
            candidates.append(found)
        }
        var marked = 0
        let half = (pages.count + 1) / 2
        for (p, found) in candidates.enumerated() {
            for (i, key) in found {
                let n = pagesWithKey[key] ?? 0
                let isFurniture = isPageNumber(key) ? n >= 2 : (n >= 3 && n >= half)
                if isFurniture {
                    pages[p].lines[i].isFurniture = true
                    marked += 1
                }
            }
        }
        return marked
    }

    /// The text with digit runs as `#`, letters lowercased, spaces collapsed.
    static func key(_ scalars: [Unicode.Scalar]) -> String {
        var out = String.UnicodeScalarView()
        var inDigits = false
        var pendingSpace = false
        for s in scalars {
            if s.value >= 0x30 && s.value <= 0x39 {
                if !inDigits {
                    if pendingSpace && !out.isEmpty { out.append(" ") }
                    pendingSpace = false
                    out.append("#")
                }
                inDigits = true
                continue
            }
            inDigits = false
            if s == " " || s == "\t" { pendingSpace = true; continue }
            if pendingSpace && !out.isEmpty { out.append(" ") }
            pendingSpace = false
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
        return String(out)
    }

    /// `#`, `- # -`, `page #`, `# of #`, `#/#`, `p. #`, or a lowercase roman numeral alone.
    static func isPageNumber(_ key: String) -> Bool {
        let stripped = key.filter { $0 != " " && $0 != "-" && $0 != "–" && $0 != "—" && $0 != "|" && $0 != "[" && $0 != "]" }
        if stripped == "#" || stripped == "page#" || stripped == "p.#" || stripped == "#of#" || stripped == "#/#"
            || stripped == "page#of#" || stripped == "page#/#" {
            return true
        }
        return !stripped.isEmpty && stripped.count <= 6 && stripped.allSatisfy { "ivxlc".contains($0) }
    }
}
