import ArgumentParser
import Foundation

/// The `main` every lf tool shares: parse, run, and turn the outcome into the documented exit status
/// with one message on stderr.
///
/// - help and `--version` (`CleanExit`) → 0
/// - argument-parser validation failures (its exit code 64) and `LFError`s with `.usage` → 2
/// - every other error → 1
public enum CommandMain {
    public static func run<C: ParsableCommand>(_ command: C.Type, arguments: [String]? = nil) -> Never {
        BLASKernelChoice.reexecIfMismatched()
        Interrupts.install()
        let status: ExitStatus
        do {
            var parsed = try command.parseAsRoot(arguments)
            try parsed.run()
            status = .success
        } catch {
            status = report(error, for: command)
        }
        Log.flush()
        exit(status.rawValue)
    }

    /// Prints the message for `error` (to stdout for help, to stderr otherwise) and returns the status.
    @discardableResult
    public static func report<C: ParsableCommand>(_ error: Error, for command: C.Type) -> ExitStatus {
        let tool = command.configuration.commandName ?? String(describing: command)
        if let error = error as? LFError {
            Log.error("\(tool): error: \(error.description)")
            return error.status
        }
        if let error = error as? ExitCode {
            // A command that chose its own exit code (for example `--check` modes) has already spoken.
            return error.rawValue == 0 ? .success : (error.rawValue == ExitStatus.usage.rawValue ? .usage : .failure)
        }
        let code = command.exitCode(for: error)
        let message = command.fullMessage(for: error)
        if code == .success {
            // --help and --version go to stdout, like every Unix tool.
            if !message.isEmpty { print(message) }
            return .success
        }
        if code == .validationFailure {
            Log.error(message)
            return .usage
        }
        Log.error("\(tool): error: \(message)")
        return .failure
    }
}
