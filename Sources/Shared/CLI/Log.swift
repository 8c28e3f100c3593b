import Foundation

/// Logging to stderr, so that stdout stays clean for data in pipelines.
///
/// `--quiet` silences info and warnings; errors are always printed (a failed cron job must say why).
public enum Log {
    public enum Level: Int, Comparable, Sendable {
        case debug = 0, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var _threshold: Level = .info
    nonisolated(unsafe) private static var _quiet = false

    /// The lowest level printed (`.debug` for `--verbose`).
    public static var threshold: Level {
        get { lock.withLock { _threshold } }
        set { lock.withLock { _threshold = newValue } }
    }

    /// Set by `--quiet`: only errors are printed, and progress is silent.
    public static var quiet: Bool {
        get { lock.withLock { _quiet } }
        set { lock.withLock { _quiet = newValue } }
    }

    public static func debug(_ message: @autoclosure () -> String) { emit(.debug, message) }
    public static func info(_ message: @autoclosure () -> String) { emit(.info, message) }
    public static func warning(_ message: @autoclosure () -> String) { emit(.warning, { "warning: " + message() }) }
    public static func error(_ message: @autoclosure () -> String) { emit(.error, message) }

    private static func emit(_ level: Level, _ message: () -> String) {
        let (threshold, quiet) = lock.withLock { (_threshold, _quiet) }
        guard level >= threshold, level == .error || !quiet else { return }
        writeStderr(message() + "\n")
    }

    /// Writes raw text to stderr (used by the progress bar for `\r` redraws).
    public static func writeStderr(_ text: String) {
        lock.withLock {
            var text = text
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { if errno == EINTR { continue }; return }
                    offset += n
                }
            }
        }
    }

    /// stderr is written unbuffered; this flushes stdout before the process exits.
    public static func flush() {
        fflush(stdout)
    }

    /// True when stderr is a terminal (progress bars then redraw in place).
    public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
