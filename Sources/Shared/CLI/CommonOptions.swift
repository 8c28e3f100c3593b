import ArgumentParser

/// `--quiet`, `--verbose` and `--json`, shared by every tool (`@OptionGroup var common: CommonOptions`).
public struct CommonOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors on stderr (no progress, no info lines).")
    public var quiet = false

    @Flag(name: .long, help: "Print debugging detail on stderr.")
    public var verbose = false

    @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout instead of text.")
    public var json = false

    public init() {}

    /// Applies `--quiet`/`--verbose` to the shared logger. Call first thing in `run()`.
    public func apply() {
        Log.quiet = quiet
        Log.threshold = verbose ? .debug : .info
    }

    public func validate() throws {
        if quiet && verbose {
            throw ValidationError("--quiet and --verbose cannot be used together")
        }
    }
}
