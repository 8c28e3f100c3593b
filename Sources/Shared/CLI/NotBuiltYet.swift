/// What a tool that exists in the package but whose stage is not implemented yet says when run:
/// a clear failure that names the issue that builds it, never a silent no-op.
public func notBuiltYet(_ tool: String, stage: String, issue: Int?) -> LFError {
    let when = issue.map { "arrives with issue #\($0)" } ?? "is planned after training (see ../shared/DESIGN.md)"
    return LFError("\(tool) is not built yet: \(stage) \(when)",
                   hint: "see the README for the stages that work today")
}
