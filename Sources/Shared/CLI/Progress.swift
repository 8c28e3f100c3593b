import Foundation

/// Progress on stderr: a bar redrawn in place on a terminal, plain periodic lines otherwise (cron
/// logs, CI), nothing with `--quiet`.
///
/// The reporter is cheap to call per item: it only formats when a redraw is due.
public final class ProgressReporter: @unchecked Sendable {
    public enum Style: Sendable { case bar, lines, silent }

    public let label: String
    public let total: Int?
    public let unit: String
    public let style: Style
    private let lineInterval: TimeInterval
    private let barInterval: TimeInterval = 0.1
    private let lock = NSLock()
    private var done = 0
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var finished = false
    private var linesPrinted = 0
    private var detail = ""
    private var base = 0

    /// - Parameters:
    ///   - total: the number of units expected, if known (enables percentage and ETA).
    ///   - style: defaults to a bar on a terminal, lines otherwise, silent when `Log.quiet`.
    ///   - lineInterval: seconds between plain lines when stderr is not a terminal.
    public init(_ label: String, total: Int? = nil, unit: String = "items", style: Style? = nil, lineInterval: TimeInterval = 10) {
        self.label = label
        self.total = total
        self.unit = unit
        self.style = style ?? (Log.quiet ? .silent : (Log.stderrIsTerminal ? .bar : .lines))
        self.lineInterval = lineInterval
    }

    public func advance(by n: Int = 1) {
        lock.withLock {
            done += n
            drawIfDue(force: false)
        }
    }

    public func set(_ value: Int) {
        lock.withLock {
            done = value
            drawIfDue(force: false)
        }
    }

    /// Sets the count and a status shown after it (lf-train: loss, learning rate, tokens/s).
    /// `resumedAt`: units done before this process started, left out of the rate and ETA.
    public func set(_ value: Int, detail: String, resumedAt: Int = 0) {
        lock.withLock {
            done = value
            self.detail = detail
            base = resumedAt
            drawIfDue(force: false)
        }
    }

    /// Draws the final state and ends the bar's line. In plain-line mode the final line is printed
    /// only if progress lines were printed before (a short job's own summary line is enough).
    public func finish() {
        lock.withLock {
            guard !finished else { return }
            finished = true
            guard style == .bar || (style == .lines && linesPrinted > 0) else { return }
            let text = render(final: true)
            Log.writeStderr(style == .bar ? "\r\u{1B}[2K" + text + "\n" : text + "\n")
        }
    }

    private func drawIfDue(force: Bool) {
        guard style != .silent, !finished else { return }
        let now = Date()
        let interval = style == .bar ? barInterval : lineInterval
        guard force || now.timeIntervalSince(lastDraw) >= interval else { return }
        // The first plain line waits one interval, so short jobs print only their final line.
        if style == .lines && lastDraw == .distantPast {
            lastDraw = now
            return
        }
        lastDraw = now
        linesPrinted += 1
        let text = render(final: false)
        Log.writeStderr(style == .bar ? "\r\u{1B}[2K" + text : text + "\n")
    }

    /// "label  42% [#####.....] 420/1000 items  12.3 items/s  eta 47s"
    public func render(final: Bool) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - base) / elapsed : 0
        var parts = [label]
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            parts.append(String(format: "%3d%%", Int(fraction * 100)))
            if style == .bar {
                let width = 24
                let filled = Int(fraction * Double(width))
                parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            }
            parts.append("\(done)/\(total) \(unit)")
        } else {
            parts.append("\(done) \(unit)")
        }
        if !detail.isEmpty { parts.append(detail) }
        // Slow units (training steps) read better as seconds per unit.
        parts.append(rate >= 1 || rate == 0 ? String(format: "%.1f %@/s", rate, unit) : String(format: "%.1f s/%@", 1 / rate, String(unit.dropLast(unit.hasSuffix("s") ? 1 : 0))))
        if final {
            parts.append("in " + Self.duration(elapsed))
        } else if let total, rate > 0, done < total {
            parts.append("eta " + Self.duration(Double(total - done) / rate))
        }
        return parts.joined(separator: "  ")
    }

    /// 59s, 4m03s, 2h05m
    public static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
