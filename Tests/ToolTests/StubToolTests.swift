import Foundation
import Testing
import TestSupport

/// Every tool answers --help and --version; the stages not built yet say so and exit 1.
@Suite struct ToolConventionTests {
    static let tools = ["lf-extract", "lf-format", "lf-tokenize", "lf-train", "lf-merge", "lf-gguf", "lf-eval"]

    @Test(arguments: tools)
    func helpExitsZeroAndTeachesExitCodes(tool: String) throws {
        let r = try Tools.run(tool, ["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE:"))
        #expect(r.stdout.contains("Exit status:"))
    }

    @Test(arguments: tools)
    func versionPrints(tool: String) throws {
        let r = try Tools.run(tool, ["--version"])
        #expect(r.status == 0)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test(arguments: tools)
    func unknownFlagIsUsageError(tool: String) throws {
        let r = try Tools.run(tool, ["--no-such-flag"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--no-such-flag"))
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: [["lf-merge"]])
    func unbuiltStageSaysSo(command: [String]) throws {
        let r = try Tools.run(command[0], Array(command.dropFirst()))
        #expect(r.status == 1)
        #expect(r.stderr.contains("is not built yet"))
    }
}
