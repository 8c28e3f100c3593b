import CPoppler
import Foundation

/// One line of a PDF page in poppler's reading order, with its bounding box in points (origin at
/// the top left, y growing downwards, as poppler's text layout reports it).
struct PDFLine {
    var scalars: [Unicode.Scalar]
    var x1: Double
    var y1: Double
    var x2: Double
    var y2: Double
    /// Set when the line is a running header, footer or page number.
    var isFurniture = false

    /// The line's height, which follows the font size.
    var height: Double { y2 - y1 }

    var string: String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// True when the line holds nothing but spaces.
    var isBlank: Bool { !scalars.contains { $0 != " " && $0 != "\t" } }
}

/// The lines of one page and the page's size.
struct PDFPageLines {
    var number: Int
    var width: Double
    var height: Double
    var lines: [PDFLine]
    var imageCount: Int
    /// Non-space characters on the page.
    var characterCount: Int { lines.reduce(0) { $0 + $1.scalars.reduce(0) { $0 + ($1 == " " ? 0 : 1) } } }
}

extension PopplerPageRef {
    /// The page's text split into lines, each with the box around its characters. poppler gives one
    /// rectangle per character of `poppler_page_get_text`, newlines included, so the two line up.
    func lines() -> [PDFLine] {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return [] }
        var rects: UnsafeMutablePointer<PopplerRectangle>?
        var count: guint = 0
        let haveLayout = poppler_page_get_text_layout(page, &rects, &count) != 0
        defer { if let rects { g_free(rects) } }
        let usable = haveLayout && rects != nil && Int(count) == scalars.count
        var lines: [PDFLine] = []
        var start = 0
        for k in 0...scalars.count where k == scalars.count || scalars[k] == "\n" {
            defer { start = k + 1 }
            guard k > start else { continue }
            var line = PDFLine(scalars: Array(scalars[start..<k]), x1: 0, y1: 0, x2: 0, y2: 0)
            if usable, let r = rects {
                // Horizontally the line spans all its characters; vertically it takes the median
                // top and bottom, so that a superscript footnote mark or a bullet from a symbol
                // font does not make it look like a taller (heading) line.
                var x1 = Double.greatestFiniteMagnitude, x2 = -Double.greatestFiniteMagnitude
                var tops: [Double] = [], bottoms: [Double] = []
                for j in start..<k where scalars[j] != " " {
                    x1 = min(x1, r[j].x1)
                    x2 = max(x2, r[j].x2)
                    tops.append(r[j].y1)
                    bottoms.append(r[j].y2)
                }
                if x1 <= x2 {
                    tops.sort()
                    bottoms.sort()
                    line.x1 = x1
                    line.x2 = x2
                    line.y1 = tops[tops.count / 2]
                    line.y2 = bottoms[bottoms.count / 2]
                }
            } else {
                // Without a layout, fake a single column of equally spaced lines: paragraphs then
                // come from punctuation and line length only.
                line.y1 = Double(lines.count) * 12
                line.y2 = line.y1 + 10
                line.x2 = Double(k - start) * 5
            }
            if !line.isBlank { lines.append(line) }
        }
        return lines
    }

    var size: (width: Double, height: Double) {
        var w = 0.0, h = 0.0
        poppler_page_get_size(page, &w, &h)
        return (w, h)
    }
}
