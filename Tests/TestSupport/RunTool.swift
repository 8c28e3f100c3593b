import Foundation

/// The result of running one of the built lf binaries.
public struct ToolResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutData: Data
}

/// Runs the built tools (`lf-gguf`, …) from the build directory the tests run in.
public enum Tools {
    /// The directory holding the test bundle, which is where SwiftPM puts the executables too.
    public static let binDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // On Linux the test runner is `.build/<triple>/debug/lfPackageTests.xctest`.
        url.deleteLastPathComponent()
        return url
    }()

    public static func path(_ tool: String) -> String {
        binDirectory.appendingPathComponent(tool).path
    }

    /// Runs `tool args…` with `stdin` as its standard input and waits for it.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(tool))
        process.arguments = arguments
        if let environment { process.environment = environment }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        // Drain both pipes on background threads so a chatty tool cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let out = Box(), err = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { out.data = outPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err.data = errPipe.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { inPipe.fileHandleForWriting.write(stdin) }
        try? inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return ToolResult(status: process.terminationStatus,
                          stdout: String(decoding: out.data, as: UTF8.self),
                          stderr: String(decoding: err.data, as: UTF8.self),
                          stdoutData: out.data)
    }
}
