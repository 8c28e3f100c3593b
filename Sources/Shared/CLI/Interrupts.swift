import Dispatch
import Foundation

/// SIGINT/SIGTERM handling shared by every tool.
///
/// Temporary outputs register themselves here; on a signal they are removed before the process
/// exits (130 for SIGINT, 143 for SIGTERM, as shells expect), so Ctrl-C never leaves a half-written
/// file, under its final name or a temporary one. A long job (lf-train) installs its own handler to
/// save a checkpoint first.
public enum Interrupts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var temporaries: [Int: String] = [:]
    nonisolated(unsafe) private static var nextToken = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var handler: ((Int32) -> Void)?

    /// Installs the signal sources once. Called by `CommandMain.run`.
    public static func install() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { received(sig) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Replaces the default behaviour (clean up, exit). The handler runs on a background thread; it
    /// should make the work stop, and `cleanUpAndExit` ends the process when it is done.
    public static func setHandler(_ newHandler: ((Int32) -> Void)?) {
        lock.withLock { handler = newHandler }
    }

    /// Registers a path to delete (file or directory tree) if the process is interrupted.
    public static func registerTemporary(_ path: String) -> Int {
        lock.withLock {
            nextToken += 1
            temporaries[nextToken] = path
            return nextToken
        }
    }

    public static func unregisterTemporary(_ token: Int) {
        _ = lock.withLock { temporaries.removeValue(forKey: token) }
    }

    private static func received(_ sig: Int32) {
        if let handler = lock.withLock({ handler }) {
            handler(sig)
        } else {
            cleanUpAndExit(signal: sig)
        }
    }

    /// Deletes every registered temporary and exits with 128 + signal.
    public static func cleanUpAndExit(signal sig: Int32) -> Never {
        let paths = lock.withLock { Array(temporaries.values) }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
        Log.writeStderr("\ninterrupted (signal \(sig)); temporary outputs removed\n")
        exit(128 + sig)
    }
}
