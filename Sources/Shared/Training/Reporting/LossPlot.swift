import Foundation

/// training_loss.svg: the training loss per logged step, faint as logged and solid as smoothed
/// (LLaMA-Factory's `plot_loss`: its colour, alpha and TensorBoard-style EMA), with the eval loss
/// as points on the same axes. A self-contained SVG (no scripts, fonts or links), so it opens in
/// any browser and diffs as text; the same losses give the same bytes.
public struct LossPlot: Sendable, Equatable {
    public static let fileName = "training_loss.svg"

    public struct Point: Sendable, Equatable {
        public var step: Int
        public var loss: Double
        public init(step: Int, loss: Double) {
            self.step = step
            self.loss = loss
        }
    }

    public var train: [Point]
    public var eval: [Point]
    public var title: String

    public init(train: [Point], eval: [Point], title: String = "training loss") {
        // Non-finite losses (a diverged step) cannot be placed on the axes.
        self.train = train.filter { $0.loss.isFinite }
        self.eval = eval.filter { $0.loss.isFinite }
        self.title = title
    }

    /// The losses of a `log_history` (trainer_state.json), as LLaMA-Factory's `plot_loss` reads them.
    public init(history: [LogEntry], title: String = "training loss") {
        self.init(train: history.compactMap { e in e.loss.map { Point(step: e.step, loss: $0) } },
                  eval: history.compactMap { e in e.evalLoss.map { Point(step: e.step, loss: $0) } },
                  title: title)
    }

    /// LLaMA-Factory's `smooth`: an EMA whose weight grows with the number of points,
    /// 1.8 × (sigmoid(0.05 n) − 0.5), so short runs are barely smoothed.
    public static func smooth(_ values: [Double]) -> [Double] {
        guard var last = values.first else { return [] }
        let weight = 1.8 * (1 / (1 + exp(-0.05 * Double(values.count))) - 0.5)
        return values.map { value in
            last = last * weight + (1 - weight) * value
            return last
        }
    }

    // MARK: Drawing

    static let width = 640.0, height = 480.0
    static let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
    static let blue = "#1f77b4", orange = "#ff7f0e"

    public func svg() -> String {
        let smoothed = Self.smooth(train.map(\.loss))
        let steps = train.map(\.step) + eval.map(\.step)
        let losses = train.map(\.loss) + eval.map(\.loss)
        let xAxis = Axis(low: Double(steps.min() ?? 0), high: Double(steps.max() ?? 1), integers: true)
        let yAxis = Axis(low: losses.min() ?? 0, high: losses.max() ?? 1, integers: false)
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        func x(_ step: Double) -> Double { Self.left + (step - xAxis.low) / (xAxis.high - xAxis.low) * plotWidth }
        func y(_ loss: Double) -> Double { Self.top + (yAxis.high - loss) / (yAxis.high - yAxis.low) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func points(_ pairs: [(Double, Double)]) -> String {
            pairs.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
        }

        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" \
            viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(Self.left + plotWidth / 2))" y="24" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

            """
        // Grid, ticks and tick labels.
        s += "<g id=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
        for t in xAxis.ticks { s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(Self.top))\" x2=\"\(f(x(t)))\" y2=\"\(f(Self.top + plotHeight))\"/>\n" }
        for t in yAxis.ticks { s += "<line x1=\"\(f(Self.left))\" y1=\"\(f(y(t)))\" x2=\"\(f(Self.left + plotWidth))\" y2=\"\(f(y(t)))\"/>\n" }
        s += "</g>\n<g id=\"axes\" stroke=\"black\" stroke-width=\"1\">\n"
        s += "<rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\"/>\n"
        for t in xAxis.ticks { s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(Self.top + plotHeight))\" x2=\"\(f(x(t)))\" y2=\"\(f(Self.top + plotHeight + 5))\"/>\n" }
        for t in yAxis.ticks { s += "<line x1=\"\(f(Self.left - 5))\" y1=\"\(f(y(t)))\" x2=\"\(f(Self.left))\" y2=\"\(f(y(t)))\"/>\n" }
        s += "</g>\n<g id=\"tick-labels\" fill=\"black\">\n"
        for t in xAxis.ticks {
            s += "<text x=\"\(f(x(t)))\" y=\"\(f(Self.top + plotHeight + 19))\" text-anchor=\"middle\">\(xAxis.label(t))</text>\n"
        }
        for t in yAxis.ticks {
            s += "<text x=\"\(f(Self.left - 8))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(yAxis.label(t))</text>\n"
        }
        s += "</g>\n"
        s += "<text x=\"\(f(Self.left + plotWidth / 2))\" y=\"\(f(Self.height - 14))\" text-anchor=\"middle\">step</text>\n"
        s += "<text x=\"18\" y=\"\(f(Self.top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(Self.top + plotHeight / 2)))\">loss</text>\n"

        // The curves.
        if train.isEmpty && eval.isEmpty {
            s += "<text x=\"\(f(Self.left + plotWidth / 2))\" y=\"\(f(Self.top + plotHeight / 2))\" text-anchor=\"middle\" fill=\"#666666\">no loss logged yet</text>\n"
        }
        if !train.isEmpty {
            s += "<polyline id=\"train-original\" fill=\"none\" stroke=\"\(Self.blue)\" stroke-opacity=\"0.4\" stroke-width=\"1.5\" points=\"\(points(train.map { (Double($0.step), $0.loss) }))\"/>\n"
            s += "<polyline id=\"train-smoothed\" fill=\"none\" stroke=\"\(Self.blue)\" stroke-width=\"2\" points=\"\(points(zip(train, smoothed).map { (Double($0.step), $1) }))\"/>\n"
        }
        if !eval.isEmpty {
            s += "<g id=\"eval\" fill=\"\(Self.orange)\">\n"
            s += "<polyline fill=\"none\" stroke=\"\(Self.orange)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\" points=\"\(points(eval.map { (Double($0.step), $0.loss) }))\"/>\n"
            for p in eval { s += "<circle cx=\"\(f(x(Double(p.step))))\" cy=\"\(f(y(p.loss)))\" r=\"3.5\"/>\n" }
            s += "</g>\n"
        }

        // The legend, top right inside the plot.
        var entries: [(label: String, swatch: String)] = []
        if !train.isEmpty {
            entries.append(("original", "stroke=\"\(Self.blue)\" stroke-opacity=\"0.4\" stroke-width=\"1.5\""))
            entries.append(("smoothed", "stroke=\"\(Self.blue)\" stroke-width=\"2\""))
        }
        if !eval.isEmpty { entries.append(("eval", "stroke=\"\(Self.orange)\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"")) }
        if !entries.isEmpty {
            let boxWidth = 110.0, lineHeight = 18.0
            let boxX = Self.left + plotWidth - boxWidth - 8, boxY = Self.top + 8
            s += "<g id=\"legend\">\n"
            s += "<rect x=\"\(f(boxX))\" y=\"\(f(boxY))\" width=\"\(f(boxWidth))\" height=\"\(f(Double(entries.count) * lineHeight + 8))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
            for (i, entry) in entries.enumerated() {
                let rowY = boxY + 4 + lineHeight * (Double(i) + 0.5)
                s += "<line x1=\"\(f(boxX + 8))\" y1=\"\(f(rowY))\" x2=\"\(f(boxX + 38))\" y2=\"\(f(rowY))\" \(entry.swatch)/>\n"
                s += "<text x=\"\(f(boxX + 46))\" y=\"\(f(rowY + 4))\">\(entry.label)</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Writes `directory/training_loss.svg`, atomically.
    public func save(in directory: String) throws {
        try AtomicFile.write(Data(svg().utf8), to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 has no place for most control characters, even escaped.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// An axis with "nice" ticks (1, 2 or 5 × 10^k apart) that cover the data.
    struct Axis {
        var low: Double
        var high: Double
        var step: Double
        var ticks: [Double]
        var decimals: Int

        init(low dataLow: Double, high dataHigh: Double, integers: Bool) {
            var lo = dataLow, hi = dataHigh
            if hi - lo < 1e-12 {
                // One value: give it room on both sides.
                let pad = integers ? 1 : max(abs(lo) * 0.1, 0.1)
                lo -= pad
                hi += pad
            }
            var step = Self.niceStep((hi - lo) / 5)
            if integers { step = max(step.rounded(), 1) }
            let first = (lo / step).rounded(.down) * step
            let last = (hi / step).rounded(.up) * step
            low = first
            high = last
            self.step = step
            ticks = (0...Int(((last - first) / step).rounded())).map { first + Double($0) * step }
            decimals = integers ? 0 : max(0, Int((-log10(step)).rounded(.up)))
        }

        /// 1, 2 or 5 × 10^k, the nearest at or above `raw`.
        static func niceStep(_ raw: Double) -> Double {
            let magnitude = pow(10, (log10(raw)).rounded(.down))
            let fraction = raw / magnitude
            let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
            return nice * magnitude
        }

        func label(_ value: Double) -> String {
            // "-0.00" would read oddly for a tick at zero.
            let v = abs(value) < step / 1e6 ? 0 : value
            return String(format: "%.\(decimals)f", v)
        }
    }
}
