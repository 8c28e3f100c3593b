import Foundation
import Shared
import Testing

/// Helpers for the shard tests.
enum ShardFixture {
    /// The LFError thrown by `body`, or nil (recorded as a failure) when it does not throw one.
    static func error(sourceLocation: Testing.SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> LFError? {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return nil
        } catch let error as LFError {
            return error
        } catch {
            Issue.record("expected an LFError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
